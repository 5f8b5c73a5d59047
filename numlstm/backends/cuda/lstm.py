"""The LSTM layer on CUDA: a product for the inputs of all steps, then the
whole time loop in one launch, then products for the gradients.

Forward: the input projection ``b + x_t W_ih^T`` of every row and step in
one tiled product (:mod:`.gemm`) straight into ``gates``, then the time
loop in one launch. Backward: the time loop in one launch (gate gradients
in place, ``dh`` carried through ``W_hh``), then ``dW_ih = G^T X``,
``dW_hh = G^T h_prev`` and ``dX = G W_ih`` as tiled products over all rows
and steps, and ``db`` as column sums.

The time loop runs in one of two kernels, chosen by :func:`time_loop` from
the layer's size and the device's limits (:mod:`.plan`): the rows kernels
of :mod:`.lstm_rows` for small layers, the cooperative kernels of
:mod:`.lstm_units` above that. Padded steps follow the CPU kernels: the
state is carried, and ``H_out``, ``gates`` and ``h_prev`` are 0 there.
A layer with a projection or layer normalisation runs in
:mod:`.lstm_ln_proj` instead (its own time loops and ``aux`` cache).
"""

import numpy as np
from numba import cuda

from ._jit import device_limits
from .gemm import column_sums, gemm
from .lstm_ln_proj import (
    aux_width,
    lstm_backward_ln_proj,
    lstm_forward_ln_proj,
)
from .lstm_rows import backward_rows_kernel, forward_rows_kernel
from .lstm_units import backward_units_kernel, forward_units_kernel
from .peephole import peephole_grads
from .plan import ROWS_PER_BLOCK, cooperative_split, recurrent_kernel


def time_loop(hidden: int, itemsize: int) -> str:
    """``'rows'`` or ``'cooperative'``: the kernel that runs a layer's time
    loop on the current device (:func:`.plan.recurrent_kernel`)."""
    return recurrent_kernel(hidden, itemsize, device_limits())


def _threads(items: int) -> int:
    """Whole warps for ``items`` per block, at most 256."""
    return min(256, max(32, -(-items // 32) * 32))


def _or_empty(a, dtype, ndim=1):
    """``a``, or an empty device array for a cell without peepholes or a
    recurrent dropout mask: the kernels take an array either way."""
    return cuda.device_array((0,) * ndim, dtype) if a is None else a


def lstm_forward(X, W_ih, W_hh, b, h0, c0, lengths,
                 H_out, h_n, c_n, gates, cells, h_prev, rec, peep=None,
                 h_mask=None, zone=None, W_hr=None, ln=None, aux=None):
    """One LSTM layer forward over ragged sequences (see the contract);
    ``rec`` is unused here (the pre-activations go straight into ``gates``).
    A projection or layer norm runs in :mod:`.lstm_ln_proj`.
    """
    if W_hr is not None or ln is not None:
        lstm_forward_ln_proj(X, W_ih, W_hh, b, h0, c0, lengths, H_out, h_n,
                             c_n, gates, cells, h_prev, h_mask, W_hr, ln, aux)
        return
    B, T, D = X.shape
    H = h_n.shape[1]
    G = W_hh.shape[0]
    gemm(X.reshape(B * T, D), W_ih, gates.reshape(B * T, G), bias=b,
         b_t=True)
    dtype = np.dtype(X.dtype).type
    one, zero = dtype(1), dtype(0)
    peep = _or_empty(peep, X.dtype)
    h_mask = _or_empty(h_mask, X.dtype, 2)
    zone = _or_empty(zone, X.dtype, 3)
    if time_loop(H, X.dtype.itemsize) == "rows":
        R = ROWS_PER_BLOCK
        shared = 2 * R * H * X.dtype.itemsize
        forward_rows_kernel[-(-B // R), _threads(R * G), 0, shared](
            W_hh, h0, c0, lengths, H_out, h_n, c_n, gates, cells, h_prev,
            peep, h_mask, zone, one, zero)
    else:
        blocks, units = cooperative_split(H, device_limits().n_sms)
        forward_units_kernel[blocks, _threads(B * units)](
            W_hh, h0, c0, lengths, H_out, h_n, c_n, gates, cells, h_prev,
            peep, h_mask, zone, units, one, zero)


def lstm_gate_grad_width(n_hidden: int, dtype, n_gates: int = 4) -> int:
    """Row length of ``gates``: ``n_gates * H`` (the backward needs no
    padding)."""
    return int(n_gates) * int(n_hidden)


def lstm_aux_width(n_hidden: int, proj_size: int, layer_norm: bool,
                   dtype) -> int:
    """Row length of the ``aux`` cache of a layer with a projection and/or
    layer norm (:func:`.lstm_ln_proj.aux_layout`), 0 for the other cells;
    no size is refused."""
    return aux_width(n_hidden, proj_size, layer_norm, dtype)


def lstm_backward(X, W_ih, W_hh, c0, lengths, gates, cells, h_prev,
                  dH_out, dh_n, dc_n, dX, dW_ih, dW_hh, db, dh0, dc0,
                  dgates, input_grad, peep=None, dpeep=None, h_mask=None,
                  zone=None, W_hr=None, dW_hr=None, ln=None, dln=None,
                  aux=None):
    """BPTT of :func:`lstm_forward` (see the contract): the time loop in one
    launch, then the weight gradients and, when ``input_grad``, ``dX``."""
    if W_hr is not None or ln is not None:
        lstm_backward_ln_proj(X, W_ih, W_hh, c0, lengths, gates, cells, h_prev,
                              dH_out, dh_n, dc_n, dX, dW_ih, dW_hh, db, dh0,
                              dc0, dgates, input_grad, h_mask, W_hr, dW_hr, ln,
                              dln, aux)
        return
    B, H = dh_n.shape
    dtype = np.dtype(X.dtype).type
    one, zero = dtype(1), dtype(0)
    has_peep = peep is not None
    peep = _or_empty(peep, X.dtype)
    h_mask = _or_empty(h_mask, X.dtype, 2)
    zone = _or_empty(zone, X.dtype, 3)
    if time_loop(H, X.dtype.itemsize) == "rows":
        R = ROWS_PER_BLOCK
        shared = 2 * R * H * X.dtype.itemsize
        backward_rows_kernel[-(-B // R), _threads(R * H), 0, shared](
            W_hh, c0, lengths, gates, cells, dH_out, dh_n, dc_n, dh0, dc0,
            dgates, peep, h_mask, zone, one, zero)
    else:
        blocks, units = cooperative_split(H, device_limits().n_sms)
        backward_units_kernel[blocks, _threads(B * units)](
            W_hh, c0, lengths, gates, cells, dH_out, dh_n, dc_n, dh0, dc0,
            dgates, peep, h_mask, zone, units, one, zero)
    # over every (row, step) in order: G (B T, 4H)
    T, D = X.shape[1], X.shape[2]
    G = dgates.reshape(B * T, W_hh.shape[0])
    gemm(G, X.reshape(B * T, D), dW_ih, a_t=True)
    gemm(G, h_prev.reshape(B * T, H), dW_hh, a_t=True)
    column_sums(G, db)
    if input_grad:
        gemm(G, W_ih, dX.reshape(B * T, D))
    if has_peep:
        peephole_grads(dgates, cells, c0, dpeep)
