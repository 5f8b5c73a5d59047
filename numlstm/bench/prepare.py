"""A case made ready to time: its data, its two callables, warmed up.

:func:`prepare_case` is what ``numlstm bench`` and the asv benchmark
``track_ratio_vs_torch`` time; every callable runs once here, so that no
timing includes JIT compilation.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .cases import CLIP_NORM, LATENCY_MIN_TIME, LEARNING_RATE, Case
from .timer import calls_to_fill
from .torch_peer import make_torch_regressor, torch_fit, torch_state_from_weights


def _numlstm_regressor(case: Case, dtype: str, max_iter: int):
    from ..estimators import VanillaLSTMRegressor

    B, _, _, H = case.config
    return VanillaLSTMRegressor(
        units=H, batch_size=B, max_iter=max_iter, n_iter_no_change=max_iter + 1,
        shuffle=True, learning_rate_init=LEARNING_RATE, clip_norm=CLIP_NORM,
        random_state=0, dtype=dtype)


def _fit_quietly(model, X, y):
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def _data(case: Case, dtype: str, n: int, seed: int = 0):
    _, T, D, _ = case.config
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, T, D)).astype(dtype)
    y = X[:, :, 0].mean(axis=1).astype(dtype)
    return X, y


@dataclasses.dataclass
class PreparedCase:
    """A case ready to time: its callables, warmed up by :func:`prepare_case`.

    ``theirs`` is None where there is no torch counterpart (the ``start``
    case) or torch is missing. ``ours_number`` and ``theirs_number`` are
    the calls per timing sample of each; ``check`` says how far numlstm's
    and torch's outputs are apart.
    """

    case: Case
    ours: Callable
    theirs: Callable | None = None
    ours_number: int = 1
    theirs_number: int = 1
    check: str = ""


def prepare_case(case: Case, dtype: str = "float32", torch=None) -> PreparedCase:
    """Build the data and models of ``case`` and run each side once.

    The warm-up run compiles the kernels (or loads them from the Numba
    cache) so that no timing that follows includes JIT compilation.
    """
    if case.kind == "predict":
        return _prepare_predict(case, dtype, torch)
    if case.kind == "fit":
        return _prepare_fit(case, dtype, torch)
    if case.kind == "start":
        return _prepare_start(case, dtype)
    raise ValueError(f"unknown kind of case {case.kind!r}")


def _prepare_predict(case, dtype, torch):
    B, T, D, H = case.config
    X_fit, y_fit = _data(case, dtype, 64)
    model = _fit_quietly(_numlstm_regressor(dataclasses.replace(case, config=(
        32, T, D, H)), dtype, max_iter=1), X_fit, y_fit)
    X1 = X_fit[:B].copy()
    prepared = PreparedCase(case, lambda: model.predict(X1))
    ours_out = model.predict(X1)  # warm-up
    if torch is not None:
        net = make_torch_regressor(torch, D, H, 1, dtype)
        state = torch_state_from_weights(model.get_weights())
        net.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
        net.eval()
        x1 = torch.from_numpy(X1)

        def theirs():
            with torch.no_grad():
                return net(x1)

        theirs_out = theirs().numpy().ravel()  # warm-up
        err = float(np.max(np.abs(ours_out - theirs_out)))
        prepared.theirs = theirs
        prepared.check = f"max |numlstm - torch| prediction {err:.1e}"
        prepared.theirs_number = calls_to_fill(theirs, LATENCY_MIN_TIME)
    prepared.ours_number = calls_to_fill(prepared.ours, LATENCY_MIN_TIME)
    return prepared


def _prepare_fit(case, dtype, torch):
    B, _, _, H = case.config
    X, y = _data(case, dtype, case.n_sequences)

    def ours():
        return _fit_quietly(_numlstm_regressor(case, dtype, case.epochs), X, y)

    prepared = PreparedCase(case, ours)
    ours()  # warm-up
    if torch is not None:
        y2 = np.ascontiguousarray(y[:, None])

        def theirs():
            return torch_fit(torch, X, y2, H, B, case.epochs, dtype)

        theirs()  # warm-up
        prepared.theirs = theirs
    return prepared


START_CHILD = """\
import warnings
import numpy as np
import numlstm
B, T, D, H = {config}
rng = np.random.default_rng(0)
X = rng.standard_normal(({n}, T, D)).astype({dtype!r})
y = X[:, :, 0].mean(axis=1)
model = numlstm.VanillaLSTMRegressor(units=H, batch_size=B, max_iter=1,
                                     n_iter_no_change=2, random_state=0,
                                     dtype={dtype!r})
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    model.fit(X, y)
model.predict(X[:1])
"""


def start_command(case: Case, dtype: str) -> tuple[list[str], dict]:
    """The ``start`` case's command line and environment.

    The child imports the numlstm this process imported (its checkout goes
    first on ``PYTHONPATH``) and shares this process's Numba cache.
    """
    code = START_CHILD.format(config=tuple(case.config), n=case.n_sequences,
                              dtype=dtype)
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(
        [root] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return [sys.executable, "-c", code], env


def _prepare_start(case, dtype):
    cmd, env = start_command(case, dtype)

    def ours():
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"the start case's child failed "
                               f"({proc.returncode}):\n{proc.stderr}")

    ours()  # fills the Numba cache
    return PreparedCase(case, ours)
