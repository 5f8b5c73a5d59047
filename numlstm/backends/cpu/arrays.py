"""The contract's array operations on NumPy arrays (CPU).

Each is the NumPy expression the network used to evaluate itself before the
backend contract, written into a caller's buffer, so that the CPU results
stay what they were, bit for bit. They move data rather than compute, so
NumPy's own loops are as fast as a kernel would be.
"""

import math

import numpy as np

from . import optimizers


def copy(src, out):
    """``out[...] = src``."""
    np.copyto(out, src)


def fill(out, value):
    """Every element of ``out`` set to ``value``."""
    out.fill(value)


def broadcast(src, out):
    """``out[...] = src``, broadcast."""
    out[...] = src


def add(a, b, out):
    """``out = a + b``."""
    np.add(a, b, out=out)


def mul(a, b, out):
    """``out = a * b``."""
    np.multiply(a, b, out=out)


def take_rows(src, index, out):
    """``out[i] = src[index[i]]``."""
    np.take(src, index, axis=0, out=out)


def reverse_steps(x, lengths, out):
    """Each sequence reversed within its length, padding left in place."""
    B, T = x.shape[:2]
    t = np.arange(T)[None, :]
    L = lengths[:, None]
    rows = np.where(t < L, L - 1 - t, t) + T * np.arange(B)[:, None]
    np.take(x.reshape(B * T, -1), rows.ravel(), axis=0,
            out=out.reshape(B * T, -1))


def merge(a, b, mode, out):
    """Merge two directions' outputs (see the contract)."""
    if mode == "concat":
        H = a.shape[-1]
        out[..., :H] = a
        out[..., H:] = b
    elif mode == "sum":
        np.add(a, b, out=out)
    elif mode == "mul":
        np.multiply(a, b, out=out)
    else:
        np.add(a, b, out=out)
        np.multiply(out, 0.5, out=out)


def unmerge(dY, a, b, mode, da, db):
    """The gradients of :func:`merge`'s inputs."""
    if mode == "concat":
        H = a.shape[-1]
        np.copyto(da, dY[..., :H])
        np.copyto(db, dY[..., H:])
    elif mode == "sum":
        np.copyto(da, dY)
        np.copyto(db, dY)
    elif mode == "mul":
        np.multiply(dY, b, out=da)
        np.multiply(dY, a, out=db)
    else:
        np.multiply(0.5, dY, out=da)
        np.copyto(db, da)


def sum_steps(x, out):
    """``out = x.sum(axis=1)``."""
    np.sum(x, axis=1, out=out)


def sum_rows(x, out):
    """``out = x.sum(axis=0)``."""
    np.sum(x, axis=0, out=out)


def sequence_weights(sample_weight, lengths, out):
    """``sample_weight[b]`` on the real steps of row ``b``, 0 on padding."""
    mask = np.arange(out.shape[1])[None, :] < lengths[:, None]
    np.multiply(sample_weight[:, None], mask, out=out)


def teacher_inputs(start, targets, n_classes, out):
    """Start input, then the targets shifted one step."""
    out[:, 0, :] = start
    if n_classes:
        codes = targets[..., 0] if targets.ndim == 3 else targets
        out[:, 1:, :] = np.eye(n_classes, dtype=out.dtype)[
            codes[:, :-1].astype(np.int64)]
    else:
        out[:, 1:, :] = targets[:, :-1]


def feedback(outputs, n_classes, out):
    """The next decoder input from one step's outputs."""
    if not n_classes:
        np.copyto(out, outputs)
        return
    if outputs.shape[-1] == 1:
        codes = (outputs[..., 0] > 0).astype(np.int64)
    else:
        codes = np.argmax(outputs, axis=-1)
    out[...] = np.eye(n_classes, dtype=out.dtype)[codes]


def l2_penalty(theta, grad, segments, alpha, out):
    """``alpha / 2 * ||w||^2`` over the segments into ``out[0]``, and its
    gradient added to ``grad``."""
    penalty = 0.0
    for start, stop in segments:
        w = theta[start:stop]
        penalty += 0.5 * alpha * float(np.sum(w.astype(np.float64) ** 2))
        grad[start:stop] += alpha * w
    out[0] += penalty


def accumulate(total, value, weight):
    """``total[0] += value[0] * weight``."""
    total[0] += value[0] * weight


def step_guard(loss, norm, status):
    """Flag a non-finite loss or gradient norm (status 1)."""
    if status[0] == 0 and not (math.isfinite(loss[0])
                               and math.isfinite(norm[0])):
        status[0], status[1], status[2] = 1.0, loss[0], norm[0]


def guard_update(theta, backup, status):
    """Undo an update that left a non-finite weight (status 2)."""
    if status[0] == 0 and not math.isfinite(optimizers.global_norm(theta)):
        theta[:] = backup
        status[0] = 2.0
