"""Marketing-mix modelling for scenario planning (issue 7), as pure functions: weekly arrays in,
frozen results out. Nothing here touches the database, the request or Django settings, so the
Celery task, the pages, the tests and the benchmark all call the same code.

The Django side turns rollups into one weekly series per channel, calls ``fit`` in a task and keeps
``FitResult.to_dict()`` (plain JSON); pages and the API rebuild it with ``FitResult.from_dict`` and
call ``optimise``, ``evaluate_plan`` and ``backsolve``.

The model, per week t::

    outcome_t = baseline_t + Σ_c β_c · hill(adstock(spend_c)_t; K_c, s_c) + noise

- **Baseline**: intercept, linear trend (per year) and yearly seasonality — three Fourier pairs on the
  calendar date (period 365.25 days), so a 53-week year does not shift the season. With less than two
  years of history the seasonality is left out and a warning says so.
- **Adstock** (carry-over) is geometric and *normalised*: the weights of a week and its successors
  sum to one, so a steady weekly spend S adstocks to S. The half-saturation K is therefore a weekly
  spend, and the response of a steady weekly spend is β·hill(S; K, s) whatever the decay. That
  steady-state curve is the one shown to users and optimised (an approximation for a 13-week plan:
  with the largest decay allowed, 0.9, a week's effect is 75 % spent after 13 weeks).
- **Saturation** is Hill: S^s / (S^s + K^s). With s > 1 the curve is S-shaped (a threshold before
  it pays), which the optimiser handles (see ``optimise``).
- **Controls** (optional): non-media drivers such as promotions, competitor activity or holiday
  flags join the baseline linearly. On the Robyn data, competitor sales turn a model that loses to
  the naive forecast into one with a third of its error.
- **Fit**: nonlinear least squares over decay ∈ [0, 0.9], K ∈ [0.5, 3] × the channel's typical
  weekly spend (the mean of its weeks with spend), s ∈ [0.5, 3], β ≥ 0 and a free baseline, by a
  projected Levenberg–Marquardt with an analytic Jacobian (``_Problem.solve`` says why not scipy's
  ``least_squares``). Weak penalties pull K towards the typical spend and s towards 1.5: the data
  rarely pins the shape down, and without them the fit drifts to the bounds. Each start's linear
  part comes from non-negative least squares given the nonlinear one (variable projection); three
  fixed starts and one drawn from ``seed``, the best wins. The last ``holdout_weeks`` are held out
  to score the model against a naive forecast, then the model is refitted on every week.
- **Uncertainty**: moving-block bootstrap of the residuals (8-week blocks keep their
  autocorrelation); each draw refits every parameter with a few steps from the point estimate.
  Bands are the 5th–95th percentiles of the draws: they cover the parameters' noise given the
  model's form, not the form being wrong, and they run narrow — on simulated data the true marginal
  return fell inside the 90 % band for about three channels in four. The held-out score is the
  check on the form.
- **Speed**: 10 channels × 156 weeks with 200 draws fit in 1.5–2 s on a busy 2-core machine.

Floats are used inside the model; amounts handed out (spend, budgets, allocations) are Decimals in
whole cents, rounded half away from zero like ``mops.money.money``.

Modules: ``common`` (constants, errors, bands, cents), ``transforms`` (adstock, Hill, the baseline's
columns), ``results`` (``ChannelFit``, ``Holdout``, ``FitResult``), ``fit``, ``optimise`` (and
``evaluate_plan``), ``backsolve`` and ``simulate``. Import from the module that defines a name,
e.g. ``from metrics.scenarios.mmm.fit import fit``.
"""
