"""``CUDABackend``: the contract (:class:`numlstm.backends.Backend`) on
numba CUDA device arrays, one module per job as on the CPU."""

from . import (
    arrays,
    conv,
    decoder,
    dense,
    losses,
    lstm,
    memory,
    optimizers,
    pooling,
    training,
)


class CUDABackend:
    """The CUDA kernels behind the backend contract.

    Not registered yet: the estimators reach it once it is (see
    ``docs/architecture.md``, "The CUDA backend").
    """

    name = "cuda"
    is_gpu = True

    empty = staticmethod(memory.empty)
    zeros = staticmethod(memory.zeros)
    asarray = staticmethod(memory.asarray)
    upload = staticmethod(memory.upload)
    to_host = staticmethod(memory.to_host)
    on_host = staticmethod(memory.on_host)

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
    accumulate = staticmethod(arrays.accumulate)
    step_guard = staticmethod(arrays.step_guard)
    teacher_inputs = staticmethod(decoder.teacher_inputs)
    feedback = staticmethod(decoder.feedback)
    l2_penalty = staticmethod(training.l2_penalty)
    guard_update = staticmethod(training.guard_update)

    lstm_gate_grad_width = staticmethod(lstm.lstm_gate_grad_width)
    lstm_aux_width = staticmethod(lstm.lstm_aux_width)
    lstm_forward = staticmethod(lstm.lstm_forward)
    lstm_backward = staticmethod(lstm.lstm_backward)
    dense_forward = staticmethod(dense.dense_forward)
    dense_backward = staticmethod(dense.dense_backward)
    conv1d_forward = staticmethod(conv.conv1d_forward)
    conv1d_backward = staticmethod(conv.conv1d_backward)
    conv2d_forward = staticmethod(conv.conv2d_forward)
    conv2d_backward = staticmethod(conv.conv2d_backward)
    relu_forward = staticmethod(pooling.relu_forward)
    relu_backward = staticmethod(pooling.relu_backward)
    maxpool1d_forward = staticmethod(pooling.maxpool1d_forward)
    maxpool1d_backward = staticmethod(pooling.maxpool_backward)
    maxpool2d_forward = staticmethod(pooling.maxpool2d_forward)
    maxpool2d_backward = staticmethod(pooling.maxpool_backward)

    mse_loss = staticmethod(losses.mse_loss)
    softmax_cross_entropy = staticmethod(losses.softmax_cross_entropy)
    sigmoid_binary_cross_entropy = staticmethod(
        losses.sigmoid_binary_cross_entropy)
    global_norm = staticmethod(optimizers.global_norm)
    clip_grad_norm = staticmethod(optimizers.clip_grad_norm)
    sgd_step = staticmethod(optimizers.sgd_step)
    adam_step = staticmethod(optimizers.adam_step)
    rmsprop_step = staticmethod(optimizers.rmsprop_step)
