"""A hand-written matrix product for the recurrent step of the LSTM kernels.

``matmul_nt_rows(A, W, out, s0, s1)`` computes ``out[s] = W @ A[s]`` (that is
``A @ W.T``) for the rows ``s0 <= s < s1`` only, with both operands read
along contiguous rows: every output element is one dot product over ``k``.

Why not BLAS inside the time loop: the per-step products are small (a few
dozen rows), where a BLAS call pays its own threading and packing; and a
multi-threaded BLAS call per step synchronises its threads every step, which
degrades by an order of magnitude when another process takes a core. This
kernel runs in the calling thread, so the LSTM kernels can split the batch
over threads once for the whole time loop (rows are independent).

Register blocking: a block of 2 rows x 8 outputs keeps 16 scalar
accumulators; LLVM vectorises the loop over ``k`` (``reassoc`` lets it
split each sum into SIMD lanes), so each step loads 2 + 8 vectors for 16
fused multiply-adds. The loop over output blocks is outermost, so the 8 rows
of ``W`` of a block stay in L1 while all the rows of ``A`` pass by. A
partial block repeats its last row / output index instead of branching, so
every output element is computed by exactly the same instruction sequence
wherever it sits: a row's result does not depend on which other rows are in
the batch.
"""

from numba import prange

from ._jit import cpu_kernel, cpu_parallel_kernel
from ._threads import num_threads


@cpu_kernel
def chunk_rows(c, n_chunks, n):
    """Rows ``[s0, s1)`` of chunk ``c`` of ``n`` rows, split in pairs."""
    pairs = (n + 1) // 2
    s0 = 2 * (pairs * c // n_chunks)
    s1 = min(n, 2 * (pairs * (c + 1) // n_chunks))
    return s0, s1


@cpu_kernel
def n_chunks_for(n, n_threads):
    """One chunk per thread, at least a pair of rows per chunk."""
    return max(1, min(n_threads, (n + 1) // 2))


@cpu_kernel
def matmul_nt_rows(A, W, out, s0, s1, k0, k1, accumulate):
    """``out[s, :] (+)= A[s, k0:k1] @ W[:, k0:k1].T`` for ``s0 <= s < s1``.

    Other rows of ``out`` are untouched. With ``accumulate`` the product is
    added to ``out``, so a long sum can be split into blocks of ``k`` that
    stay in cache.

    Parameters
    ----------
    A : (B, K) C-contiguous.
    W : (N, K) C-contiguous.
    out : (B, N) C-contiguous, written on rows ``s0 .. s1 - 1`` only.
    """
    N = W.shape[0]
    # Row views sliced to [k0, k1) and indexed from 0: an index that LLVM
    # knows is non-negative needs no wrap-around select, so the loads stay
    # contiguous vector loads (with range(k0, k1) they became gathers).
    zero = A.dtype.type(0.0)
    for j in range(0, N, 8):
        w0 = W[j, k0:k1]
        w1 = W[min(j + 1, N - 1), k0:k1]
        w2 = W[min(j + 2, N - 1), k0:k1]
        w3 = W[min(j + 3, N - 1), k0:k1]
        w4 = W[min(j + 4, N - 1), k0:k1]
        w5 = W[min(j + 5, N - 1), k0:k1]
        w6 = W[min(j + 6, N - 1), k0:k1]
        w7 = W[min(j + 7, N - 1), k0:k1]
        for r in range(s0, s1, 2):
            r1 = min(r + 1, s1 - 1)
            a0 = A[r, k0:k1]
            a1 = A[r1, k0:k1]
            o0 = out[r]
            o1 = out[r1]
            p0 = zero
            p1 = zero
            p2 = zero
            p3 = zero
            p4 = zero
            p5 = zero
            p6 = zero
            p7 = zero
            q0 = zero
            q1 = zero
            q2 = zero
            q3 = zero
            q4 = zero
            q5 = zero
            q6 = zero
            q7 = zero
            for k in range(k1 - k0):
                x = a0[k]
                y = a1[k]
                v0 = w0[k]
                v1 = w1[k]
                v2 = w2[k]
                v3 = w3[k]
                v4 = w4[k]
                v5 = w5[k]
                v6 = w6[k]
                v7 = w7[k]
                p0 += x * v0
                p1 += x * v1
                p2 += x * v2
                p3 += x * v3
                p4 += x * v4
                p5 += x * v5
                p6 += x * v6
                p7 += x * v7
                q0 += y * v0
                q1 += y * v1
                q2 += y * v2
                q3 += y * v3
                q4 += y * v4
                q5 += y * v5
                q6 += y * v6
                q7 += y * v7
            if accumulate:
                p0 += o0[j]
                q0 += o1[j]
                if j + 8 <= N:
                    p1 += o0[j + 1]
                    p2 += o0[j + 2]
                    p3 += o0[j + 3]
                    p4 += o0[j + 4]
                    p5 += o0[j + 5]
                    p6 += o0[j + 6]
                    p7 += o0[j + 7]
                    q1 += o1[j + 1]
                    q2 += o1[j + 2]
                    q3 += o1[j + 3]
                    q4 += o1[j + 4]
                    q5 += o1[j + 5]
                    q6 += o1[j + 6]
                    q7 += o1[j + 7]
                else:
                    n = N - j
                    if n > 1:
                        p1 += o0[j + 1]
                        q1 += o1[j + 1]
                    if n > 2:
                        p2 += o0[j + 2]
                        q2 += o1[j + 2]
                    if n > 3:
                        p3 += o0[j + 3]
                        q3 += o1[j + 3]
                    if n > 4:
                        p4 += o0[j + 4]
                        q4 += o1[j + 4]
                    if n > 5:
                        p5 += o0[j + 5]
                        q5 += o1[j + 5]
                    if n > 6:
                        p6 += o0[j + 6]
                        q6 += o1[j + 6]
            if j + 8 <= N:
                o0[j] = p0
                o0[j + 1] = p1
                o0[j + 2] = p2
                o0[j + 3] = p3
                o0[j + 4] = p4
                o0[j + 5] = p5
                o0[j + 6] = p6
                o0[j + 7] = p7
                o1[j] = q0
                o1[j + 1] = q1
                o1[j + 2] = q2
                o1[j + 3] = q3
                o1[j + 4] = q4
                o1[j + 5] = q5
                o1[j + 6] = q6
                o1[j + 7] = q7
            else:
                # last, partial block: N - j outputs (1 .. 7); the duplicated
                # ones were computed from a repeated W row and are dropped.
                n = N - j
                o0[j] = p0
                o1[j] = q0
                if n > 1:
                    o0[j + 1] = p1
                    o1[j + 1] = q1
                if n > 2:
                    o0[j + 2] = p2
                    o1[j + 2] = q2
                if n > 3:
                    o0[j + 3] = p3
                    o1[j + 3] = q3
                if n > 4:
                    o0[j + 4] = p4
                    o1[j + 4] = q4
                if n > 5:
                    o0[j + 5] = p5
                    o1[j + 5] = q5
                if n > 6:
                    o0[j + 6] = p6
                    o1[j + 6] = q6


@cpu_parallel_kernel
def matmul_nt(A, W, out):
    """``out = A @ W.T`` with the rows of ``A`` split over Numba's threads.

    Each row is computed by :func:`matmul_nt_rows`, so the result of a row
    never depends on the other rows or on the thread count.
    """
    n, K = A.shape
    n_chunks = n_chunks_for(n, num_threads())
    if n_chunks == 1:
        matmul_nt_rows(A, W, out, 0, n, 0, K, False)
    else:
        for c in prange(n_chunks):
            s0, s1 = chunk_rows(c, n_chunks, n)
            matmul_nt_rows(A, W, out, s0, s1, 0, K, False)
