"""Fit and predict time of every registered predictor, and of the surrogate benchmark.

Prints, for each predictor, the median over ``--repeats`` fits of the wall time to fit on
``--train`` cells and to predict ``--test`` cells (features built beforehand), and its Kendall
τ on those test cells; then the time to fit a surrogate on 20% of the table and its query
throughput. Measured on a SYNTHETIC table unless ``--table`` is given.

    python benchmarks/predictor_speed.py
    python benchmarks/predictor_speed.py --table T.h5 --train 200
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from scipy import stats

import nasbench_sim
from predictors import PREDICTORS, create_predictor, target
from predictors.evaluate import candidate_pool
from predictors.surrogate import fit_surrogate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--table", default="synthetic", help="table path or 'synthetic[:SEED]'")
    ap.add_argument("--train", type=int, default=1000)
    ap.add_argument("--test", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--predictors", default=",".join(PREDICTORS.available()))
    args = ap.parse_args()

    bench = nasbench_sim.open(args.table)
    label = bench.source.describe()
    perm = np.random.default_rng(0).permutation(candidate_pool(bench))
    test, train = perm[: args.test], perm[args.test : args.test + args.train]
    y_train, y_test = target(bench, train), target(bench, test)
    print(
        f"{label}: fit on {len(train)} cells, predict {len(test)} cells, "
        f"median of {args.repeats} runs"
    )
    print(f"{'predictor':>10} {'fit (s)':>9} {'predict (ms)':>13} {'Kendall tau':>12}")
    for name in args.predictors.split(","):
        proto = create_predictor(name)
        X_train, X_test = proto.featurize(bench, train), proto.featurize(bench, test)
        fits, preds, taus = [], [], []
        for r in range(args.repeats):
            p = create_predictor(name, random_state=r)
            t0 = time.perf_counter()
            p.fit(X_train, y_train)
            t1 = time.perf_counter()
            pred = p.predict(X_test)
            t2 = time.perf_counter()
            fits.append(t1 - t0)
            preds.append(t2 - t1)
            taus.append(stats.kendalltau(pred, y_test).statistic)
        print(
            f"{name:>10} {statistics.median(fits):9.3f} {1e3 * statistics.median(preds):13.2f} "
            f"{statistics.median(taus):12.3f}"
        )

    t0 = time.perf_counter()
    sur = fit_surrogate(bench, 0.2, "xgb", seed=0)
    t1 = time.perf_counter()
    idx = np.random.default_rng(1).integers(bench.space.size, size=1_000_000)
    t2 = time.perf_counter()
    sur.query_many(idx, epochs=np.random.default_rng(2).integers(1, bench.n_epochs + 1, idx.size))
    t3 = time.perf_counter()
    print(
        f"surrogate (xgb, 20% of rows): fit {t1 - t0:.2f} s, held-out tau "
        f"{sur.fit_report.heldout_tau:.3f}, query_many {idx.size / (t3 - t2) / 1e6:.2f} M "
        "cells/s"
    )


if __name__ == "__main__":
    main()
