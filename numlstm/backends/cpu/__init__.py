"""CPU backend: ``@njit`` kernels over NumPy arrays.

Importing this package compiles nothing: every kernel is compiled on its
first call and then cached on disk (``cache=True``).
"""

import numpy as np

from . import (
    activations,
    arrays,
    conv,
    dense,
    lstm,
    lstm_cell,
    lstm_ln_proj,
    lstm_wide,
    pooling,
    scalars,
)

#: From this many weights on (``4H * (D + H)``, 12 MiB in float32), an LSTM
#: layer splits each step over threads by gate columns (:mod:`.lstm_wide`)
#: rather than the batch over threads (:mod:`.lstm`): the weights no longer
#: fit the caches, and each thread then streams only its share of them.
WIDE_MIN_WEIGHTS = 3 << 20

#: ... and from this many for batches of at most :data:`WIDE_MAX_SMALL_BATCH`
#: rows, which the row split would leave on one thread.
WIDE_MIN_WEIGHTS_SMALL_BATCH = 1 << 18
WIDE_MAX_SMALL_BATCH = 4


def use_wide(n_samples, n_inputs, n_hidden):
    """Whether an LSTM layer of these sizes runs split over gate columns.

    Both versions compute every value by the same operations in the same
    order, so the choice changes the speed only, never a bit of the result
    (docs/performance.md has the measurements behind the thresholds).

    Examples
    --------
    >>> use_wide(32, 8, 64), use_wide(64, 512, 1024), use_wide(1, 32, 256)
    (False, True, True)
    """
    weights = 4 * n_hidden * (n_inputs + n_hidden)
    if n_samples <= WIDE_MAX_SMALL_BATCH:
        return weights >= WIDE_MIN_WEIGHTS_SMALL_BATCH
    return weights >= WIDE_MIN_WEIGHTS


def _kernel_peep(peep, W_hh, zone):
    """The kernels' ``peep``: the peephole weights, zeros for another
    variant cell (coupled gates, zoneout: they run the variant cell's code,
    which reads peepholes), None for the plain cell (see
    :func:`.lstm.lstm_forward`)."""
    if peep is not None:
        return peep
    if W_hh.shape[0] != 4 * W_hh.shape[1] or zone is not None:
        return np.zeros(W_hh.shape[0] - W_hh.shape[1], W_hh.dtype)
    return None


def lstm_forward(X, W_ih, W_hh, b, h0, c0, lengths,
                 H_out, h_n, c_n, gates, cells, h_prev, rec, peep=None,
                 h_mask=None, zone=None, W_hr=None, ln=None, aux=None):
    """:func:`.lstm.lstm_forward` or :func:`.lstm_wide.lstm_forward_wide`;
    :func:`.lstm_ln_proj.lstm_forward_ln_proj` for a projection or layer
    norm."""
    if W_hr is not None or ln is not None:
        lstm_ln_proj.lstm_forward_ln_proj(X, W_ih, W_hh, b, h0, c0, lengths,
                                          H_out, h_n, c_n, gates, cells,
                                          h_prev, h_mask, W_hr, ln, aux)
        return
    lstm_forward_split(use_wide(X.shape[0], X.shape[2], W_hh.shape[1]),
                       X, W_ih, W_hh, b, h0, c0, lengths, H_out, h_n, c_n,
                       gates, cells, h_prev, rec, peep, h_mask, zone)


def lstm_backward(X, W_ih, W_hh, c0, lengths, gates, cells, h_prev,
                  dH_out, dh_n, dc_n,
                  dX, dW_ih, dW_hh, db, dh0, dc0, dgates, input_grad,
                  peep=None, dpeep=None, h_mask=None, zone=None, W_hr=None,
                  dW_hr=None, ln=None, dln=None, aux=None):
    """:func:`.lstm.lstm_backward` or :func:`.lstm_wide.lstm_backward_wide`;
    :func:`.lstm_ln_proj.lstm_backward_ln_proj` for a projection or layer
    norm."""
    if W_hr is not None or ln is not None:
        lstm_ln_proj.lstm_backward_ln_proj(
            X, W_ih, W_hh, c0, lengths, gates, cells, h_prev, dH_out, dh_n,
            dc_n, dX, dW_ih, dW_hh, db, dh0, dc0, dgates, input_grad, h_mask,
            W_hr, dW_hr, ln, dln, aux)
        return
    lstm_backward_split(use_wide(X.shape[0], X.shape[2], W_hh.shape[1]),
                        X, W_ih, W_hh, c0, lengths, gates, cells, h_prev,
                        dH_out, dh_n, dc_n, dX, dW_ih, dW_hh, db, dh0, dc0,
                        dgates, input_grad, peep, dpeep, h_mask, zone)


def lstm_forward_split(wide, X, W_ih, W_hh, b, h0, c0, lengths,
                       H_out, h_n, c_n, gates, cells, h_prev, rec, peep=None,
                       h_mask=None, zone=None):
    """:func:`lstm_forward` with the thread split given (``wide``: by gate
    columns), for the tests that run both."""
    kernel = lstm_wide.lstm_forward_wide if wide else lstm.lstm_forward
    kernel(X, W_ih, W_hh, b, h0, c0, lengths, H_out, h_n, c_n, gates, cells,
           h_prev, rec, _kernel_peep(peep, W_hh, zone), h_mask, zone)


def lstm_backward_split(wide, X, W_ih, W_hh, c0, lengths, gates, cells, h_prev,
                        dH_out, dh_n, dc_n, dX, dW_ih, dW_hh, db, dh0, dc0,
                        dgates, input_grad, peep=None, dpeep=None,
                        h_mask=None, zone=None):
    """:func:`lstm_backward` with the thread split given."""
    kernel = lstm_wide.lstm_backward_wide if wide else lstm.lstm_backward
    kernel(X, W_ih, W_hh, c0, lengths, gates, cells, h_prev, dH_out, dh_n, dc_n,
           dX, dW_ih, dW_hh, db, dh0, dc0, dgates, input_grad,
           _kernel_peep(peep, W_hh, zone), dpeep, h_mask, zone)


class CPUBackend:
    """The CPU kernels under the names every backend shares.

    Arrays live in host memory, so moving data in and out is a no-op copy to
    a C-contiguous array of the requested dtype.

    Examples
    --------
    >>> from numlstm.backends import resolve
    >>> resolve("cpu").name
    'cpu'
    """

    name = "cpu"
    is_gpu = False

    # kernels (see numlstm.backends.Backend, the contract)
    lstm_forward = staticmethod(lstm_forward)
    lstm_backward = staticmethod(lstm_backward)
    conv1d_forward = staticmethod(conv.conv1d_forward)
    conv1d_backward = staticmethod(conv.conv1d_backward)
    conv2d_forward = staticmethod(conv.conv2d_forward)
    conv2d_backward = staticmethod(conv.conv2d_backward)
    relu_forward = staticmethod(activations.relu_forward)
    relu_backward = staticmethod(activations.relu_backward)
    maxpool1d_forward = staticmethod(pooling.maxpool1d_forward)
    maxpool1d_backward = staticmethod(pooling.maxpool1d_backward)
    maxpool2d_forward = staticmethod(pooling.maxpool2d_forward)
    maxpool2d_backward = staticmethod(pooling.maxpool2d_backward)
    dense_forward = staticmethod(dense.dense_forward)
    dense_backward = staticmethod(dense.dense_backward)
    mse_loss = staticmethod(scalars.mse_loss)
    softmax_cross_entropy = staticmethod(scalars.softmax_cross_entropy)
    sigmoid_binary_cross_entropy = staticmethod(
        scalars.sigmoid_binary_cross_entropy)
    sgd_step = staticmethod(scalars.sgd_step)
    adam_step = staticmethod(scalars.adam_step)
    rmsprop_step = staticmethod(scalars.rmsprop_step)
    global_norm = staticmethod(scalars.global_norm)
    clip_grad_norm = staticmethod(scalars.clip_grad_norm)

    # array operations (see numlstm.backends.Backend)
    copy = staticmethod(arrays.copy)
    fill = staticmethod(arrays.fill)
    broadcast = staticmethod(arrays.broadcast)
    add = staticmethod(arrays.add)
    mul = staticmethod(arrays.mul)
    take_rows = staticmethod(arrays.take_rows)
    reverse_steps = staticmethod(arrays.reverse_steps)
    merge = staticmethod(arrays.merge)
    unmerge = staticmethod(arrays.unmerge)
    sum_steps = staticmethod(arrays.sum_steps)
    sum_rows = staticmethod(arrays.sum_rows)
    sequence_weights = staticmethod(arrays.sequence_weights)
    teacher_inputs = staticmethod(arrays.teacher_inputs)
    feedback = staticmethod(arrays.feedback)
    l2_penalty = staticmethod(arrays.l2_penalty)
    accumulate = staticmethod(arrays.accumulate)
    step_guard = staticmethod(arrays.step_guard)
    guard_update = staticmethod(arrays.guard_update)

    @staticmethod
    def lstm_gate_grad_width(n_hidden, dtype, n_gates=4):
        """Row length of ``gates`` for ``lstm_backward`` to turn them into
        their gradients in place, when passed as ``dgates`` too (otherwise
        it copies them into a scratch of this width, allocated every call
        unless ``dgates`` has it)."""
        return lstm_cell.gate_width(n_hidden, np.dtype(dtype).itemsize,
                                    n_gates)

    @staticmethod
    def lstm_aux_width(n_hidden, proj_size, layer_norm, dtype):
        """Row length of the cache a projection and/or layer norm keep for
        the backward (:func:`.lstm_ln_proj.aux_layout`); 0 otherwise."""
        return lstm_ln_proj.aux_width(n_hidden, proj_size, layer_norm, dtype)

    # memory
    @staticmethod
    def empty(shape, dtype):
        """An uninitialised array in this backend's memory."""
        return np.empty(shape, dtype=dtype)

    @staticmethod
    def zeros(shape, dtype):
        """A zero-filled array in this backend's memory."""
        return np.zeros(shape, dtype=dtype)

    @staticmethod
    def asarray(a, dtype):
        """``a`` as a C-contiguous array of ``dtype`` in this backend's memory."""
        return np.ascontiguousarray(a, dtype=dtype)

    @staticmethod
    def upload(host, out):
        """Copy a host array into ``out``."""
        np.copyto(out, host)

    @staticmethod
    def to_host(a):
        """``a`` as a NumPy array (``a`` itself: it already is one)."""
        return np.asarray(a)

    @staticmethod
    def on_host(a):
        """Always True: NumPy reads every CPU array."""
        return True

    def __repr__(self):
        return "CPUBackend()"


__all__ = ["CPUBackend", "use_wide"]
