"""The contract's array operations as CUDA kernels.

Each host function launches one kernel with a grid-stride loop over the
items it writes; nothing is allocated, nothing is read back. Element-wise
kernels work on flat views of C-contiguous arrays (the contract's default);
sums run one thread per output element over the summed axis in order, so a
result does not depend on the launch shape and no float atomics are used.
Scalars that meet float data (a fill value, the 0.5 of 'ave') are passed in
the data's dtype, so float32 kernels stay float32.
"""

import numpy as np
from numba import cuda

from ._jit import cuda_kernel, launch_shape

#: merge modes as the kernels see them
MERGE_MODES = {"concat": 0, "sum": 1, "mul": 2, "ave": 3}


def _flat(a):
    return a.reshape(a.size)


def _rows(a):
    """``a (N, ...)`` as ``(N, R)``."""
    return a.reshape(a.shape[0], a.size // max(a.shape[0], 1))


def _launch(kernel, n, *args):
    if n:
        blocks, threads = launch_shape(n)
        kernel[blocks, threads](*args)


# ------------------------------------------------------------ element-wise

@cuda_kernel
def _copy_kernel(src, out):
    for k in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        out[k] = src[k]


@cuda_kernel
def _copy_2d_kernel(src, out):
    n_cols = out.shape[1]
    for k in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        out[k // n_cols, k % n_cols] = src[k // n_cols, k % n_cols]


@cuda_kernel
def _fill_kernel(out, value):
    for k in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        out[k] = value


@cuda_kernel
def _add_kernel(a, b, out):
    for k in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        out[k] = a[k] + b[k]


@cuda_kernel
def _mul_kernel(a, b, out):
    for k in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        out[k] = a[k] * b[k]


@cuda_kernel
def _broadcast_kernel(src, out):
    n1, n2 = out.shape[1], out.shape[2]
    s0, s1, s2 = src.shape
    for k in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        i0 = k // (n1 * n2)
        i1 = (k // n2) % n1
        i2 = k % n2
        out[i0, i1, i2] = src[i0 % s0, i1 % s1, i2 % s2]


def _contiguous(a) -> bool:
    return a.flags["C_CONTIGUOUS"]


def copy(src, out):
    """``out[...] = src``; 1-D or 2-D views may be strided."""
    if out.ndim == 1:  # any strides: the kernel indexes element by element
        _launch(_copy_kernel, out.size, src, out)
    elif _contiguous(src) and _contiguous(out):
        _launch(_copy_kernel, out.size, _flat(src), _flat(out))
    elif out.ndim == 2:  # a device array reshapes only when contiguous
        _launch(_copy_2d_kernel, out.size, src, out)
    else:
        raise ValueError("copy: strided views of more than 2 dimensions "
                         f"are not supported on CUDA, got {out.shape}")


def fill(out, value):
    """Every element of ``out`` set to ``value``."""
    _launch(_fill_kernel, out.size, _flat(out), out.dtype.type(value))


def broadcast(src, out):
    """``out[...] = src`` under broadcasting, ``out`` of at most 3 axes."""
    if out.ndim > 3:
        raise ValueError(f"broadcast: at most 3 axes on CUDA, got {out.shape}")
    shape = (1,) * (3 - out.ndim) + tuple(out.shape)
    src_shape = (1,) * (3 - src.ndim) + tuple(src.shape)
    _launch(_broadcast_kernel, out.size, src.reshape(src_shape),
            out.reshape(shape))


def add(a, b, out):
    """``out = a + b`` (``out`` may alias ``a`` or ``b``)."""
    _launch(_add_kernel, out.size, _flat(a), _flat(b), _flat(out))


def mul(a, b, out):
    """``out = a * b`` (``out`` may alias ``a`` or ``b``)."""
    _launch(_mul_kernel, out.size, _flat(a), _flat(b), _flat(out))


# --------------------------------------------------------- gathers, steps

@cuda_kernel
def _take_rows_kernel(src, index, out):
    n_cols = out.shape[1]
    for k in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        r = k // n_cols
        j = k % n_cols
        out[r, j] = src[index[r], j]


@cuda_kernel
def _reverse_steps_kernel(x, lengths, out):
    T, F = x.shape[1], x.shape[2]
    for k in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        b = k // (T * F)
        t = (k // F) % T
        f = k % F
        L = lengths[b]
        s = L - 1 - t if t < L else t
        out[b, t, f] = x[b, s, f]


def take_rows(src, index, out):
    """``out[i] = src[index[i]]``."""
    _launch(_take_rows_kernel, out.size, _rows(src), index, _rows(out))


def reverse_steps(x, lengths, out):
    """Each sequence of ``x (B, T, ...)`` reversed within its length."""
    B, T = x.shape[:2]
    F = x.size // max(B * T, 1)
    _launch(_reverse_steps_kernel, out.size, x.reshape(B, T, F), lengths,
            out.reshape(B, T, F))


# ------------------------------------------------------ bidirectional merge

@cuda_kernel
def _merge_kernel(a, b, mode, half, out):
    H = a.shape[1]
    for k in range(cuda.grid(1), a.size, cuda.gridsize(1)):
        r = k // H
        j = k % H
        if mode == 0:
            out[r, j] = a[r, j]
            out[r, H + j] = b[r, j]
        elif mode == 1:
            out[r, j] = a[r, j] + b[r, j]
        elif mode == 2:
            out[r, j] = a[r, j] * b[r, j]
        else:
            out[r, j] = (a[r, j] + b[r, j]) * half


@cuda_kernel
def _unmerge_kernel(dY, a, b, mode, half, da, db):
    H = a.shape[1]
    for k in range(cuda.grid(1), a.size, cuda.gridsize(1)):
        r = k // H
        j = k % H
        if mode == 0:
            da[r, j] = dY[r, j]
            db[r, j] = dY[r, H + j]
        elif mode == 1:
            da[r, j] = dY[r, j]
            db[r, j] = dY[r, j]
        elif mode == 2:
            da[r, j] = dY[r, j] * b[r, j]
            db[r, j] = dY[r, j] * a[r, j]
        else:
            da[r, j] = half * dY[r, j]
            db[r, j] = half * dY[r, j]


def _lastaxis(a):
    width = a.shape[a.ndim - 1]  # the simulator's shapes take no -1
    return a.reshape(a.size // width, width)


def merge(a, b, mode, out):
    """Merge two directions' outputs (see the contract)."""
    _launch(_merge_kernel, a.size, _lastaxis(a), _lastaxis(b),
            MERGE_MODES[mode], a.dtype.type(0.5), _lastaxis(out))


def unmerge(dY, a, b, mode, da, db):
    """The gradients of :func:`merge`'s inputs."""
    _launch(_unmerge_kernel, a.size, _lastaxis(dY), _lastaxis(a),
            _lastaxis(b), MERGE_MODES[mode], a.dtype.type(0.5),
            _lastaxis(da), _lastaxis(db))


# ------------------------------------------------------------------- sums

@cuda_kernel
def _sum_steps_kernel(x, out):
    B, T, F = x.shape
    for k in range(cuda.grid(1), B * F, cuda.gridsize(1)):
        b = k // F
        f = k % F
        s = x[b, 0, f]
        for t in range(1, T):
            s += x[b, t, f]
        out[b, f] = s


@cuda_kernel
def _sum_rows_kernel(x, out):
    B, F = x.shape
    for f in range(cuda.grid(1), F, cuda.gridsize(1)):
        s = x[0, f]
        for r in range(1, B):
            s += x[r, f]
        out[f] = s


@cuda_kernel
def _sequence_weights_kernel(sample_weight, lengths, zero, out):
    T = out.shape[1]
    for k in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        b = k // T
        out[b, k % T] = sample_weight[b] if k % T < lengths[b] else zero


def sum_steps(x, out):
    """``out (B, F) = x (B, T, F)`` summed over steps, in step order."""
    B, T = x.shape[:2]
    F = out.size // max(B, 1)
    _launch(_sum_steps_kernel, out.size, x.reshape(B, T, F), out.reshape(B, F))


def sum_rows(x, out):
    """``out (F,) = x (B, F)`` summed over rows in order (``x`` may be
    strided)."""
    _launch(_sum_rows_kernel, out.size, x, out)


def sequence_weights(sample_weight, lengths, out):
    """``sample_weight[b]`` on the real steps of row ``b``, 0 on padding."""
    _launch(_sequence_weights_kernel, out.size, sample_weight, lengths,
            out.dtype.type(0), out)


# ---------------------------------------------------------------- scalars

@cuda_kernel
def _accumulate_kernel(total, value, weight):
    if cuda.grid(1) == 0:
        total[0] += value[0] * weight


@cuda_kernel
def _step_guard_kernel(loss, norm, status):
    if cuda.grid(1) == 0 and status[0] == 0:
        finite = abs(loss[0]) < np.inf and abs(norm[0]) < np.inf
        if not finite:
            status[0] = 1.0
            status[1] = loss[0]
            status[2] = norm[0]


def accumulate(total, value, weight):
    """``total[0] += value[0] * weight`` (all float64)."""
    _accumulate_kernel[1, 1](total, value, np.float64(weight))


def step_guard(loss, norm, status):
    """Flag a non-finite loss or gradient norm (status 1)."""
    _step_guard_kernel[1, 1](loss, norm, status)
