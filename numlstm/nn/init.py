"""Weight initialisers (Keras' defaults for LSTM and dense layers)."""

from __future__ import annotations

import contextlib

import numpy as np


def glorot_uniform(rng: np.random.Generator, fan_out: int, fan_in: int,
                   shape=None):
    """A draw of U(-a, a), a = sqrt(6 / (fan_in + fan_out)), of shape
    ``(fan_out, fan_in)`` unless ``shape`` is given (convolution kernels)."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit,
                       size=(fan_out, fan_in) if shape is None else shape)


#: From this many elements on (and at least twice as tall as wide),
#: :func:`orthogonal` takes the Q factor by Cholesky QR.
_CHOLESKY_QR_SIZE = 1 << 18

#: From this many elements on, :func:`orthogonal` lets BLAS use its threads:
#: below it the threads cost more than they save (measured in
#: docs/performance.md, 'Measurements behind the code').
_THREADED_SIZE = 1 << 22

#: threadpoolctl's controller of the loaded BLAS libraries, made on first use
_BLAS_CONTROLLER = None


def orthogonal(rng: np.random.Generator, rows: int, cols: int,
               dtype=np.float64):
    """A (rows, cols) matrix with orthonormal columns (or rows, if wider).

    Saxe et al. (2014): the Q factor of a Gaussian matrix ``A``, with the
    signs that make the diagonal of R positive, so that the distribution is
    uniform.

    Below 4 Mi elements BLAS runs on one thread: a multi-threaded LAPACK
    call leaves numpy's OpenBLAS workers spinning afterwards, and they slow
    the first LSTM kernel calls of a small fit. Large tall matrices (the
    4096 x 1024 of an LSTM with H=1024) use Cholesky QR, ``Q = A R^-1`` with
    ``R^T R = A^T A``: two BLAS-3 calls instead of LAPACK's Householder QR,
    the same Q to 2e-16, and accurate since a Gaussian matrix twice as tall
    as wide has a condition number near 3. With ``dtype=float32`` (the
    weights' dtype) the Cholesky QR runs in float32 on the same draw:
    columns orthonormal to 5e-7, within 4e-8 of the float64 Q. The timings
    behind these choices are in docs/performance.md, 'Measurements behind
    the code'.
    """
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    with _blas_threads(None if a.size >= _THREADED_SIZE else 1):
        q = None
        if a.size >= _CHOLESKY_QR_SIZE and a.shape[0] >= 2 * a.shape[1]:
            q = _cholesky_q(a.astype(np.result_type(dtype, np.float32),
                                     copy=False))
        if q is None:
            q, r = np.linalg.qr(a)
            q *= np.sign(np.diag(r))
    return q if rows >= cols else q.T


def _blas_threads(limit):
    """A context that runs BLAS on ``limit`` threads (None: as it is).

    threadpoolctl finds the loaded BLAS libraries by scanning the process's
    shared objects, which is slow next to a small fit's initialisation; the
    scan is done once and its controller kept.
    """
    global _BLAS_CONTROLLER
    if limit is None:
        return contextlib.nullcontext()
    if _BLAS_CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _BLAS_CONTROLLER = ThreadpoolController()
    return _BLAS_CONTROLLER.limit(limits=limit, user_api="blas")


def _cholesky_q(a):
    """The Q of ``a = QR`` with ``diag(R) > 0``, by Cholesky QR; None if
    ``a^T a`` is not numerically positive definite or ``R``'s diagonal
    spans more than 20x (a condition number of ``a`` above 20, where the
    loss of orthogonality, ~eps cond(a)^2, would show; a Gaussian matrix
    twice as tall as wide spans 1.2-1.6x)."""
    from scipy.linalg import cholesky, solve_triangular

    # SciPy's Cholesky, not numpy's: numpy copies through its gufunc;
    # a is finite, so the check is skipped
    try:
        lower = cholesky(a.T @ a, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        return None
    diag = np.diag(lower)
    if not diag.min() > diag.max() / 20:
        return None
    return solve_triangular(lower, a.T, lower=True, check_finite=False).T
