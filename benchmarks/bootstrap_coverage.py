"""How often the summary's 95% interval of a mean final regret covers the true mean.

``compare`` gives each strategy's mean final regret a percentile-bootstrap interval over its
runs (:func:`analysis.stats.bootstrap_ci`). Final regrets are skewed and often exactly 0 (a
run that found the best cell); on such data the percentile bootstrap is known to be narrow
with few runs. This simulates it: regrets that are 0 with probability ``--zeros`` and
exponential otherwise (mean ``--scale``), ``--repeats`` samples of each size, and prints the
share of intervals that contain the true mean, for the percentile interval the summary uses
and for BCa.

    python benchmarks/bootstrap_coverage.py                  # sizes 10, 30, 100; ~1 min
    python benchmarks/bootstrap_coverage.py --zeros 0.5 --repeats 400
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy import stats

from analysis.stats import bootstrap_ci


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sizes", default="10,30,100")
    p.add_argument("--zeros", type=float, default=0.3, help="share of runs with regret 0")
    p.add_argument("--scale", type=float, default=0.01, help="mean of the other regrets")
    p.add_argument("--repeats", type=int, default=200)
    args = p.parse_args()
    truth = (1 - args.zeros) * args.scale
    rng = np.random.default_rng(0)
    print(
        f"regret 0 with probability {args.zeros}, else exponential with mean {args.scale}: "
        f"true mean {truth:.4f}; {args.repeats} samples per size, 95% intervals"
    )
    print(f"{'runs':>6} {'percentile (summary)':>22} {'BCa':>8}")
    for n in (int(v) for v in args.sizes.split(",")):
        hits = {"percentile": 0, "BCa": 0}
        for _ in range(args.repeats):
            x = np.where(rng.random(n) < args.zeros, 0.0, rng.exponential(args.scale, n))
            lo, hi = bootstrap_ci(x)
            hits["percentile"] += lo <= truth <= hi
            bca = stats.bootstrap((x,), np.mean, n_resamples=2000, method="BCa", rng=rng)
            ci = bca.confidence_interval
            hits["BCa"] += ci.low <= truth <= ci.high
        print(
            f"{n:>6} {hits['percentile'] / args.repeats:>22.1%} {hits['BCa'] / args.repeats:>8.1%}"
        )


if __name__ == "__main__":
    main()
