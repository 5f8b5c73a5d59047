"""Register-tiled matrix product ``out[r] (+)= A[r] @ W`` (CPU only).

The product every LSTM step needs, ``rows x K`` times ``K x N`` with a few
dozen rows, in the form BLAS micro-kernels use: a tile of ``MR`` output rows
by ``NV`` SIMD vectors of outputs is held in vector registers while ``k``
runs; each ``k`` loads ``NV`` vectors of the row ``W[k]``, broadcasts
``A[r, k]`` for each of the ``MR`` rows, and issues ``MR * NV`` fused
multiply-adds. Nothing is summed across SIMD lanes and nothing spills.

Numba cannot keep a vector accumulator in a register on its own (a local
array lives in memory, and LLVM vectorises dot products along ``k``, which
needs horizontal sums and a scalar remainder loop), so the tile is an
``@intrinsic`` that emits the loop in LLVM IR with vector types, one
``llvm.fma`` per lane group. 64-byte vectors (16 float32 or 8 float64);
LLVM splits them on narrower machines.

Every output element is one chain ``acc = fma(A[r, k], W[k, j], acc)`` for
``k = 0, 1, ..., K - 1``, in that order, whatever the tile shape, the row's
position in the batch or the number of rows: a sample's result does not
depend on the other samples, bit for bit.
"""

import numpy as np
from llvmlite import ir
from numba import prange, types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.extending import intrinsic

from ._jit import cpu_kernel, cpu_parallel_kernel
from ._nonliteral import runtime_zero
from ._threads import num_threads

#: bytes per SIMD vector of the tiles (AVX-512)
VECTOR_BYTES = 64


#: rows of ``W`` per block of the sum over ``k`` in :func:`tile_matmul`
K_BLOCK = 64

#: From this size of ``W`` on (rows spanned, in bytes), :func:`tile_matmul`
#: prefetches the strip of ``W`` the next column of tiles reads into L2
#: while the first row tile runs: such a ``W`` comes from L3 or memory, in
#: rows too far apart for the hardware prefetcher. Below it (``W`` in L2)
#: prefetching costs more than it saves (docs/performance.md,
#: 'Measurements behind the code').
PREFETCH_MIN_BYTES = 4 << 20

#: Each block of ``k`` of :func:`tile_matmul` reads and writes all of
#: ``out``; when that is more than :data:`OUT_BLOCKED_FROM` bytes (so it would
#: stream from memory at every block) and ``W`` is at most
#: :data:`W_REREAD_MAX` bytes (cheap to read again from L3), the rows run in
#: blocks whose part of ``out`` is about :data:`OUT_BLOCK_BYTES`, which stays
#: in L2 from one block of ``k`` to the next. Reading a very large ``W``
#: (large weight gradients) once per block of rows costs more than the
#: blocking saves, hence the bound on ``W`` (docs/performance.md,
#: 'Measurements behind the code').
OUT_BLOCKED_FROM = 4 << 20
W_REREAD_MAX = 16 << 20
OUT_BLOCK_BYTES = 512 << 10

#: ... and when ``W`` is larger, the blocks of ``k`` are this long instead,
#: so ``out`` is read and written a quarter as often (the strip of ``W`` a
#: column of tiles reads, 64 KiB, then comes from L2).
K_BLOCK_LARGE_OUT = 256


def _byte_ptr(builder, ptr, offset):
    """``ptr`` moved by ``offset`` bytes, as an ``i8*``."""
    raw = builder.bitcast(ptr, ir.IntType(8).as_pointer())
    return builder.gep(raw, [offset])


def _tile_intrinsic(MR, NV, prefetch_next=False):
    """An intrinsic computing one ``MR x (NV vectors)`` tile; see
    :func:`tile_matmul` for its arguments. With ``prefetch_next`` it also
    asks for the next ``NV`` vectors of each row ``k`` of ``W`` (the strip
    the next column of tiles reads) to be brought into L2."""

    @intrinsic
    def tile(typingctx, A, W, out, r0, nr, j0, n_cols, K, accumulate):
        arrays = (A, W, out)
        if not all(isinstance(a, types.Array) and a.ndim == 2 for a in arrays):
            raise TypingError("tile: A, W and out must be 2-D arrays")
        if len({a.dtype for a in arrays}) != 1 or not isinstance(A.dtype, types.Float):
            raise TypingError("tile: A, W and out must share one float dtype")

        def codegen(context, builder, sig, args):
            intp = context.get_value_type(types.intp)
            elt = context.get_data_type(A.dtype)
            itemsize = context.get_abi_sizeof(elt)
            VW = VECTOR_BYTES // itemsize
            vec = ir.VectorType(elt, VW)
            vptr = vec.as_pointer()
            a, w, o = (context.make_array(t)(context, builder, v)
                       for t, v in zip(sig.args[:3], args[:3], strict=True))
            r0_, nr_, j0_, ncols_, K_ = (
                context.cast(builder, v, t, types.intp)
                for v, t in zip(args[3:8], sig.args[3:8], strict=True))
            acc_flag = context.cast(builder, args[8], sig.args[8], types.boolean)
            a_s0, a_s1 = cgutils.unpack_tuple(builder, a.strides, 2)
            w_s0, _ = cgutils.unpack_tuple(builder, w.strides, 2)
            o_s0, _ = cgutils.unpack_tuple(builder, o.strides, 2)
            size = ir.Constant(intp, itemsize)

            # rows r0 + min(i, nr - 1): a short tile repeats its last row
            last = builder.sub(nr_, ir.Constant(intp, 1))
            rows = []
            for i in range(MR):
                ci = ir.Constant(intp, i)
                off = builder.select(builder.icmp_signed("<", ci, last), ci, last)
                rows.append(builder.add(r0_, off))
            # vector columns min(j0 + v VW, n_cols - VW): the same for columns
            top = builder.sub(ncols_, ir.Constant(intp, VW))
            cols = []
            for v in range(NV):
                c = builder.add(j0_, ir.Constant(intp, v * VW))
                cols.append(builder.select(builder.icmp_signed("<", c, top), c, top))
            a_rows = [_byte_ptr(builder, a.data, builder.mul(r, a_s0)) for r in rows]
            o_ptrs = [[builder.bitcast(_byte_ptr(builder, o.data, builder.add(
                builder.mul(r, o_s0), builder.mul(c, size))), vptr) for c in cols]
                for r in rows]
            w_cols = [builder.mul(c, size) for c in cols]

            zero = ir.Constant(vec, [ir.Constant(elt, 0.0)] * VW)
            init = [[builder.select(acc_flag, builder.load(p, align=itemsize), zero)
                     for p in row] for row in o_ptrs]
            suffix = f"v{VW}f{8 * itemsize}"  # v16f32, v8f64
            fma = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(vec, [vec, vec, vec]),
                f"llvm.fma.{suffix}")
            splat_mask = ir.Constant(ir.VectorType(ir.IntType(32), VW), [0] * VW)
            i32 = ir.IntType(32)
            prefetch = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), [
                    ir.IntType(8).as_pointer(), i32, i32, i32]), "llvm.prefetch.p0")
            undef = ir.Constant(vec, ir.Undefined)

            entry = builder.basic_block
            header = builder.append_basic_block("tile.k")
            body = builder.append_basic_block("tile.body")
            done = builder.append_basic_block("tile.done")
            builder.branch(header)

            builder.position_at_end(header)
            k = builder.phi(intp)
            k.add_incoming(ir.Constant(intp, 0), entry)
            accs = []
            for i in range(MR):
                accs.append([])
                for v in range(NV):
                    phi = builder.phi(vec)
                    phi.add_incoming(init[i][v], entry)
                    accs[i].append(phi)
            builder.cbranch(builder.icmp_signed("<", k, K_), body, done)

            builder.position_at_end(body)
            w_row = builder.mul(k, w_s0)
            wv = [builder.load(builder.bitcast(_byte_ptr(
                builder, w.data, builder.add(w_row, wc)), vptr), align=itemsize)
                for wc in w_cols]
            if prefetch_next:
                next_strip = builder.add(
                    w_row, builder.mul(builder.add(j0_, ir.Constant(intp, NV * VW)),
                                       size))
                for v in range(NV):
                    ptr = _byte_ptr(builder, w.data, builder.add(
                        next_strip, ir.Constant(intp, v * VECTOR_BYTES)))
                    builder.call(prefetch, [ptr, i32(0), i32(2), i32(1)])
            a_k = builder.mul(k, a_s1)
            for i in range(MR):
                ptr = builder.bitcast(_byte_ptr(builder, a_rows[i], a_k),
                                      elt.as_pointer())
                s = builder.load(ptr, align=itemsize)
                bc = builder.shuffle_vector(
                    builder.insert_element(undef, s, ir.Constant(ir.IntType(32), 0)),
                    undef, splat_mask)
                for v in range(NV):
                    new = builder.call(fma, [bc, wv[v], accs[i][v]])
                    accs[i][v].add_incoming(new, body)
            k.add_incoming(builder.add(k, ir.Constant(intp, 1)), body)
            builder.branch(header)

            builder.position_at_end(done)
            for i in range(MR):
                for v in range(NV):
                    builder.store(accs[i][v], o_ptrs[i][v], align=itemsize)
            return context.get_dummy_value()

        return types.none(A, W, out, r0, nr, j0, n_cols, K, accumulate), codegen

    return tile


_tile_4x4 = _tile_intrinsic(4, 4)
_tile_4x4_prefetch = _tile_intrinsic(4, 4, prefetch_next=True)
_tile_4x1 = _tile_intrinsic(4, 1)
_tile_1x8 = _tile_intrinsic(1, 8)


@cpu_kernel
def tile_matmul(A, W, out, r0, r1, n_cols, K, accumulate):
    """``out[r, :n_cols] (+)= A[r, :K] @ W[:K, :n_cols]`` for ``r0 <= r < r1``.

    Parameters
    ----------
    A : (rows, >= K) float array, any strides (a transposed view is fine).
    W : (>= K, >= n_cols) array, rows contiguous.
    out : (rows, >= n_cols) array, rows contiguous; only rows ``r0 .. r1 - 1``
        and columns ``< n_cols`` are written.
    n_cols : a multiple of the vector width (16 float32, 8 float64) that
        ``W`` and ``out`` have room for; pad ``W`` with zero columns.
    accumulate : add to ``out`` instead of overwriting it.

    Rows go four at a time through 4 x 4-vector tiles (16 accumulators;
    the last 1-3 vectors of columns through 4 x 1 tiles) and one at a time,
    for the last 1-3 rows, through 1 x 8-vector tiles; all compute each
    element by the same chain of multiply-adds. The sum over ``k`` runs in
    blocks of :data:`K_BLOCK`, so that the strip of ``W`` a column of tiles
    reads stays in L1 while the row tiles pass; a block continues the chains
    of the one before it (the tiles start from ``out``), so the blocking
    changes no bit. A large ``W`` is prefetched a strip ahead
    (:data:`PREFETCH_MIN_BYTES`); a large ``out`` is computed in blocks of
    rows, or with longer blocks of ``k`` (:data:`OUT_BLOCKED_FROM`). None of
    this changes the order of any chain either.
    """
    vw = VECTOR_BYTES // out.itemsize
    prefetch = K * W.strides[0] >= PREFETCH_MIN_BYTES
    row_bytes = n_cols * out.itemsize
    rows_per_block = max(1, r1 - r0)
    k_block = K_BLOCK
    if (r1 - r0) * row_bytes > OUT_BLOCKED_FROM:
        if K * W.strides[0] <= W_REREAD_MAX:
            rows_per_block = max(4, OUT_BLOCK_BYTES // row_bytes // 4 * 4)
        else:
            k_block = K_BLOCK_LARGE_OUT
    full_cols = n_cols // (4 * vw) * (4 * vw)
    for b0 in range(r0, r1, rows_per_block):
        b1 = min(r1, b0 + rows_per_block)
        full_rows = b0 + (b1 - b0) // 4 * 4
        for k0 in range(0, K, k_block):
            k1 = min(K, k0 + k_block)
            add = accumulate or k0 > 0
            A_k = A[:, k0:k1]
            W_k = W[k0:k1]
            for j in range(0, full_cols, 4 * vw):
                r_first = b0
                if prefetch and b0 < full_rows:
                    _tile_4x4_prefetch(A_k, W_k, out, b0, 4, j, n_cols, k1 - k0,
                                       add)
                    r_first = b0 + 4
                for r in range(r_first, full_rows, 4):
                    _tile_4x4(A_k, W_k, out, r, 4, j, n_cols, k1 - k0, add)
            for j in range(full_cols, n_cols, vw):
                for r in range(b0, full_rows, 4):
                    _tile_4x1(A_k, W_k, out, r, 4, j, n_cols, k1 - k0, add)
            for j in range(0, n_cols, 8 * vw):
                for r in range(full_rows, b1):
                    _tile_1x8(A_k, W_k, out, r, 1, j, n_cols, k1 - k0, add)


@cpu_kernel
def padded_width(n, itemsize):
    """``n`` rounded up to a whole number of vectors (the ``n_cols`` of
    :func:`tile_matmul`)."""
    vw = VECTOR_BYTES // itemsize
    return (n + vw - 1) // vw * vw


@cpu_kernel
def row_length(n_cols, itemsize):
    """Length to allocate the rows of a ``W`` or ``out`` of ``n_cols`` columns.

    Rows a multiple of 128 bytes long put the same column of successive rows
    into a few L1 cache sets only (at 4 KiB all into one), so a strip of
    ``W`` evicts itself; an odd number of 64-byte vectors per row spreads it
    over all sets (docs/performance.md, 'Measurements behind the code').
    """
    vw = VECTOR_BYTES // itemsize
    return n_cols + vw if (n_cols // vw) % 2 == 0 else n_cols


@cpu_kernel
def n_chunks_for(n, n_threads):
    """One chunk per thread, at least one 4-row tile per chunk."""
    return max(1, min(n_threads, (n + 3) // 4))


@cpu_kernel
def chunk_rows(c, n_chunks, n):
    """Rows ``[s0, s1)`` of chunk ``c`` of ``n`` rows, split in whole tiles."""
    tiles = (n + 3) // 4
    s0 = 4 * (tiles * c // n_chunks)
    s1 = min(n, 4 * (tiles * (c + 1) // n_chunks))
    return s0, s1


@cpu_kernel
def transpose_into(src, dst, row0):
    """``dst[row0 + k, j] = src[j, k]``, eight rows of ``src`` at a time:
    each pass reads the eight rows in order and writes a run of eight
    elements into every row of ``dst``.

    Reading the eight rows whole, rather than a column of 16 rows at a time,
    keeps every read sequential; runs of 16 spill on big matrices
    (docs/performance.md, 'Measurements behind the code').
    """
    n, m = src.shape
    j = 0
    while j + 8 <= n:
        s0, s1, s2, s3 = src[j], src[j + 1], src[j + 2], src[j + 3]
        s4, s5, s6, s7 = src[j + 4], src[j + 5], src[j + 6], src[j + 7]
        for k in range(m):
            d = dst[row0 + k]
            d[j] = s0[k]
            d[j + 1] = s1[k]
            d[j + 2] = s2[k]
            d[j + 3] = s3[k]
            d[j + 4] = s4[k]
            d[j + 5] = s5[k]
            d[j + 6] = s6[k]
            d[j + 7] = s7[k]
        j += 8
    for jj in range(j, n):
        s = src[jj]
        for k in range(m):
            dst[row0 + k, jj] = s[k]


@cpu_kernel
def transpose_padded(W):
    """``W^T`` of ``W (M, K)`` as ``(K, L)``, zero-padded to whole vectors
    (``L = row_length(padded_width(M))``): the ``W`` operand of
    :func:`tile_matmul` for a product ``A @ W^T``."""
    M, K = W.shape
    WT = np.zeros((K, row_length(padded_width(M, W.itemsize), W.itemsize)),
                  W.dtype)
    transpose_into(W, WT, runtime_zero(M))
    return WT


@cpu_kernel
def _rows_nt(A, WT, out, tmp, r0, r1):
    """``out[r] = A[r] @ WT[:, :M]`` for ``r0 <= r < r1`` through the padded
    rows of ``tmp``."""
    M = out.shape[1]
    tile_matmul(A, WT, tmp, r0, r1, padded_width(M, out.itemsize), A.shape[1],
                r1 < r0)
    for r in range(r0, r1):
        for j in range(M):
            out[r, j] = tmp[r, j]


@cpu_kernel
def matmul_nt(A, W, out):
    """``out = A @ W.T`` for ``A (N, K)``, ``W (M, K)``, in the calling
    thread; a row's result does not depend on the other rows."""
    WT = transpose_padded(W)
    tmp = np.empty((A.shape[0], WT.shape[1]), out.dtype)
    _rows_nt(A, WT, out, tmp, runtime_zero(A.shape[0]), A.shape[0])


@cpu_parallel_kernel
def matmul_nt_parallel(A, W, out):
    """:func:`matmul_nt` with the rows of ``A`` split over Numba's threads."""
    WT = transpose_padded(W)
    n = A.shape[0]
    tmp = np.empty((n, WT.shape[1]), out.dtype)
    n_chunks = n_chunks_for(n, num_threads())
    if n_chunks == 1:
        _rows_nt(A, WT, out, tmp, runtime_zero(n), n)
    else:
        for c in prange(n_chunks):
            r0, r1 = chunk_rows(c, n_chunks, n)
            _rows_nt(A, WT, out, tmp, r0, r1)
