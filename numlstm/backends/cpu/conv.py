"""1-D and 2-D convolutions (stride 1, zero padding): forward and backward (CPU).

Data is channels-last, as users give it (``X (N, L, C)`` or
``X (N, H, W, C)``; a time axis is folded into ``N`` by the caller); weights
are in the PyTorch layout ``W (F, C, K)`` or ``W (F, C, KH, KW)``. The
operation is a cross-correlation, as in every deep-learning library::

    out[n, t, f] = b[f] + sum_{c, k} Xpad[n, t + k, c] * W[f, c, k]

where ``Xpad`` is ``X`` with ``pad_left`` zeros before it and enough zeros
after it for the output length ``L_out = out.shape[1]``. 'valid' padding is
``pad_left = 0`` with ``L_out = L - K + 1``; 'same' is
``pad_left = (K - 1) // 2`` with ``L_out = L`` (the right side then gets
``K - 1 - pad_left`` zeros, the PyTorch/Keras convention). 2-D is the same
along both spatial axes.

The shape of the work is im2col + GEMM (Caffe, oneDNN's gemm path): the
forward pass copies every receptive field into one row of ``cols``, columns
ordered channel-major then kernel offset (``c * K + k``, i.e. matching
``W.reshape(F, C * K)``), and does one matrix product; the backward pass is
two matrix products (``dW`` and ``dcols``) and a col2im scatter-add into
``dX``. ``cols`` from the forward pass is kept for the backward pass. The
forward product is :func:`.tile.matmul_nt_parallel`, row by row (a frame's output does
not depend on the rest of the batch, so predictions are batch-invariant bit
for bit); the backward products are BLAS GEMMs.

Kernels only read their inputs and write their outputs and scratch; they
allocate nothing and raise nothing. All arrays must be C-contiguous and of
one float dtype (checked by the caller).
"""

from ._jit import cpu_kernel
from .linalg import np_dot_into
from .tile import matmul_nt_parallel


@cpu_kernel
def _add_bias_rows(out2, b):
    """``out2[r, :] += b`` for every row of a 2-D ``out2``."""
    n, m = out2.shape
    for r in range(n):
        for f in range(m):
            out2[r, f] += b[f]


@cpu_kernel
def _column_sums(dY2, db):
    """``db[:] = dY2.sum(axis=0)`` for a 2-D ``dY2``."""
    n, m = dY2.shape
    db[:] = 0.0
    for r in range(n):
        for f in range(m):
            db[f] += dY2[r, f]


@cpu_kernel
def _valid_range(start, length, size):
    """``[lo, hi)`` of the ``j in [0, length)`` with ``0 <= j + start < size``."""
    lo = min(max(0, -start), length)
    hi = max(min(length, size - start), lo)
    return lo, hi


@cpu_kernel
def conv1d_im2col(X, K, pad_left, L_out, cols):
    """Copy every receptive field of ``X (N, L, C)`` into a row of ``cols``.

    ``cols (N * L_out, C * K)``: row ``n * L_out + t``, column ``c * K + k``
    holds ``X[n, t - pad_left + k, c]``, or 0 where that index falls in the
    padding. Filled one column at a time: the bounds are worked out once per
    column, and the block of ``L_out`` rows of a sample stays in cache.
    """
    N, L, C = X.shape
    for n in range(N):
        r0 = n * L_out
        for c in range(C):
            for k in range(K):
                col = c * K + k
                lo, hi = _valid_range(k - pad_left, L_out, L)
                for t in range(lo):
                    cols[r0 + t, col] = 0.0
                for t in range(lo, hi):
                    cols[r0 + t, col] = X[n, t - pad_left + k, c]
                for t in range(hi, L_out):
                    cols[r0 + t, col] = 0.0


@cpu_kernel
def conv1d_col2im(dcols, K, pad_left, L_out, dX):
    """Scatter-add ``dcols (N * L_out, C * K)`` back into ``dX (N, L, C)``.

    The adjoint of :func:`conv1d_im2col`: ``dX`` is zeroed first, entries
    that came from the padding are dropped.
    """
    N, L, C = dX.shape
    dX[:] = 0.0
    for n in range(N):
        r0 = n * L_out
        for c in range(C):
            for k in range(K):
                col = c * K + k
                lo, hi = _valid_range(k - pad_left, L_out, L)
                for t in range(lo, hi):
                    dX[n, t - pad_left + k, c] += dcols[r0 + t, col]


@cpu_kernel
def conv1d_forward(X, W, b, pad_left, cols, out):
    """1-D convolution (cross-correlation) of a batch, stride 1.

    Parameters
    ----------
    X : (N, L, C) input, channels last.
    W : (F, C, K) filters (PyTorch layout).
    b : (F,) bias.
    pad_left : int, zeros before the first sample (0 for 'valid',
        ``(K - 1) // 2`` for 'same'); the zeros after follow from ``L_out``.
    cols : (N * L_out, C * K) out, the im2col matrix (kept for backward).
    out : (N, L_out, F) out, ``L_out = out.shape[1]``.
    """
    N = X.shape[0]
    F, C, K = W.shape
    L_out = out.shape[1]
    conv1d_im2col(X, K, pad_left, L_out, cols)
    out2 = out.reshape(N * L_out, F)
    matmul_nt_parallel(cols, W.reshape(F, C * K), out2)
    _add_bias_rows(out2, b)


@cpu_kernel
def conv1d_backward(X, W, dY, pad_left, cols, dcols, dX, dW, db):
    """Gradients of :func:`conv1d_forward` given ``dY (N, L_out, F)``.

    Parameters
    ----------
    X : (N, L, C) the forward input (only its shape is read).
    W : (F, C, K) filters.
    dY : (N, L_out, F) gradient of the loss w.r.t. ``out``.
    pad_left : int, as in the forward pass.
    cols : (N * L_out, C * K) the im2col matrix written by the forward pass.
    dcols : (N * L_out, C * K) scratch.
    dX : (N, L, C) out, overwritten.
    dW : (F, C, K) out, overwritten.
    db : (F,) out, overwritten.
    """
    N, L_out, F = dY.shape
    C, K = W.shape[1], W.shape[2]
    dY2 = dY.reshape(N * L_out, F)
    np_dot_into(dY2.T, cols, dW.reshape(F, C * K))
    _column_sums(dY2, db)
    np_dot_into(dY2, W.reshape(F, C * K), dcols)
    conv1d_col2im(dcols, K, pad_left, L_out, dX)


@cpu_kernel
def conv2d_im2col(X, KH, KW, pad_top, pad_left, H_out, W_out, cols):
    """Copy every receptive field of ``X (N, H, W, C)`` into a row of ``cols``.

    ``cols (N * H_out * W_out, C * KH * KW)``: row
    ``(n * H_out + i) * W_out + j``, column ``(c * KH + p) * KW + q`` holds
    ``X[n, i - pad_top + p, j - pad_left + q, c]``, or 0 in the padding.
    Filled one output row ``i`` at a time, column by column, as in 1-D.
    """
    N, H, Wd, C = X.shape
    KK = KH * KW
    for n in range(N):
        for i in range(H_out):
            r0 = (n * H_out + i) * W_out
            for c in range(C):
                for p in range(KH):
                    y = i - pad_top + p
                    inside = 0 <= y < H
                    for q in range(KW):
                        col = c * KK + p * KW + q
                        if inside:
                            lo, hi = _valid_range(q - pad_left, W_out, Wd)
                        else:
                            lo, hi = W_out, W_out
                        for j in range(lo):
                            cols[r0 + j, col] = 0.0
                        for j in range(lo, hi):
                            cols[r0 + j, col] = X[n, y, j - pad_left + q, c]
                        for j in range(hi, W_out):
                            cols[r0 + j, col] = 0.0


@cpu_kernel
def conv2d_col2im(dcols, KH, KW, pad_top, pad_left, H_out, W_out, dX):
    """Scatter-add ``dcols`` back into ``dX (N, H, W, C)`` (zeroed first).

    The adjoint of :func:`conv2d_im2col`.
    """
    N, H, Wd, C = dX.shape
    KK = KH * KW
    dX[:] = 0.0
    for n in range(N):
        for i in range(H_out):
            r0 = (n * H_out + i) * W_out
            for c in range(C):
                for p in range(KH):
                    y = i - pad_top + p
                    if y < 0 or y >= H:
                        continue
                    for q in range(KW):
                        col = c * KK + p * KW + q
                        lo, hi = _valid_range(q - pad_left, W_out, Wd)
                        for j in range(lo, hi):
                            dX[n, y, j - pad_left + q, c] += dcols[r0 + j, col]


@cpu_kernel
def conv2d_forward(X, Wt, b, pad_top, pad_left, cols, out):
    """2-D convolution (cross-correlation) of a batch of images, stride 1.

    Parameters
    ----------
    X : (N, H, W, C) input images, channels last.
    Wt : (F, C, KH, KW) filters (PyTorch layout).
    b : (F,) bias.
    pad_top, pad_left : int, zeros above and left of the image (0 for
        'valid', ``(KH - 1) // 2`` and ``(KW - 1) // 2`` for 'same'); the
        zeros below and right follow from the output size.
    cols : (N * H_out * W_out, C * KH * KW) out, the im2col matrix.
    out : (N, H_out, W_out, F) out.
    """
    N = X.shape[0]
    F, C, KH, KW = Wt.shape
    H_out, W_out = out.shape[1], out.shape[2]
    conv2d_im2col(X, KH, KW, pad_top, pad_left, H_out, W_out, cols)
    out2 = out.reshape(N * H_out * W_out, F)
    matmul_nt_parallel(cols, Wt.reshape(F, C * KH * KW), out2)
    _add_bias_rows(out2, b)


@cpu_kernel
def conv2d_backward(X, Wt, dY, pad_top, pad_left, cols, dcols, dX, dW, db):
    """Gradients of :func:`conv2d_forward` given ``dY (N, H_out, W_out, F)``.

    Parameters
    ----------
    X : (N, H, W, C) the forward input (only its shape is read).
    Wt : (F, C, KH, KW) filters.
    dY : (N, H_out, W_out, F) gradient of the loss w.r.t. ``out``.
    pad_top, pad_left : int, as in the forward pass.
    cols : (N * H_out * W_out, C * KH * KW) written by the forward pass.
    dcols : (N * H_out * W_out, C * KH * KW) scratch.
    dX : (N, H, W, C) out, overwritten.
    dW : (F, C, KH, KW) out, overwritten.
    db : (F,) out, overwritten.
    """
    N, H_out, W_out, F = dY.shape
    C, KH, KW = Wt.shape[1], Wt.shape[2], Wt.shape[3]
    dY2 = dY.reshape(N * H_out * W_out, F)
    np_dot_into(dY2.T, cols, dW.reshape(F, C * KH * KW))
    _column_sums(dY2, db)
    np_dot_into(dY2, Wt.reshape(F, C * KH * KW), dcols)
    conv2d_col2im(dcols, KH, KW, pad_top, pad_left, H_out, W_out, dX)
