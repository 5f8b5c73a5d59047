"""Tiled matrix products on CUDA: ``C = bias + op(A) @ op(B)``.

One kernel serves every product of the layers: the LSTM's input projection
before its time loop (``X W_ih^T + b`` for all steps at once) and its weight
and input gradients after it, and the dense layer's forward and backward.
Each block computes a :data:`TILE` x :data:`TILE` tile of ``C``, staging
tiles of both operands in shared memory; loads are coalesced for either
layout of an operand (a transposed operand is stored transposed into its
tile, whose rows are padded by one element against bank conflicts). Small
products run untiled instead (:func:`use_tiles`).

Every element of ``C`` is one thread's sum over ``k`` in increasing order,
starting from its bias: no atomics and no split of ``k`` across threads, so
a result does not depend on the launch shape and a fit is bit-identical
from run to run.
"""

import numpy as np
from numba import cuda

from ._jit import cuda_kernel, launch_shape

#: rows and columns of ``C`` per block (TILE x TILE threads)
TILE = 16
#: products with fewer elements of ``C`` than this many full tiles run
#: without tiles, a thread per element: a tile's barriers and idle threads
#: would cost more than its shared loads save (and the simulator runs
#: every barrier thread by thread)
SMALL_BELOW = 8 * TILE * TILE


@cuda_kernel
def _gemm_kernel(A, B, bias, C, a_t, b_t, has_bias, zero):
    M, N = C.shape
    K = A.shape[0] if a_t else A.shape[1]
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    m0 = cuda.blockIdx.y * TILE
    n0 = cuda.blockIdx.x * TILE
    # a_tile[m - m0, k - k0] and b_tile[k - k0, n - n0]
    a_tile = cuda.shared.array((TILE, TILE + 1), dtype=C.dtype)
    b_tile = cuda.shared.array((TILE, TILE + 1), dtype=C.dtype)
    m = m0 + ty
    n = n0 + tx
    acc = zero
    if has_bias and n < N:
        acc = bias[n]
    for k0 in range(0, K, TILE):
        # consecutive threads (tx) read consecutive elements of each operand
        if a_t:  # A is (K, M)
            k, mm = k0 + ty, m0 + tx
            a_tile[tx, ty] = A[k, mm] if k < K and mm < M else zero
        else:  # A is (M, K)
            k = k0 + tx
            a_tile[ty, tx] = A[m, k] if m < M and k < K else zero
        if b_t:  # B is (N, K)
            k, nn = k0 + tx, n0 + ty
            b_tile[tx, ty] = B[nn, k] if k < K and nn < N else zero
        else:  # B is (K, N)
            k = k0 + ty
            b_tile[ty, tx] = B[k, n] if k < K and n < N else zero
        cuda.syncthreads()
        for kk in range(min(TILE, K - k0)):
            acc += a_tile[ty, kk] * b_tile[kk, tx]
        cuda.syncthreads()
    if m < M and n < N:
        C[m, n] = acc


@cuda_kernel
def _gemm_loop_kernel(A, B, bias, C, a_t, b_t, has_bias, zero):
    M, N = C.shape
    K = A.shape[0] if a_t else A.shape[1]
    for e in range(cuda.grid(1), M * N, cuda.gridsize(1)):
        m = e // N
        n = e % N
        acc = bias[n] if has_bias else zero
        for k in range(K):
            a = A[k, m] if a_t else A[m, k]
            acc += a * (B[n, k] if b_t else B[k, n])
        C[m, n] = acc


def use_tiles(M: int, N: int) -> bool:
    """Whether a product with ``C (M, N)`` runs tiled: a pure function of
    the size.

    >>> use_tiles(3200, 1024), use_tiles(36, 16)
    (True, False)
    """
    return M * N >= SMALL_BELOW


def gemm(A, B, C, bias=None, a_t=False, b_t=False) -> None:
    """``C (M, N) = bias + op(A) @ op(B)``, all 2-D device arrays of one dtype.

    ``op(A)`` is ``A (M, K)``, or ``A.T`` of an ``A (K, M)`` when ``a_t``;
    ``op(B)`` is ``B (K, N)``, or ``B.T`` of a ``B (N, K)`` when ``b_t``;
    ``bias (N,)`` or None. The caller checks the shapes (the layers do).
    Tiled or not (:func:`use_tiles`), every element is the same sum.
    """
    M, N = C.shape
    args = (A, B, C[0] if bias is None else bias, C, bool(a_t), bool(b_t),
            bias is not None, np.dtype(C.dtype).type(0))
    if use_tiles(M, N):
        grid = (-(-N // TILE), -(-M // TILE))
        _gemm_kernel[grid, (TILE, TILE)](*args)
    else:
        blocks, threads = launch_shape(M * N)
        _gemm_loop_kernel[blocks, threads](*args)


@cuda_kernel
def _column_sums_kernel(G, zero, out):
    for j in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        acc = zero
        for r in range(G.shape[0]):
            acc += G[r, j]
        out[j] = acc


def column_sums(G, out) -> None:
    """``out (N,)`` = the column sums of ``G (M, N)``, each in row order."""
    blocks, threads = launch_shape(out.size)
    _column_sums_kernel[blocks, threads](G, np.dtype(G.dtype).type(0), out)
