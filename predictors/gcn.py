"""A graph-convolutional predictor (after Wen et al. 2020, "Neural Predictor for NAS").

torch is imported only inside :meth:`GCNPredictor.fit` and :meth:`GCNPredictor.predict`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from predictors.base import (
    BenchOrSpace,
    Predictor,
    PredictorError,
    check_X,
    check_Xy,
    seed_of,
    space_of,
)

__all__ = ["GCNPredictor"]


def _unflatten(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split ``[n_nodes, n_features, node features..., adjacency...]`` rows."""
    n_nodes, n_feat = int(X[0, 0]), int(X[0, 1])
    width = 2 + n_nodes * n_feat + n_nodes * n_nodes
    if n_nodes < 1 or n_feat < 1 or X.shape[1] != width:
        raise PredictorError(
            "GCNPredictor expects rows from GCNPredictor.featurize "
            "([n_nodes, n_features, node features, adjacency])"
        )
    feats = X[:, 2 : 2 + n_nodes * n_feat].reshape(-1, n_nodes, n_feat)
    adj = X[:, 2 + n_nodes * n_feat :].reshape(-1, n_nodes, n_nodes)
    return feats, adj


class GCNPredictor(Predictor):
    """Graph convolutions over the cell's op-on-node DAG, mean-pooled, then an MLP head.

    Each layer mixes messages along the edges forwards and backwards (row-normalised
    adjacency with self-loops in each direction). Trained with Adam on the standardised
    target with mean-squared error, plus ``rank_weight`` times a pairwise logistic ranking
    loss over the pairs of each mini-batch. Seeded through a ``torch.Generator``: same
    ``random_state``, same predictions.

    Features (:meth:`featurize`): one row per cell, ``[n_nodes, n_features, node features
    (flattened), adjacency (flattened)]`` from ``space.graph``.

    Args:
        hidden: width of the graph layers and the head.
        n_layers: graph-convolution layers.
        epochs: passes over the training set.
        batch_size: mini-batch size.
        lr: Adam step size.
        weight_decay: Adam weight decay.
        rank_weight: weight of the pairwise ranking loss (0 for pure MSE).
        n_threads: torch intra-op threads while fitting and predicting (the previous setting
            is restored afterwards); one thread is fastest for these tiny graphs.
        random_state: seed (``None`` means 0).
    """

    name = "gcn"

    def __init__(
        self,
        hidden: int = 64,
        n_layers: int = 3,
        epochs: int = 80,
        batch_size: int = 64,
        lr: float = 3e-3,
        weight_decay: float = 1e-4,
        rank_weight: float = 0.1,
        n_threads: int = 1,
        random_state: Any = None,
    ) -> None:
        self.hidden = hidden
        self.n_layers = n_layers
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.rank_weight = rank_weight
        self.n_threads = n_threads
        self.random_state = random_state

    def featurize(
        self,
        bench: BenchOrSpace,
        indices: Any,
        *,
        epochs: int | None = None,
        repeat: Any = None,
    ) -> np.ndarray:
        """Flattened graph tensors of each cell (``epochs`` and ``repeat`` are ignored)."""
        from predictors.features import _as_indices

        space = space_of(bench)
        g = space.graph(space.to_indices(_as_indices(indices)))
        n, n_nodes, n_feat = g.features.shape
        head = np.tile(np.array([n_nodes, n_feat], dtype=np.float64), (n, 1))
        return np.concatenate(
            [head, g.features.reshape(n, -1), g.adjacency.reshape(n, -1)], axis=1
        ).astype(np.float64)

    def fit(self, X: Any, y: Any) -> GCNPredictor:
        import torch

        Xa, ya = check_Xy(X, y)
        previous = torch.get_num_threads()
        torch.set_num_threads(max(1, int(self.n_threads)))
        try:
            return self._fit(Xa, ya)
        finally:
            torch.set_num_threads(previous)

    def _fit(self, Xa: np.ndarray, ya: np.ndarray) -> GCNPredictor:
        import torch

        from predictors._gcn_net import build_net

        feats, adj = _unflatten(Xa)
        gen = torch.Generator().manual_seed(seed_of(self.random_state))
        self.y_mean_ = float(ya.mean())
        self.y_scale_ = float(ya.std()) or 1.0
        net = build_net(feats.shape[2], self.hidden, self.n_layers, gen)
        opt = torch.optim.Adam(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        f_t = torch.as_tensor(feats, dtype=torch.float32)
        a_t = torch.as_tensor(adj, dtype=torch.float32)
        z_t = torch.as_tensor((ya - self.y_mean_) / self.y_scale_, dtype=torch.float32)
        n = f_t.shape[0]
        bs = max(2, min(self.batch_size, n))
        net.train()
        for _ in range(self.epochs):
            order = torch.randperm(n, generator=gen)
            for start in range(0, n, bs):
                b = order[start : start + bs]
                pred = net(f_t[b], a_t[b])
                loss = torch.mean((pred - z_t[b]) ** 2)
                if self.rank_weight > 0 and b.numel() > 1:
                    dp = pred[:, None] - pred[None, :]
                    sign = torch.sign(z_t[b][:, None] - z_t[b][None, :])
                    mask = sign != 0
                    if mask.any():
                        rank = torch.nn.functional.softplus(-sign * dp)[mask].mean()
                        loss = loss + self.rank_weight * rank
                opt.zero_grad()
                loss.backward()
                opt.step()
        net.eval()
        self.net_ = net
        self.n_features_in_ = Xa.shape[1]
        return self

    def predict(self, X: Any, return_std: bool = False) -> Any:
        import torch

        self._no_std(return_std)
        self._check_fitted("net_")
        Xa = check_X(X)
        feats, adj = _unflatten(Xa)
        previous = torch.get_num_threads()
        torch.set_num_threads(max(1, int(self.n_threads)))
        try:
            with torch.no_grad():
                out = self.net_(
                    torch.as_tensor(feats, dtype=torch.float32),
                    torch.as_tensor(adj, dtype=torch.float32),
                )
        finally:
            torch.set_num_threads(previous)
        return out.numpy().astype(np.float64) * self.y_scale_ + self.y_mean_
