# Reference values of tests/test_bayes.py: bayesmeta 3.4 (R 4.2.2, metafor 3.8-1).
# Run: Rscript tests/reference/bayesmeta.R > tests/reference/bayesmeta.csv
# delta and epsilon are tightened from bayesmeta's defaults (0.01, 1e-4), which leave the
# quantiles of mu a relative 1e-3 off (docs/methods.md).
suppressMessages({library(bayesmeta); library(metafor)})
data(dat.pritz1997)
sets <- list(review = list(x = c(2, 13, 3), n = c(3, 25, 3)),
             review_cs = list(x = c(2, 13, 3, 4), n = c(3, 25, 3, 4)),
             resolution = list(x = c(2, 13), n = c(3, 25)),
             pritz = list(x = dat.pritz1997$xi, n = dat.pritz1997$ni))
cat("set,tau_scale,mu_sd,estimate,ci_low,ci_high,pi_low,pi_high,tau,tau_ci_low,",
    "tau_ci_high,prob_above\n", sep = "")
for (name in names(sets)) for (s in c(0.5, 1)) for (musd in c(NA, 2)) {
  if (!is.na(musd) && !(name %in% c("review", "pritz"))) next
  es <- escalc(measure = "PLO", xi = sets[[name]]$x, ni = sets[[name]]$n)
  bm <- bayesmeta(y = es$yi, sigma = sqrt(es$vi),
                  tau.prior = function(t) dhalfnormal(t, scale = s),
                  mu.prior.mean = ifelse(is.na(musd), NA, 0), mu.prior.sd = musd,
                  interval.type = "central", delta = 1e-5, epsilon = 1e-7)
  v <- c(plogis(bm$qposterior(mu.p = c(0.5, 0.025, 0.975))),
         plogis(bm$qposterior(mu.p = c(0.025, 0.975), predict = TRUE)),
         bm$qposterior(tau.p = c(0.5, 0.025, 0.975)), 1 - bm$pposterior(mu = qlogis(0.5)))
  cat(name, s, ifelse(is.na(musd), "", musd), sprintf("%.12g", v), sep = ",")
  cat("\n")
}
