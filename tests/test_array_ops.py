"""The contract's array operations and status rules on every backend.

Each operation runs through the backend (inputs moved in with ``asarray``,
outputs read with ``to_host``) and is compared with a plain NumPy
expression written here, independently of the CPU backend's code, in both
float dtypes. The status tests pin the rules of the contract's module
docstring: a set status turns every optimiser step into a no-op.
"""

import numpy as np
import pytest
from helpers import DTYPES

rng = np.random.default_rng(11)


def _run(backend, op, inputs, outputs, *scalars):
    """Call ``op`` with ``inputs`` moved to ``backend`` and zeroed outputs
    of the given ``(shape, dtype)``; the outputs back on the host."""
    moved = [backend.asarray(a, a.dtype) for a in inputs]
    outs = [backend.zeros(shape, dtype) for shape, dtype in outputs]
    getattr(backend, op)(*moved, *scalars, *outs)
    return [backend.to_host(o).copy() for o in outs]


@pytest.mark.parametrize("dtype", DTYPES)
def test_elementwise_and_reductions(backend, dtype):
    a = rng.normal(size=(3, 4, 5)).astype(dtype)
    b = rng.normal(size=(3, 4, 5)).astype(dtype)
    (s,) = _run(backend, "add", [a, b], [(a.shape, dtype)])
    (p,) = _run(backend, "mul", [a, b], [(a.shape, dtype)])
    (c,) = _run(backend, "copy", [a], [(a.shape, dtype)])
    (steps,) = _run(backend, "sum_steps", [a], [((3, 5), dtype)])
    (rows,) = _run(backend, "sum_rows", [a[:, 0]], [((5,), dtype)])
    (bc,) = _run(backend, "broadcast", [a[:, :1]], [(a.shape, dtype)])
    np.testing.assert_array_equal(s, a + b)
    np.testing.assert_array_equal(p, a * b)
    np.testing.assert_array_equal(c, a)
    np.testing.assert_allclose(steps, a.sum(axis=1), rtol=1e-6)
    np.testing.assert_allclose(rows, a[:, 0].sum(axis=0), rtol=1e-6)
    np.testing.assert_array_equal(bc, np.repeat(a[:, :1], 4, axis=1))
    out = backend.zeros((2, 3), dtype)
    backend.fill(out, 2.5)
    np.testing.assert_array_equal(backend.to_host(out), np.full((2, 3), 2.5))


@pytest.mark.parametrize("dtype", DTYPES)
def test_take_rows_and_reverse_steps(backend, dtype):
    x = rng.normal(size=(4, 5, 3)).astype(dtype)
    index = np.array([3, 0, 3], dtype=np.int64)
    (taken,) = _run(backend, "take_rows", [x, index], [((3, 5, 3), dtype)])
    np.testing.assert_array_equal(taken, x[index])
    lengths = np.array([5, 1, 3, 4], dtype=np.int64)
    (rev,) = _run(backend, "reverse_steps", [x, lengths], [(x.shape, dtype)])
    want = x.copy()
    for b, L in enumerate(lengths):
        want[b, :L] = x[b, :L][::-1]
    np.testing.assert_array_equal(rev, want)
    (back,) = _run(backend, "reverse_steps", [rev, lengths], [(x.shape, dtype)])
    np.testing.assert_array_equal(back, x)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["concat", "sum", "mul", "ave"])
def test_merge_and_its_gradient(backend, dtype, mode):
    a = rng.normal(size=(2, 3, 4)).astype(dtype)
    b = rng.normal(size=(2, 3, 4)).astype(dtype)
    width = 8 if mode == "concat" else 4
    out = backend.zeros((2, 3, width), dtype)
    backend.merge(backend.asarray(a, dtype), backend.asarray(b, dtype), mode,
                  out)
    want = {"concat": np.concatenate([a, b], axis=-1), "sum": a + b,
            "mul": a * b, "ave": 0.5 * (a + b)}[mode]
    np.testing.assert_allclose(backend.to_host(out), want, rtol=1e-6)
    dY = rng.normal(size=(2, 3, width)).astype(dtype)
    da, db = backend.zeros(a.shape, dtype), backend.zeros(b.shape, dtype)
    backend.unmerge(backend.asarray(dY, dtype), backend.asarray(a, dtype),
                    backend.asarray(b, dtype), mode, da, db)
    want_a, want_b = {"concat": lambda: (dY[..., :4], dY[..., 4:]),
                      "sum": lambda: (dY, dY), "mul": lambda: (dY * b, dY * a),
                      "ave": lambda: (0.5 * dY, 0.5 * dY)}[mode]()
    np.testing.assert_allclose(backend.to_host(da), want_a, rtol=1e-6)
    np.testing.assert_allclose(backend.to_host(db), want_b, rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sequence_weights(backend, dtype):
    sw = np.array([1.0, 0.5, 2.0], dtype=dtype)
    lengths = np.array([4, 1, 2], dtype=np.int64)
    (w,) = _run(backend, "sequence_weights", [sw, lengths], [((3, 4), dtype)])
    want = sw[:, None] * (np.arange(4)[None, :] < lengths[:, None])
    np.testing.assert_array_equal(w, want)


@pytest.mark.parametrize("dtype", DTYPES)
def test_teacher_inputs_values_and_classes(backend, dtype):
    start = np.array([9.0, 8.0], dtype=dtype)
    targets = rng.normal(size=(2, 3, 2)).astype(dtype)
    (vals,) = _run(backend, "teacher_inputs", [start, targets],
                   [((2, 3, 2), dtype)], 0)
    np.testing.assert_array_equal(vals[:, 0], np.broadcast_to(start, (2, 2)))
    np.testing.assert_array_equal(vals[:, 1:], targets[:, :-1])
    labels = np.array([[2, 0, 1], [1, 1, 2]], dtype=np.int64)
    start3 = np.zeros(3, dtype=dtype)
    (codes,) = _run(backend, "teacher_inputs", [start3, labels],
                    [((2, 3, 3), dtype)], 3)
    np.testing.assert_array_equal(codes[:, 0], 0.0)
    np.testing.assert_array_equal(codes[:, 1:], np.eye(3)[labels[:, :-1]])
    binary = np.array([[[1.0], [0.0], [1.0]]], dtype=dtype)
    (two,) = _run(backend, "teacher_inputs", [np.zeros(2, dtype), binary],
                  [((1, 3, 2), dtype)], 2)
    np.testing.assert_array_equal(two[0, 1:], [[0.0, 1.0], [1.0, 0.0]])


@pytest.mark.parametrize("dtype", DTYPES)
def test_feedback(backend, dtype):
    outputs = rng.normal(size=(3, 1, 4)).astype(dtype)
    (vals,) = _run(backend, "feedback", [outputs], [(outputs.shape, dtype)], 0)
    np.testing.assert_array_equal(vals, outputs)
    (codes,) = _run(backend, "feedback", [outputs], [((3, 1, 4), dtype)], 4)
    np.testing.assert_array_equal(codes, np.eye(4)[outputs.argmax(-1)])
    logit = np.array([[[0.3]], [[-1.0]]], dtype=dtype)
    (two,) = _run(backend, "feedback", [logit], [((2, 1, 2), dtype)], 2)
    np.testing.assert_array_equal(two[:, 0], [[0.0, 1.0], [1.0, 0.0]])


@pytest.mark.parametrize("dtype", DTYPES)
def test_l2_penalty_and_accumulate(backend, dtype):
    theta = rng.normal(size=10).astype(dtype)
    grad = rng.normal(size=10).astype(dtype)
    segments = np.array([[0, 4], [6, 9]], dtype=np.int64)
    g = backend.asarray(grad.copy(), dtype)  # may be grad itself on a CPU
    out = backend.zeros(1, np.float64)
    backend.fill(out, 1.0)
    backend.l2_penalty(backend.asarray(theta, dtype), g, segments, 0.1, out)
    mask = np.zeros(10, bool)
    mask[0:4] = mask[6:9] = True
    t64 = theta.astype(np.float64)
    np.testing.assert_allclose(backend.to_host(out)[0],
                               1.0 + 0.05 * np.sum(t64[mask] ** 2), rtol=1e-12)
    want = grad.copy()
    want[mask] += (0.1 * theta[mask]).astype(dtype)
    np.testing.assert_allclose(backend.to_host(g), want, rtol=1e-6)
    total = backend.zeros(1, np.float64)
    value = backend.asarray(np.array([2.0]), np.float64)
    backend.accumulate(total, value, 0.25)
    backend.accumulate(total, value, 0.5)
    assert backend.to_host(total)[0] == 1.5


def _status(backend, flag=0.0):
    return backend.asarray(np.array([flag, 0.0, 0.0]), np.float64)


@pytest.mark.parametrize("loss, norm, flagged", [
    (1.0, 2.0, False), (np.nan, 2.0, True), (1.0, np.inf, True)])
def test_step_guard_flags_non_finite_scalars(backend, loss, norm, flagged):
    status = _status(backend)
    scalar = lambda v: backend.asarray(np.array([v]), np.float64)  # noqa: E731
    backend.step_guard(scalar(loss), scalar(norm), status)
    got = backend.to_host(status)
    assert got[0] == (1.0 if flagged else 0.0)
    if flagged:
        np.testing.assert_array_equal(got[1:], [loss, norm])


@pytest.mark.parametrize("dtype", DTYPES)
def test_guard_update_restores_the_backup(backend, dtype):
    backup = backend.asarray(np.arange(4.0, dtype=dtype), dtype)
    theta = backend.asarray(np.array([0.0, np.inf, 2.0, 3.0], dtype), dtype)
    status = _status(backend)
    backend.guard_update(theta, backup, status)
    np.testing.assert_array_equal(backend.to_host(theta), np.arange(4.0))
    assert backend.to_host(status)[0] == 2.0
    fine = backend.asarray(np.ones(4, dtype), dtype)
    status = _status(backend)
    backend.guard_update(fine, backup, status)
    np.testing.assert_array_equal(backend.to_host(fine), np.ones(4))
    assert backend.to_host(status)[0] == 0.0


@pytest.mark.parametrize("flag", [0.0, 1.0])
def test_optimiser_steps_do_nothing_once_status_is_set(backend, flag):
    n = 6
    g = backend.asarray(rng.normal(size=n), np.float64)

    def fresh():
        return backend.asarray(np.ones(n), np.float64)

    steps = {
        "sgd": lambda t: backend.sgd_step(t, g, backend.zeros(n, np.float64),
                                          0.1, 0.9, False, _status(backend, flag)),
        "adam": lambda t: backend.adam_step(
            t, g, backend.zeros(n, np.float64), backend.zeros(n, np.float64),
            1, 0.1, 0.9, 0.999, 1e-8, _status(backend, flag)),
        "rmsprop": lambda t: backend.rmsprop_step(
            t, g, backend.zeros(n, np.float64), 0.1, 0.9, 1e-8,
            _status(backend, flag)),
    }
    for name, step in steps.items():
        theta = fresh()
        step(theta)
        moved = not np.array_equal(backend.to_host(theta), np.ones(n))
        assert moved == (flag == 0.0), name


@pytest.mark.parametrize("dtype", DTYPES)
def test_scalar_outputs_of_losses_and_norms(backend, dtype):
    pred = rng.normal(size=(4, 2)).astype(dtype)
    true = rng.normal(size=(4, 2)).astype(dtype)
    w = np.array([1.0, 0.0, 2.0, 1.0], dtype=dtype)
    out, grad = backend.zeros(1, np.float64), backend.zeros((4, 2), dtype)
    backend.mse_loss(backend.asarray(pred, dtype), backend.asarray(true, dtype),
                     backend.asarray(w, dtype), grad, out)
    d = pred.astype(np.float64) - true
    want = np.sum(w[:, None] * d ** 2) / w.sum() / 2
    np.testing.assert_allclose(backend.to_host(out)[0], want, rtol=1e-5)
    g = backend.asarray(np.array([3.0, 4.0], dtype), dtype)
    norm = backend.zeros(1, np.float64)
    backend.global_norm(g, norm)
    assert backend.to_host(norm)[0] == pytest.approx(5.0)
    backend.clip_grad_norm(g, 1.0, norm)
    assert backend.to_host(norm)[0] == pytest.approx(5.0)
    np.testing.assert_allclose(backend.to_host(g), [0.6, 0.8], rtol=1e-6)
