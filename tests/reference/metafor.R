# Reference values of tests/test_meta.py: metafor 3.8-1 (R 4.2.2; rma.glmm fits with lme4 1.1-31).
# Run: Rscript tests/reference/metafor.R   (writes the metafor_*.csv files beside this script)
# Every number is written with 17 significant digits (%.17g), i.e. the exact double. Files with
# a `study` column hold one row per study, numbered from 1 (in metafor_leave1out.csv, the study
# left out); the others one row per fit.
# Iterations are run beyond metafor's and lme4's defaults, which stop short: REML to
# threshold = 1e-12 (the default 1e-5 leaves tau2 about 2e-6 off), lme4's bobyqa to
# rhoend = 1e-12 (its default leaves tau2 about 1e-5 off), the Q-profile interval of tau2 to
# tol = 1e-12 (the default stops about 1e-4 short) with tau2.max = 1e4 (the default cap, 100,
# is below the bound of two studies).
suppressMessages(library(metafor))
here <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f) == 1) dirname(f) else "tests/reference"
})
save <- function(rows, name) {  # rows: a list of data frames, bound and written as one table
  d <- do.call(rbind, rows)
  num <- vapply(d, is.double, NA)
  d[num] <- lapply(d[num], sprintf, fmt = "%.17g")
  write.csv(d, file.path(here, sprintf("metafor_%s.csv", name)), quote = FALSE,
            row.names = FALSE)
}
sets <- list(
  review3 = list(x = c(2, 13, 3), n = c(3, 25, 3)),
  review4 = list(x = c(2, 13, 3, 4), n = c(3, 25, 3, 4)),
  resolution2 = list(x = c(2, 13), n = c(3, 25)),
  pritz1997 = list(x = dat.pritz1997$xi, n = dat.pritz1997$ni),
  k1 = list(x = 3, n = 10),
  all_zero = list(x = c(0, 0, 0), n = c(5, 10, 20)),
  identical = list(x = c(3, 3, 3), n = c(10, 10, 10)),
  bcg_treated = list(x = dat.bcg$tpos, n = dat.bcg$tpos + dat.bcg$tneg))
cases <- c("review3", "review4", "pritz1997", "k1", "all_zero", "identical")
label <- c(PLO = "logit", PFT = "ft")
ctl <- list(threshold = 1e-12, maxiter = 10000)
back <- function(dat, meas, n, ...)  # per study: own n for Freeman-Tukey
  if (meas == "PLO") summary(dat, transf = transf.ilogit, ...) else
    summary(dat, transf = transf.ipft, ni = n, ...)
pred <- function(res, meas, n)  # pooled: harmonic mean of n for Freeman-Tukey
  if (meas == "PLO") predict(res, transf = transf.ilogit) else
    predict(res, transf = transf.ipft.hm, targs = list(ni = n))
pooled <- function(res, p) data.frame(  # FE models have no PI in predict(): it is the CI
  estimate = p$pred, ci_low = p$ci.lb, ci_high = p$ci.ub,
  pi_low = if (is.null(p$pi.lb)) p$ci.lb else p$pi.lb,
  pi_high = if (is.null(p$pi.ub)) p$ci.ub else p$pi.ub,
  mu = res$b[1], se = res$se, tau2 = res$tau2, i2 = res$I2, h2 = res$H2)

# Per study (escalc and its summary) and pooled (rma, predict) for FE, DL and REML.
studies <- weights <- fits <- list()
for (cn in cases) for (meas in names(label)) {
  x <- sets[[cn]]$x; n <- sets[[cn]]$n
  dat <- escalc(measure = meas, xi = x, ni = n)
  s <- back(dat, meas, n)
  studies[[length(studies) + 1]] <- data.frame(
    case = cn, transform = label[[meas]], study = seq_along(x), yi = c(dat$yi),
    vi = c(dat$vi), proportion = c(s$yi), ci_low = c(s$ci.lb), ci_high = c(s$ci.ub))
  for (meth in c("FE", "DL", "REML")) {
    res <- rma(yi, vi, data = dat, method = meth, control = ctl)
    key <- data.frame(case = cn, transform = label[[meas]], method = meth)
    weights[[length(weights) + 1]] <- cbind(key, study = seq_along(x),
                                            weight = unname(weights(res)))
    fits[[length(fits) + 1]] <- cbind(key, pooled(res, pred(res, meas, n)),
                                      q = res$QE, q_p_value = res$QEp)
  }
}
save(studies, "studies")
save(weights, "weights")
save(fits, "pooled")

# The binomial-normal GLMM (rma.glmm, ML) on the logit.
glmm <- list()
for (cn in c("review3", "review4", "pritz1997")) {
  x <- sets[[cn]]$x; n <- sets[[cn]]$n
  res <- rma.glmm(measure = "PLO", xi = x, ni = n, method = "ML", control = list(
    glmerCtrl = list(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5))))
  glmm[[cn]] <- cbind(data.frame(case = cn), pooled(res, pred(res, "PLO", n)),
                      q = res$QE.LRT, q_p_value = res$QEp.LRT)
}
save(glmm, "glmm")

# Clopper-Pearson intervals (binom.test).
cp <- list()
for (cn in c("review4", "all_zero")) {
  x <- sets[[cn]]$x; n <- sets[[cn]]$n
  ci <- sapply(seq_along(x), function(i) binom.test(x[i], n[i])$conf.int)
  cp[[cn]] <- data.frame(case = cn, study = seq_along(x), cp_low = ci[1, ], cp_high = ci[2, ])
}
save(cp, "clopper_pearson")

# level = 90 everywhere: review4, DL.
level_studies <- level_fits <- list()
for (meas in names(label)) {
  x <- sets$review4$x; n <- sets$review4$n
  dat <- escalc(measure = meas, xi = x, ni = n)
  s <- back(dat, meas, n, level = 90)
  p <- pred(rma(yi, vi, data = dat, method = "DL", level = 90), meas, n)
  level_studies[[meas]] <- data.frame(transform = label[[meas]], study = seq_along(x),
                                      study_ci_low = c(s$ci.lb), study_ci_high = c(s$ci.ub))
  level_fits[[meas]] <- data.frame(transform = label[[meas]], ci_low = p$ci.lb,
                                   ci_high = p$ci.ub, pi_low = p$pi.lb, pi_high = p$pi.ub)
}
save(level_studies, "level90_studies")
save(level_fits, "level90")

# test = "z" / "knha" / "t" (rma + predict) and the Q-profile intervals of tau2 and I^2.
tests <- list()
for (nm in c("review3", "review4", "resolution2", "pritz1997", "bcg_treated"))
  for (tr in names(label)) for (me in c("DL", "REML")) for (te in c("z", "knha", "t")) {
    s <- sets[[nm]]
    dat <- escalc(measure = tr, xi = s$x, ni = s$n)
    fit <- rma(yi, vi, data = dat, method = me, test = te, control = ctl)
    p <- pred(fit, tr, s$n)
    ci <- confint(fit, control = list(tol = 1e-12, tau2.max = 1e4))$random
    tests[[length(tests) + 1]] <- data.frame(
      case = nm, transform = label[[tr]], method = me, test = te, estimate = p$pred,
      ci_low = p$ci.lb, ci_high = p$ci.ub, pi_low = p$pi.lb, pi_high = p$pi.ub,
      tau2 = fit$tau2, tau2_ci_low = ci["tau^2", "ci.lb"], tau2_ci_high = ci["tau^2", "ci.ub"],
      i2_ci_low = ci["I^2(%)", "ci.lb"], i2_ci_high = ci["I^2(%)", "ci.ub"])
  }
save(tests, "tests")

# Leave-one-out: leave1out for the logit; explicit refits for Freeman-Tukey, so that each is
# back-transformed with the harmonic mean n of the studies left (what leave1out computes,
# with the subset's own ni).
loo <- list()
for (nm in c("review4", "pritz1997")) for (me in c("DL", "REML")) for (te in c("z", "knha")) {
  s <- sets[[nm]]
  dat <- escalc(measure = "PLO", xi = s$x, ni = s$n)
  l <- leave1out(rma(yi, vi, data = dat, method = me, test = te, control = ctl),
                 transf = transf.ilogit)
  loo[[length(loo) + 1]] <- data.frame(
    case = nm, transform = "logit", method = me, test = te, study = seq_along(s$x),
    estimate = l$estimate, ci_low = l$ci.lb, ci_high = l$ci.ub, tau2 = l$tau2, i2 = l$I2)
  dat <- escalc(measure = "PFT", xi = s$x, ni = s$n)
  for (i in seq_along(s$x)) {
    fit <- rma(yi, vi, data = dat[-i, ], method = me, test = te, control = ctl)
    p <- predict(fit, transf = transf.ipft.hm, targs = list(ni = s$n[-i]))
    loo[[length(loo) + 1]] <- data.frame(
      case = nm, transform = "ft", method = me, test = te, study = i, estimate = p$pred,
      ci_low = p$ci.lb, ci_high = p$ci.ub, tau2 = fit$tau2, i2 = fit$I2)
  }
}
save(loo, "leave1out")
