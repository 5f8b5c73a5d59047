"""PyTorch's side of the benchmarks: the same model and training loop.

torch is never a numlstm dependency: :func:`import_torch` returns None where
it is missing, and every function here takes the torch module as an
argument rather than importing it.
"""

from __future__ import annotations

import numpy as np

from .cases import CLIP_NORM, LEARNING_RATE


def torch_state_from_weights(weights: dict) -> dict:
    """numlstm ``get_weights`` of a one-layer LSTM + dense model, by the names
    of the torch module :func:`make_torch_regressor` builds.

    ``lstm.0.b`` (the two PyTorch biases summed) becomes ``bias_ih_l0`` and
    ``bias_hh_l0`` is zero. The arrays are numpy; load them with
    ``module.load_state_dict({k: torch.from_numpy(v) ...})``.

    Examples
    --------
    >>> import numpy as np
    >>> w = {"lstm.0.W_ih": np.ones((8, 3)), "lstm.0.W_hh": np.ones((8, 2)),
    ...      "lstm.0.b": np.ones(8), "dense.W": np.ones((1, 2)),
    ...      "dense.b": np.ones(1)}
    >>> sorted(torch_state_from_weights(w))  # doctest: +NORMALIZE_WHITESPACE
    ['dense.bias', 'dense.weight', 'lstm.bias_hh_l0', 'lstm.bias_ih_l0',
     'lstm.weight_hh_l0', 'lstm.weight_ih_l0']
    """
    extra = set(weights) - {"lstm.0.W_ih", "lstm.0.W_hh", "lstm.0.b",
                            "dense.W", "dense.b"}
    if extra:
        raise ValueError(f"not a one-layer LSTM + dense model: extra weights "
                         f"{sorted(extra)}")
    b = np.ascontiguousarray(weights["lstm.0.b"])
    return {
        "lstm.weight_ih_l0": np.ascontiguousarray(weights["lstm.0.W_ih"]),
        "lstm.weight_hh_l0": np.ascontiguousarray(weights["lstm.0.W_hh"]),
        "lstm.bias_ih_l0": b,
        "lstm.bias_hh_l0": np.zeros_like(b),
        "dense.weight": np.ascontiguousarray(weights["dense.W"]),
        "dense.bias": np.ascontiguousarray(weights["dense.b"]),
    }


def import_torch():
    """The torch module, or None where it cannot be imported."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def make_torch_regressor(torch, D: int, H: int, n_outputs: int, dtype: str):
    """``nn.LSTM(batch_first=True)`` then ``nn.Linear`` on the last step."""

    class LSTMRegressor(torch.nn.Module):
        def __init__(self):
            super().__init__()
            tdtype = getattr(torch, dtype)
            self.lstm = torch.nn.LSTM(D, H, batch_first=True, dtype=tdtype)
            self.dense = torch.nn.Linear(H, n_outputs, dtype=tdtype)

        def forward(self, x):
            return self.dense(self.lstm(x)[0][:, -1])

    return LSTMRegressor()


def torch_fit(torch, X, y, H: int, batch_size: int, epochs: int, dtype: str,
              seed: int = 0, device: str = "cpu"):
    """The plain PyTorch training loop the fit cases compare against.

    On ``device='cuda'`` the data and model move to the GPU once and each
    epoch's permutation once per epoch, as numlstm's CUDA backend does; the
    call returns after the device has finished.
    """
    torch.manual_seed(seed)
    model = make_torch_regressor(torch, X.shape[2], H, y.shape[1],
                                 dtype).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    X, y = torch.from_numpy(X).to(device), torch.from_numpy(y).to(device)
    g = torch.Generator().manual_seed(seed)
    n = len(X)
    for _ in range(epochs):
        order = torch.randperm(n, generator=g).to(device)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(model(X[idx]), y[idx])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP_NORM)
            opt.step()
    if device != "cpu":
        torch.cuda.synchronize()
    return model
