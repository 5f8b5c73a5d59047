"""Max-pooling over channels-last batches: forward and backward (CPU).

(ReLU, which the conv blocks apply before pooling, is with the other
activations in :mod:`.activations`.)

Max-pooling windows do not overlap (stride = pool size, the Keras default)
and a tail shorter than a window is dropped (``L_out = L // pool``), as in
Keras 'valid' pooling and PyTorch's default ``floor`` mode. The forward pass
records where each maximum came from (``argmax``), so the backward pass is a
scatter that needs neither ``X`` nor a second search. Within a window the
first maximum wins ties, and a NaN wins over any number, so a NaN in the
input reaches the output (as in PyTorch) instead of being silently dropped.

Kernels only read their inputs and write their outputs; they allocate
nothing and raise nothing. All arrays must be C-contiguous and of one float
dtype, ``argmax`` int64 (checked by the caller).
"""

from ._jit import cpu_kernel


@cpu_kernel
def maxpool1d_forward(X, pool, out, argmax):
    """Max over non-overlapping windows of ``pool`` steps along ``L``.

    Parameters
    ----------
    X : (N, L, C) input, channels last.
    pool : int >= 1, window length and stride.
    out : (N, L // pool, C) out, the window maxima.
    argmax : (N, L // pool, C) int64 out, the index into ``L`` of each
        maximum (for :func:`maxpool1d_backward`).
    """
    N, L_out, C = out.shape
    for n in range(N):
        for j in range(L_out):
            start = j * pool
            for c in range(C):
                out[n, j, c] = X[n, start, c]
                argmax[n, j, c] = start
            for p in range(start + 1, start + pool):
                for c in range(C):
                    v = X[n, p, c]
                    best = out[n, j, c]
                    # NaN compares false: the second test lets it through once
                    if v > best or (v != v and best == best):
                        out[n, j, c] = v
                        argmax[n, j, c] = p


@cpu_kernel
def maxpool1d_backward(dY, argmax, dX):
    """Route ``dY (N, L // pool, C)`` to the maxima: ``dX (N, L, C)`` overwritten.

    Every entry of ``dX`` that was not a window maximum, the dropped tail
    included, is 0.
    """
    N, L_out, C = dY.shape
    dX[:] = 0.0
    for n in range(N):
        for j in range(L_out):
            for c in range(C):
                dX[n, argmax[n, j, c], c] += dY[n, j, c]


@cpu_kernel
def maxpool2d_forward(X, pool, out, argmax):
    """Max over non-overlapping ``pool x pool`` windows of each image.

    Parameters
    ----------
    X : (N, H, W, C) input images, channels last.
    pool : int >= 1, window side and stride along both axes.
    out : (N, H // pool, W // pool, C) out, the window maxima.
    argmax : (N, H // pool, W // pool, C) int64 out, the flat index
        ``h * W + w`` of each maximum in its image.
    """
    Wd = X.shape[2]
    N, H_out, W_out, C = out.shape
    for n in range(N):
        for i in range(H_out):
            for j in range(W_out):
                y0 = i * pool
                x0 = j * pool
                for c in range(C):
                    out[n, i, j, c] = X[n, y0, x0, c]
                    argmax[n, i, j, c] = y0 * Wd + x0
                for y in range(y0, y0 + pool):
                    for x in range(x0, x0 + pool):
                        if y == y0 and x == x0:
                            continue
                        for c in range(C):
                            v = X[n, y, x, c]
                            best = out[n, i, j, c]
                            if v > best or (v != v and best == best):
                                out[n, i, j, c] = v
                                argmax[n, i, j, c] = y * Wd + x


@cpu_kernel
def maxpool2d_backward(dY, argmax, dX):
    """Route ``dY (N, H // pool, W // pool, C)`` to the maxima in ``dX (N, H, W, C)``.

    ``dX`` is overwritten; every entry that was not a window maximum, the
    dropped bottom rows and right columns included, is 0.
    """
    N, H_out, W_out, C = dY.shape
    H, Wd = dX.shape[1], dX.shape[2]
    dX[:] = 0.0
    dXf = dX.reshape(N, H * Wd, C)
    for n in range(N):
        for i in range(H_out):
            for j in range(W_out):
                for c in range(C):
                    dXf[n, argmax[n, i, j, c], c] += dY[n, i, j, c]
