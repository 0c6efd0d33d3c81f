"""Run notebooks reproducibly with papermill.

``python -m helpers.pipeline.notebooks run notebooks/01_clean.ipynb`` executes a notebook in place
(the default run, whose outputs are committed); ``--output-dir DIR`` sends everything
elsewhere (a run on other data); ``-p name value`` sets parameters.

With ``--output-dir DIR`` *every* file goes under ``DIR``: the executed notebooks, and the
folders that notebooks write (:data:`OUTPUT_FOLDERS`: ``processed_dir`` to
``DIR/processed``, ``tables_dir`` to ``DIR/tables``, ``figures_dir`` to ``DIR/figures``; and
:data:`OUTPUT_FILES`: ``summary_path`` to ``DIR/summary.json``)
unless given with ``-p``; ``--report`` is taken relative to ``DIR``. Within one run, a
notebook reads what an earlier one wrote there: after ``01_clean`` has written
``DIR/processed``, ``02_prepost``'s ``measurements_path`` (by default under
``data/processed``) points to ``DIR/processed`` too. The injected paths are relative (to
the project, or to a ``DIR`` outside it, where the kernel then runs: :func:`run_folder`).

What the runner guarantees:

- **Deterministic files.** papermill stamps start/end times, durations, paths and random
  ids into the notebook; :func:`normalise` removes them and numbers cells, so an unchanged
  checkout re-executes to the same bytes and ``git status`` stays clean.
- **Atomic.** The notebook executes into a temporary file that is renamed into place only
  on success; a failed or interrupted run leaves the previous notebook untouched.
- **One-line errors.** A cell that raises ends the run with ``error: <message>`` (the
  exception's own message, e.g. an :class:`~helpers.errors.InputError` naming file, row and
  column) and exit status 1, not a kernel traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

# Deliberately light: `make` starts the Jupyter kernel before anything heavy (nbformat,
# papermill, pandas) is imported here, so that the kernel's start-up overlaps ours.
from helpers.paths import ROOT, display_path, resolve

if TYPE_CHECKING:
    import nbformat

# Kept from papermill's output: the cell tags (parameters, injected-parameters).
_VOLATILE_NOTEBOOK_METADATA = ("papermill", "widgets")
_VOLATILE_CELL_METADATA = ("papermill", "execution", "collapsed", "scrolled")


# Parameters that name a folder a notebook writes, and their sub-folder under --output-dir.
OUTPUT_FOLDERS = {"processed_dir": "processed", "tables_dir": "tables",
                  "figures_dir": "figures"}
#: Files that notebooks write outside those folders, and where ``--output-dir`` puts them.
OUTPUT_FILES = {"summary_path": "summary.json"}


class NotebookError(RuntimeError):
    """A notebook cell raised; the message is the cell's exception, on one line."""


def ran_in_order(nb: nbformat.NotebookNode) -> bool:
    """Whether the cells that ran did so top to bottom (or none ran): their execution
    counts increase down the notebook.

    Examples
    --------
    >>> import nbformat
    >>> cells = [nbformat.v4.new_code_cell(execution_count=c) for c in (3, None, 7)]
    >>> ran_in_order(nbformat.v4.new_notebook(cells=cells))
    True
    >>> cells[0].execution_count = 9  # the first cell re-run after the others
    >>> ran_in_order(nbformat.v4.new_notebook(cells=cells))
    False
    """
    counts = [cell.get("execution_count") for cell in nb.cells if cell.cell_type == "code"]
    counts = [count for count in counts if count is not None]
    return all(earlier < later for earlier, later in zip(counts, counts[1:]))


def normalise(nb: nbformat.NotebookNode, kernelspec: Mapping | None = None, *,
              renumber: bool = True) -> nbformat.NotebookNode:
    """Strip run-specific metadata from an executed notebook, in place.

    Parameters
    ----------
    nb : NotebookNode
        Executed notebook.
    kernelspec : mapping, optional
        Kernel spec to record (the source notebook's), whatever kernel ran it.
    renumber : bool, default True
        Renumber the execution counts 1, 2, ...; ``False`` keeps them (a notebook whose
        cells ran out of order keeps the evidence).

    Returns
    -------
    NotebookNode
        ``nb``, with papermill/execution metadata removed, cell ids ``cell-00``,
        ``cell-01``..., execution counts 1, 2, ... per notebook, and only the language name
        kept in ``language_info`` (its version differs between machines).
    """
    for key in _VOLATILE_NOTEBOOK_METADATA:
        nb.metadata.pop(key, None)
    if kernelspec is not None:
        nb.metadata["kernelspec"] = dict(kernelspec)
    language = nb.metadata.get("language_info", {}).get("name", "python")
    nb.metadata["language_info"] = {"name": language}
    count = 0
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{index:02d}"
        for key in _VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code" and renumber:
            # Counts restart at 1 per notebook, whether its kernel was fresh or shared.
            count += 1
            if cell.get("execution_count") is not None:
                cell["execution_count"] = count
            for output in cell.get("outputs", []):
                if "execution_count" in output:
                    output["execution_count"] = count
        for output in cell.get("outputs", []) if cell.cell_type == "code" else ():
            output.get("metadata", {}).pop("execution", None)
    return nb


# --- JupyterLab: saving a notebook goes through the same normaliser -------------------
#
# etc/jupyter/jupyter_server_config.json (used by `make lab`) installs these two hooks.
# Lab fills in the kernel's full language_info (Python version, codemirror mode...) and
# execution metadata when it saves; normalising on save keeps a notebook that was only
# looked at byte-identical, and the post-save hook gives it back its old modification
# time, so that `make` does not see it as edited either.

_UNCHANGED_ON_SAVE: dict[str, tuple[bytes, int]] = {}


def pre_save_hook(model: dict, path: str, contents_manager, **kwargs) -> None:
    """Jupyter server hook: normalise a notebook before it is written.

    Parameters
    ----------
    model : dict
        The contents model being saved; for a notebook, ``model["content"]`` is replaced
        by its :func:`normalise`-d form.
    path : str
        API path of the file.
    contents_manager : ContentsManager
        The server's contents manager (used to find the file on disk).
    """
    if model.get("type") != "notebook" or "content" not in model:
        return
    import nbformat

    nb = nbformat.from_dict(model["content"])
    in_order = ran_in_order(nb)
    if not in_order:
        # Kept as they ran, so that git diff and nbval show it; said in the server's log
        # (a save hook cannot speak to the Lab page).
        log = getattr(contents_manager, "log", None)
        if log is not None:
            log.warning("%s: cells ran out of order; execution counts kept as they ran "
                        "(run all from the top, then save, to normalise)", path)
    model["content"] = normalise(nb, renumber=in_order)
    os_path = Path(contents_manager._get_os_path(path))
    if os_path.is_file():
        _UNCHANGED_ON_SAVE[str(os_path)] = (os_path.read_bytes(), os_path.stat().st_mtime_ns)


def post_save_hook(model: dict, os_path: str, contents_manager, **kwargs) -> None:
    """Jupyter server hook: a save that changed no byte keeps the old modification time."""
    before = _UNCHANGED_ON_SAVE.pop(str(os_path), None)
    if before is not None and Path(os_path).read_bytes() == before[0]:
        os.utime(os_path, ns=(before[1], before[1]))


def _default_path(spec: Mapping) -> Path | None:
    """The default of a declared parameter, resolved, when it is a path string."""
    import ast

    try:
        value = ast.literal_eval(spec.get("default", ""))
    except (ValueError, SyntaxError):
        return None
    return resolve(value) if isinstance(value, str) and value else None


def redirect_outputs(declared: Mapping[str, Mapping], parameters: Mapping[str, object],
                     output_dir: str | Path, written: dict[Path, Path]) -> dict:
    """Point a notebook's output folders, and inputs an earlier notebook wrote, at DIR.

    Parameters
    ----------
    declared : mapping
        The notebook's parameters, as :func:`papermill.inspect_notebook` gives them.
    parameters : mapping
        Parameters given explicitly; these are never changed.
    output_dir : str or Path
        The run's output folder.
    written : dict
        Default folder -> redirected folder, for the folders written so far in this
        run; updated with this notebook's.

    Returns
    -------
    dict
        ``parameters`` completed with the redirected folders and paths.
    """
    out = dict(parameters)
    folder = resolve(output_dir)
    base = run_folder(output_dir)
    for name, sub in OUTPUT_FOLDERS.items():
        if name in declared and name not in parameters:
            default = _default_path(declared[name])
            out[name] = (folder / sub).relative_to(base).as_posix()
            if default is not None:
                written[default] = folder / sub
    for name, file in OUTPUT_FILES.items():
        if name in declared and name not in parameters:
            out[name] = (folder / file).relative_to(base).as_posix()
    for name, spec in declared.items():
        if name in out:
            continue
        default = _default_path(spec)
        for original, moved in written.items():
            if default is not None and original in default.parents:
                out[name] = (moved / default.relative_to(original)).relative_to(base).as_posix()
    return out


def run_folder(output_dir: str | Path | None) -> Path:
    """The kernel's working folder, which the injected paths are relative to.

    The project root, unless ``output_dir`` lies outside the project: then the output
    folder itself, so that the notebooks are :func:`~helpers.paths.detached` there (they
    write into it, read what an earlier notebook wrote there, and the rest from the
    project), and no executed notebook names a folder of this machine
    (``tables_dir = "tables"``, not ``/home/.../tables``).
    """
    if output_dir is None:
        return ROOT
    folder = resolve(output_dir).resolve()
    if folder == ROOT or ROOT in folder.parents:
        return ROOT
    folder.mkdir(parents=True, exist_ok=True)  # the kernel starts in it
    return folder


def _one_line(text: str) -> str:
    import re

    text = re.sub(r"\x1b\[[0-9;]*m", "", str(text))  # ANSI colours from IPython
    return " ".join(text.split())


def run_notebook(notebook: str | Path, *, output_dir: str | Path | None = None,
                 parameters: Mapping[str, object] | None = None,
                 kernel_name: str = "python3", quiet: bool = False,
                 kernel: SharedKernel | None = None, mtime: float | None = None,
                 written: dict[Path, Path] | None = None,
                 drop_tags: Collection[str] = ()) -> Path:
    """Execute ``notebook`` with papermill and write it atomically, normalised.

    Parameters
    ----------
    notebook : str or Path
        Source notebook (relative paths from the project root).
    output_dir : str or Path, optional
        Folder for the executed copy and, unless given in ``parameters``, for every
        folder the notebook writes (:func:`redirect_outputs`); default: in place.
    parameters : mapping, optional
        Values for the notebook's ``parameters`` cell.
    kernel_name : str
        Jupyter kernel; ``"python3"`` is the interpreter running this function, so the
        notebook sees the same environment.
    quiet : bool
        Do not print progress.
    kernel : SharedKernel, optional
        Run in this already-started kernel (its namespace is reset first) instead of a
        fresh one; see :func:`run_notebooks`.
    mtime : float, optional
        Modification time given to an in-place notebook; default: the start of this run.
    written : dict, optional
        Folders redirected by earlier notebooks of the same run (see
        :func:`redirect_outputs`); updated in place.
    drop_tags : collection of str
        Cells carrying any of these tags are left out of the executed copy (the source
        keeps them): ``"paper"`` marks prose about the paper's four patients, which a
        report on another cohort must not contain.

    Returns
    -------
    Path
        The executed notebook.

    Raises
    ------
    NotebookError
        When a cell raises; the previous output file is left untouched.
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from helpers.io import write_text

    _kernel_environment()
    source = resolve(notebook)
    target = resolve(output_dir) / source.name if output_dir is not None else source
    target.parent.mkdir(parents=True, exist_ok=True)
    kernelspec = nbformat.read(source, as_version=4).metadata.get("kernelspec")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.running.ipynb")
    run_source = source
    if drop_tags:
        # Executed from a filtered copy beside the output, removed with the other
        # temporary file; cells keep their ids, so outputs still match the source.
        run_source = target.with_name(f".{target.name}.{os.getpid()}.source.ipynb")
        nb = nbformat.read(source, as_version=4)
        nb.cells = [cell for cell in nb.cells
                    if not set(cell.get("metadata", {}).get("tags", ())) & set(drop_tags)]
        write_text(nbformat.writes(nb) + "\n", run_source)
    started = time.perf_counter()
    started_wall = time.time()
    if not quiet:
        print(f"running {display_path(source)} -> {display_path(target)}", file=sys.stderr,
              flush=True)
    # Only the parameters this notebook declares: a batch shares one parameter set.
    declared = papermill.inspect_notebook(str(source))
    parameters = {k: v for k, v in (parameters or {}).items() if k in declared}
    if output_dir is not None:
        parameters = redirect_outputs(declared, parameters, output_dir,
                                      {} if written is None else written)
    engine_options = {"extra_arguments": list(KERNEL_ARGS)}  # a fresh kernel's
    if kernel is not None:
        kernel.reset()
        engine_options = kernel.papermill_options()
    try:
        papermill.execute_notebook(
            str(run_source), str(tmp), parameters=dict(parameters or {}), kernel_name=kernel_name,
            cwd=str(kernel.cwd if kernel is not None else run_folder(output_dir)), progress_bar=False, request_save_on_cell_execute=False,
            **engine_options,
        )
        nb = normalise(nbformat.read(tmp, as_version=4), kernelspec)
        # nbformat's own serialisation (sorted keys, indent 1), with a final newline.
        write_text(nbformat.writes(nb) + "\n", target)
        if target == source:
            # The notebook is both make's prerequisite and, executed, an output. Dating it
            # to the start of the run keeps it older than the files it wrote, so a second
            # `make` sees nothing stale.
            stamp = started_wall if mtime is None else mtime
            os.utime(target, (stamp, stamp))
    except PapermillExecutionError as error:
        raise NotebookError(f"{display_path(source)}: {_one_line(error.evalue)}") from None
    finally:
        for scratch in {tmp, run_source} - {source}:
            with contextlib.suppress(FileNotFoundError):
                scratch.unlink()
    if not quiet:
        print(f"  done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return target


_CONNECTED_ENGINE = "anifrolumab-connected"


async def _await_iopub(client, timeout: float) -> None:
    """Return once IOPub delivers to ``client``: ask for kernel info until the kernel's
    status message about that request arrives.

    A new subscriber misses what the kernel publishes before its subscription has
    arrived, so this is what "ready" means for a client. jupyter_client's
    ``wait_for_ready`` checks the same, then drains IOPub until 0.2 s pass in silence;
    nothing needs draining here, since nbclient ignores messages that answer other
    requests.
    """
    from queue import Empty

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        request = client.kernel_info()
        try:
            while True:
                message = await client.get_iopub_msg(timeout=0.1)
                if message["parent_header"].get("msg_id") == request:
                    return
        except Empty:
            continue  # not subscribed yet, or the kernel is busy: ask again
    raise NotebookError("the shared kernel's output channel did not answer in time")


def _register_connected_engine() -> None:
    """Register papermill's nbclient engine on an already-connected kernel client.

    nbclient connects a new client to the kernel for every notebook and waits until it is
    ready, draining IOPub until 0.2 s pass without a message: about 0.25 s per notebook,
    a tenth of what ``make`` spends above its floor. The shared kernel connects one client
    once (:meth:`SharedKernel.notebook_client`), and this engine hands it to nbclient, which
    then skips the connection. Everything else is papermill's own engine and client.
    """
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    class ConnectedClientEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False,
                                     stdout_file=None, stderr_file=None, start_timeout=60,
                                     execution_timeout=None, *, km, kc, **kwargs):
            client = PapermillNotebookClient(
                nb_man, km=km, kernel_name=kernel_name, log=logging.getLogger("papermill"),
                log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file,
                startup_timeout=start_timeout, timeout=execution_timeout)
            # nbclient's setup_kernel connects a client only when it has none.
            client.kc = kc
            return client.execute()

    papermill_engines.register(_CONNECTED_ENGINE, ConnectedClientEngine)


#: Environment every notebook kernel gets. Kernels inherit this process's environment; a
#: user's MPLBACKEND=Agg (or a test's) would turn every inline figure into a bare
#: "<Figure ...>" text and change the notebooks.
KERNEL_ENV = {"MPLBACKEND": "module://matplotlib_inline.backend_inline"}


#: Arguments of every kernel a batch run starts. IPython records each executed cell in
#: one SQLite file per user (~/.ipython); kernels running at the same time (a test suite
#: on two cores, make beside make analysis) contend for it, and IPython then prints its
#: "database is locked" or "Session/line number was not unique" into the cell that runs,
#: which changes the notebook. A batch run has no use for the history.
KERNEL_ARGS = ("--HistoryManager.enabled=False",)


def _kernel_environment() -> None:
    os.environ.update(KERNEL_ENV)


# Run in a shared kernel before each notebook: a clean namespace and the plotting state
# of a fresh kernel, so outputs do not depend on what ran before (nbval checks this by
# re-executing every notebook in a fresh kernel and comparing). `%reset` collects garbage,
# which with pandas, scipy and matplotlib imported means walking every object of those
# modules (0.1 s a notebook); gc.freeze() then sets what survived aside (the modules, which
# live as long as the kernel anyway), so the next collection walks only what the next
# notebook creates.
_RESET_CODE = """
get_ipython().run_line_magic("reset", "-f")
import gc as _gc, matplotlib as _mpl, matplotlib.pyplot as _plt, warnings as _warnings
import helpers.pipeline.notebooks as _runner
_plt.close("all")
if getattr(_runner, "_FRESH_RC", None) is None:
    _runner._FRESH_RC = dict(_mpl.rcParams)
    _runner._FRESH_FILTERS = list(_warnings.filters)
_mpl.rcParams.update(_runner._FRESH_RC)
_warnings.filters[:] = _runner._FRESH_FILTERS
_gc.freeze()
del _gc, _mpl, _plt, _warnings, _runner
"""

#: What the notebooks' helpers import at first use rather than with their modules: the
#: figure files' backends, Parquet (the table make analysis hands on) and jsonschema (the
#: site summary's check).
FIRST_USE_IMPORTS = ("matplotlib.backends.backend_agg", "matplotlib.backends.backend_svg",
                     "PIL.PngImagePlugin", "pyarrow.parquet", "jsonschema")

#: Imported once when the shared kernel of ``make`` starts; each notebook then finds them
#: in sys.modules instead of paying ~3 s of imports per notebook. Every module the
#: notebooks import (tested), then :data:`FIRST_USE_IMPORTS`.
WARM_IMPORTS = ("pandas", "scipy.stats", "matplotlib.pyplot", "pandera.pandas",
                "helpers.data.paper_tables", "helpers.paired", "helpers.figures",
                "helpers.meta", "helpers.data.schema", "helpers.analysis.narrative",
                "helpers.analysis.planning", "helpers.analysis.review",
                "helpers.analysis.sites", "helpers.analysis.summary",
                "helpers.data.codebook", "helpers.data.patients", "helpers.data.reader",
                "helpers.displays", "helpers.io", "helpers.scores", "helpers.tables",
                "helpers.vocab", *FIRST_USE_IMPORTS)


class SharedKernel:
    """One Jupyter kernel that executes several notebooks in turn.

    Starting a kernel and importing pandas, scipy and matplotlib costs a few seconds per
    notebook, more than the analysis itself; a pipeline of notebooks pays it once. The
    kernel starts, and imports the heavy libraries, while this process goes on (for
    example importing papermill): :meth:`wait` collects it. Before each notebook the
    namespace is reset (``%reset -f``), figures are closed and matplotlib's settings and
    warning filters are restored to what a fresh kernel has.
    """

    def __init__(self, kernel_name: str = "python3", cwd: Path = ROOT,
                 warm_imports: Sequence[str] = WARM_IMPORTS):
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        self._run_sync = run_sync
        # IPC sockets: local only, and no "running over TCP without encryption" warning.
        # Their path must be absolute: a relative one is resolved in each process's own
        # folder, and the kernel runs in the project root while this process may run
        # anywhere (they would never meet, and the run would hang).
        self._sockets = tempfile.mkdtemp(prefix="anifrolumab-kernel-")
        self.manager = AsyncKernelManager(kernel_name=kernel_name, transport="ipc",
                                          ip=os.path.join(self._sockets, "ipc"))
        self.cwd = Path(cwd)
        run_sync(self.manager.start_kernel)(cwd=str(cwd), extra_arguments=list(KERNEL_ARGS))
        # One asynchronous client for the warm-up, the resets and every notebook:
        # jupyter_core runs all of this thread's coroutines (nbclient's too) on one event
        # loop, so papermill's nbclient can execute through it (notebook_client).
        self._client = self.manager.client()
        self._client.start_channels()
        self._client.allow_stdin = False  # as nbclient sets it: no input() in a batch run
        self._iopub_checked = False
        # Sent now, answered when the kernel is up: the imports overlap with our work.
        # jsonschema without the IRI grammar no check uses (skip_unused_format_checks).
        self._pending = self._client.execute(
            "from helpers.pipeline.notebooks import skip_unused_format_checks\n"
            "skip_unused_format_checks()\n"
            f"import {', '.join(warm_imports)}\n{_RESET_CODE}", store_history=False,
            silent=True)

    def wait(self, timeout: float = 180) -> None:
        """Wait for the warm-up (or the last reset) to finish; raise if it failed."""
        if self._pending is None:
            return
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise NotebookError("the shared kernel did not answer in time")
            reply = self._run_sync(self._client.get_shell_msg)(timeout=remaining)
            if reply["parent_header"].get("msg_id") == self._pending:
                break
        self._pending = None
        if reply["content"]["status"] != "ok":
            raise NotebookError(f"kernel set-up failed: {reply['content'].get('evalue')}")

    def notebook_client(self):
        """The asynchronous client that papermill's nbclient executes notebooks through.

        The kernel's own client, checked ready (IOPub subscribed) once, at the first call:
        nbclient filters every message by the request it answers, so what the warm-up,
        the resets or an earlier notebook left on the channels is ignored.
        """
        if not self._iopub_checked:
            self.wait()
            self._run_sync(_await_iopub)(self._client, timeout=60)
            self._iopub_checked = True
            _register_connected_engine()
        return self._client

    def papermill_options(self) -> dict[str, object]:
        """Keyword arguments for ``papermill.execute_notebook`` to run in this kernel."""
        return {"engine_name": _CONNECTED_ENGINE, "km": self.manager,
                "kc": self.notebook_client()}

    def reset(self) -> None:
        """Give the next notebook the state of a fresh kernel."""
        self.wait()
        self._pending = self._client.execute(_RESET_CODE, store_history=False, silent=True)
        self.wait()

    def shutdown(self) -> None:
        """Stop the kernel and remove its sockets."""
        try:
            self._client.stop_channels()
            self._run_sync(self.manager.shutdown_kernel)(now=True)
        finally:
            shutil.rmtree(self._sockets, ignore_errors=True)

    def __enter__(self) -> SharedKernel:
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()


def import_in_background(modules: Sequence[str]) -> threading.Thread:
    """Import ``modules`` in a daemon thread, for this process to find them loaded later.

    Worth it beside work that lets go of the interpreter (Arrow parsing a file). A module
    that fails to import is left alone: the import statement that needs it raises.
    """
    def load() -> None:
        for module in modules:
            with contextlib.suppress(Exception):
                importlib.import_module(module)

    thread = threading.Thread(target=load, name="imports", daemon=True)
    thread.start()
    return thread


def start_kernel(cwd: Path = ROOT, warm_imports: Sequence[str] = WARM_IMPORTS
                 ) -> SharedKernel:
    """A :class:`SharedKernel` for :func:`run_notebooks`, started now in ``cwd`` (with the
    kernels' environment), to overlap its start-up with other work; it imports
    ``warm_imports`` meanwhile."""
    _kernel_environment()
    return SharedKernel(cwd=cwd, warm_imports=warm_imports)


def run_notebooks(notebooks: Sequence[str | Path], *, output_dir: str | Path | None = None,
                  parameters: Mapping[str, object] | None = None, shared_kernel: bool = True,
                  quiet: bool = False, drop_tags: Collection[str] = (),
                  kernel: SharedKernel | None = None) -> list[Path]:
    """Execute notebooks in order, by default in one shared kernel.

    Parameters
    ----------
    notebooks : sequence of path
        Run in the order given; a failure stops the run (notebooks already executed keep
        their new outputs, the failed one and those after it are untouched).
    output_dir, parameters, quiet, drop_tags
        As in :func:`run_notebook`; each notebook receives the ``parameters`` that its
        ``parameters`` cell declares. A name no notebook declares is an error (a typo).
    shared_kernel : bool
        One kernel for all (fast); ``False`` starts a fresh kernel per notebook.
    kernel : SharedKernel, optional
        The shared kernel, already started (:func:`start_kernel`); it is shut down at
        the end as one started here would be.

    Returns
    -------
    list of Path
        The executed notebooks.

    Notes
    -----
    In-place notebooks are all dated to the start of the batch, so that every output
    they wrote is newer than every notebook and ``make`` sees nothing stale.

    The shared kernel is launched first: it starts and imports the scientific libraries
    on one core while this process imports papermill on the other.
    """
    _kernel_environment()
    batch_start = time.time()
    written = []
    if kernel is None and shared_kernel:
        kernel = start_kernel(run_folder(output_dir))
    try:
        import papermill

        declared = set()
        for notebook in notebooks:
            declared |= set(papermill.inspect_notebook(str(resolve(notebook))))
        unknown = sorted(set(parameters or {}) - declared)
        if unknown:
            raise NotebookError(f"unknown parameter(s) {unknown}; the notebooks declare "
                                f"{sorted(declared)}")
        redirected: dict[Path, Path] = {}
        for notebook in notebooks:
            written.append(run_notebook(notebook, output_dir=output_dir,
                                        parameters=parameters, quiet=quiet, kernel=kernel,
                                        mtime=batch_start, written=redirected,
                                        drop_tags=drop_tags))
    finally:
        if kernel is not None:
            kernel.shutdown()
    for path in written:
        if output_dir is None:
            os.utime(path, (batch_start, batch_start))
    return written


def _parse_value(text: str) -> object:
    """Read a ``-p`` value as JSON when it parses (numbers, booleans, lists), else text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def skip_unused_format_checks() -> None:
    """Keep jsonschema from compiling an IRI grammar that no notebook check uses.

    nbformat validates notebooks with jsonschema, which imports ``rfc3987_syntax`` when
    it is installed (JupyterLab's event system needs it, in the dev environment) and
    compiles its grammar at import: 1.5 s of the runner's 2 s start-up, for IRI format
    checks that the notebook schema never asks for. A ``None`` entry in ``sys.modules``
    makes that import fail, and jsonschema then leaves only those formats unchecked.
    Called by the command-line entry points and by a shared kernel's warm-up (before it
    imports jsonschema for the site summary's check), never on import, so a Jupyter
    server that loads the save hooks keeps its own checks.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m helpers.pipeline.notebooks run NB [NB ...] [options]``."""
    skip_unused_format_checks()
    parser = argparse.ArgumentParser(prog="python -m helpers.pipeline.notebooks",
                                     description="Execute notebooks reproducibly.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="execute notebooks with papermill")
    run.add_argument("notebooks", nargs="+", help="notebooks, run in the order given")
    run.add_argument("--output-dir", help="write everything here instead of in place: "
                     "executed notebooks, processed/, tables/, figures/ and the report")
    run.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                     metavar=("NAME", "VALUE"), help="set a parameter (value read as JSON)")
    run.add_argument("--quiet", action="store_true", help="no progress output")
    run.add_argument("--fresh-kernels", action="store_true",
                     help="start a fresh kernel per notebook instead of sharing one")
    run.add_argument("--report", metavar="HTML",
                     help="then write the HTML report of the executed notebooks here "
                     "(relative to --output-dir when given)")
    args = parser.parse_args(argv)
    parameters = {name: _parse_value(value) for name, value in args.parameter}
    try:
        executed = run_notebooks(args.notebooks, output_dir=args.output_dir,
                                 parameters=parameters, shared_kernel=not args.fresh_kernels,
                                 quiet=args.quiet)
        if args.report:
            from helpers.pipeline.report import build_report

            raw_dir = parameters.get("raw_dir", "data/raw")
            report = Path(args.report)
            if args.output_dir is not None and not report.is_absolute():
                report = resolve(args.output_dir) / report
            written = build_report(executed, report, raw_dir=raw_dir)
            if not args.quiet:
                print(f"wrote {display_path(written)}", file=sys.stderr)
    except NotebookError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; previous outputs are unchanged", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    from helpers.pipeline import exit_without_teardown

    exit_without_teardown(main())
