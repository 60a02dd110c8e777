"""Experiment statistics and off-policy evaluation: pure functions over counts and sums.

numpy and the standard library only (no scipy), so the online service and training
share them. One concept per module:

- `special`: regularized incomplete gamma and beta functions (continued fractions)
- `distributions`: normal, Student t and chi-square tails and quantiles built on them
- `interval`: a 95 % interval and p-value from an estimate and its standard error,
  fixed horizon (t / normal) or sequential (`sequential`: confidence sequences)
- `summaries`: the sufficient statistics of a variant from per-customer values
- `proportions`: the two-proportion z test for rates
- `means`: Welch's t with the delta method for the lift in means, with CUPED
- `srm`: the sample-ratio-mismatch chi-square check
- `fdr`: Benjamini-Hochberg across metrics
- `off_policy`: IPS, SNIPS and doubly robust estimates of a candidate policy's value

Results are the `msgspec.Struct`s of `contracts/statistics.py`, each naming the
method that produced it; docs/experiments.md ("Statistics") states the formulas.
"""
