"""A surrogate benchmark: the Benchmark interface answered by predictors fitted on part of a
table. The benchmark and its file format live in :mod:`nasbench_sim.bench.surrogate` (reading a
surrogate needs no predictor); this package fits it and re-exports those names.

How :func:`fit_surrogate` builds it from a ``fraction`` of a table's rows:

* **Mean curves.** Each fitted row's seed-mean curves of ``train_loss``, ``train_acc``,
  ``valid_loss`` and ``valid_acc`` are stacked into one vector, standardised per column and
  reduced to a low-rank basis by SVD (components up to 99.9% of the variance, at most
  ``max_components``). One regressor per component (a clone of the chosen registered
  predictor, on its own encoding) predicts the component scores of every equivalence class.
* **Seed noise.** Repeat ``k`` of a cell adds ``sigma(cell) * z0 + jitter(epoch) * z1(epoch)``
  to the accuracies' log-odds (so the spread narrows near an accuracy of 1, as a table's does),
  with ``z`` standard normals hashed from ``(noise seed, class, k, epoch)``: fixed per cell and
  repeat, like the stored repeats of a table. ``sigma`` (the spread of final validation
  accuracy over repeats) is predicted per cell by a regressor on ``log sigma``;
  ``jitter(epoch)`` is the table's typical drift of a repeat's deviation before its end (0 at
  the last epoch, so final draws spread by ``sigma`` alone). ``repeat=None`` picks the repeat
  by a hash of ``(run_seed, class)`` (common random numbers, as in
  :class:`TabularBenchmark`); ``repeat="mean"`` returns the noiseless mean curve. Losses carry
  no repeat noise.
* **Test accuracy** is a linear map of validation accuracy (and test loss of validation loss)
  fitted on the table, plus a residual noise per repeat.
* **Costs** (epoch time, params, FLOPs, latency) come from regressors on ``log`` cost.

Everything is predicted once for every class at fit time, so queries are array lookups and a
saved surrogate is a plain versioned ``.npz`` of arrays (no pickle).

Example:
    >>> from nasbench_sim.bench import TabularBenchmark
    >>> from nasbench_sim.table import make_synthetic_table
    >>> bench = TabularBenchmark(make_synthetic_table(0, n_epochs=6))
    >>> sur = fit_surrogate(bench, fraction=0.1, predictor="ridge", seed=0)
    >>> sur.query(123, epochs=3).epoch
    3
"""

from nasbench_sim.bench.surrogate import (
    SURROGATE_FORMAT,
    SURROGATE_VERSION,
    SurrogateBenchmark,
    SurrogateFileError,
    SurrogateFitReport,
    SurrogateModel,
)
from predictors.surrogate.fit import fit_surrogate, surrogate_predictor

__all__ = [
    "SURROGATE_FORMAT",
    "SURROGATE_VERSION",
    "SurrogateBenchmark",
    "SurrogateFileError",
    "SurrogateFitReport",
    "SurrogateModel",
    "fit_surrogate",
    "surrogate_predictor",
]
