"""The network layer: flat parameters, initialisation, forward/backward, training."""

import numpy as np
import pytest
import reference as ref

from numlstm.nn import (
    LSTM,
    SGD,
    Adam,
    Dense,
    DivergenceError,
    MeanSquaredError,
    RMSprop,
    Sequential,
    SigmoidBinaryCrossEntropy,
    SoftmaxCrossEntropy,
    loss_and_gradient,
    train_step,
)


def stacked_net(dtype="float64", return_sequences=False, n_out=2, seed=0):
    return Sequential([LSTM(3, 4, return_sequences=True),
                       LSTM(4, 5, return_sequences=return_sequences),
                       Dense(5, n_out)], dtype=dtype, random_state=seed)


def reference_output(net, X, lengths):
    w = net.get_weights()
    out = X
    for k in range(2):
        zeros = np.zeros((X.shape[0], w[f"lstm.{k}.W_hh"].shape[1]))
        H_out, h_n, _, _ = ref.lstm_forward(out, w[f"lstm.{k}.W_ih"],
                                            w[f"lstm.{k}.W_hh"], w[f"lstm.{k}.b"],
                                            zeros, zeros, lengths)
        out = H_out if (k == 0 or net.layers[1].return_sequences) else h_n
    return ref.dense_forward(out, w["dense.W"], w["dense.b"])


def test_canonical_names_and_shapes():
    net = stacked_net()
    shapes = {k: v.shape for k, v in net.get_weights().items()}
    assert shapes == {
        "lstm.0.W_ih": (16, 3), "lstm.0.W_hh": (16, 4), "lstm.0.b": (16,),
        "lstm.1.W_ih": (20, 4), "lstm.1.W_hh": (20, 5), "lstm.1.b": (20,),
        "dense.W": (2, 5), "dense.b": (2,),
    }
    theta = np.concatenate([a.ravel() for a in net.get_weights().values()])
    np.testing.assert_array_equal(theta, net.params.theta)


def test_two_dense_layers_are_indexed():
    net = Sequential([Dense(3, 4), Dense(4, 1)], dtype="float64")
    assert list(net.get_weights()) == ["dense.0.W", "dense.0.b",
                                       "dense.1.W", "dense.1.b"]


def test_initialisation():
    net = Sequential([LSTM(3, 6), Dense(6, 2)], dtype="float64", random_state=1)
    w = net.get_weights()
    H = 6
    np.testing.assert_array_equal(w["lstm.0.b"][H:2 * H], 1.0)
    np.testing.assert_array_equal(np.delete(w["lstm.0.b"], np.s_[H:2 * H]), 0.0)
    W_hh = w["lstm.0.W_hh"]
    np.testing.assert_allclose(W_hh.T @ W_hh, np.eye(H), atol=1e-12)
    limit = np.sqrt(6 / (3 + 4 * H))
    assert np.abs(w["lstm.0.W_ih"]).max() <= limit
    assert np.abs(w["lstm.0.W_ih"]).max() > 0.5 * limit
    np.testing.assert_array_equal(w["dense.b"], 0.0)


@pytest.mark.parametrize("shape", [(24, 6), (6, 24), (2048, 512)],
                         ids=["tall", "wide", "cholesky-qr"])
def test_orthogonal_init(shape):
    """Orthonormal columns (rows if wide), and the large tall case (Cholesky
    QR) gives LAPACK's sign-fixed Q of the same draw."""
    from numlstm.nn.init import orthogonal

    q = orthogonal(np.random.default_rng(0), *shape)
    assert q.shape == shape
    gram = q.T @ q if shape[0] >= shape[1] else q @ q.T
    np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-12)
    a = np.random.default_rng(0).standard_normal((max(shape), min(shape)))
    qr_q, r = np.linalg.qr(a)
    qr_q *= np.sign(np.diag(r))
    np.testing.assert_allclose(q if shape[0] >= shape[1] else q.T, qr_q, atol=1e-12)


def test_orthogonal_init_float32_cholesky_qr():
    """The float32 Cholesky QR: orthonormal to float32 accuracy, and the
    float64 Q of the same draw to within a few float32 roundings."""
    from numlstm.nn.init import orthogonal

    q32 = orthogonal(np.random.default_rng(1), 2048, 512, np.float32)
    q64 = orthogonal(np.random.default_rng(1), 2048, 512)
    assert q32.dtype == np.float32
    gram = q32.astype(np.float64).T @ q32.astype(np.float64)
    np.testing.assert_allclose(gram, np.eye(512), atol=2e-6)
    np.testing.assert_allclose(q32, q64, atol=1e-6)


def test_cholesky_qr_gives_up_on_a_rank_deficient_matrix():
    """``orthogonal`` then falls back to Householder QR."""
    from numlstm.nn.init import _cholesky_q

    assert _cholesky_q(np.zeros((64, 16), np.float32)) is None
    a = np.random.default_rng(0).standard_normal((64, 16))
    a[:, 3] = a[:, 2]
    assert _cholesky_q(a) is None  # R's diagonal has a ~1e-8
    a = np.random.default_rng(0).standard_normal((4096, 1024)).astype(np.float32)
    q = _cholesky_q(a)
    np.testing.assert_allclose(q.T.astype(np.float64) @ q, np.eye(1024),
                               atol=2e-6)


def test_same_seed_same_weights_other_seed_other_weights():
    a, b, c = stacked_net(seed=3), stacked_net(seed=3), stacked_net(seed=4)
    np.testing.assert_array_equal(a.params.theta, b.params.theta)
    assert not np.array_equal(a.params.theta, c.params.theta)


@pytest.mark.parametrize("return_sequences", [False, True])
def test_forward_matches_reference(return_sequences):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4, 6, 3))
    lengths = np.array([6, 3, 1, 5])
    net = stacked_net(return_sequences=return_sequences)
    out = net.forward(X, lengths)
    expected = reference_output(net, X, lengths)
    if return_sequences:
        live = np.arange(6)[None, :] < lengths[:, None]
        out, expected = out[live], expected[live]
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("loss, targets", [
    (MeanSquaredError(), "real"),
    (SoftmaxCrossEntropy(), "labels"),
    (SigmoidBinaryCrossEntropy(), "binary"),
])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_network_gradient_matches_finite_differences(loss, targets,
                                                     return_sequences):
    rng = np.random.default_rng(1)
    B, T = 3, 4
    X = rng.normal(size=(B, T, 3))
    lengths = np.array([4, 2, 1])
    shape = (B, T) if return_sequences else (B,)
    if targets == "labels":
        y = rng.integers(0, 3, size=shape)
    elif targets == "binary":
        y = rng.integers(0, 2, size=(*shape, 3)).astype(float)
    else:
        y = rng.normal(size=(*shape, 3))
    sw = rng.uniform(0.5, 2.0, size=B)
    net = stacked_net(return_sequences=return_sequences, n_out=3, seed=2)
    theta0 = net.params.theta.copy()

    def f(theta):
        net.params.theta[:] = theta
        return loss_and_gradient(net, loss, X, y, lengths, sw, alpha=0.1)

    f(theta0)
    grad = net.params.grad.copy()
    eps = 1e-6
    numeric = np.empty_like(theta0)
    for k in range(theta0.size):
        e = np.zeros_like(theta0)
        e[k] = eps
        numeric[k] = (f(theta0 + e) - f(theta0 - e)) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


def test_padded_targets_do_not_change_loss_or_gradient():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(2, 5, 3))
    y = rng.normal(size=(2, 5, 2))
    lengths = np.array([5, 2])
    net = stacked_net(return_sequences=True)
    first = loss_and_gradient(net, MeanSquaredError(), X, y, lengths)
    grad = net.params.grad.copy()
    y[1, 2:] = 1e3
    X[1, 2:] = -1e3
    second = loss_and_gradient(net, MeanSquaredError(), X, y, lengths)
    assert first == second
    np.testing.assert_array_equal(grad, net.params.grad)


def test_set_weights_checks_names_shapes_and_values():
    net = stacked_net()
    w = net.get_weights()
    with pytest.raises(ValueError, match="missing"):
        net.set_weights({k: v for k, v in w.items() if k != "dense.b"})
    with pytest.raises(ValueError, match="unexpected"):
        net.set_weights({**w, "dense.c": np.zeros(2)})
    with pytest.raises(ValueError, match="lstm.0.W_hh.*shape"):
        net.set_weights({**w, "lstm.0.W_hh": np.zeros((4, 16))})
    with pytest.raises(ValueError, match="NaN"):
        net.set_weights({**w, "dense.b": np.array([0.0, np.nan])})
    w["dense.b"] = np.array([1.0, 2.0])
    net.set_weights(w)
    np.testing.assert_array_equal(net.get_weights()["dense.b"], [1.0, 2.0])


def test_bad_lengths_and_dtype_raise():
    net = stacked_net()
    X = np.zeros((2, 3, 3))
    with pytest.raises(ValueError, match="lengths must lie in 1..3"):
        net.forward(X, np.array([0, 3]))
    with pytest.raises(ValueError, match="lengths must lie"):
        net.forward(X, np.array([4, 3]))
    with pytest.raises(ValueError, match="2 integers"):
        net.forward(X, np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="float32 or float64"):
        Sequential([Dense(2, 1)], dtype="int32")


@pytest.mark.parametrize("make_opt", [
    lambda be: Adam(be, 1e-2),
    lambda be: SGD(be, 5e-2, momentum=0.9, nesterov=True),
    lambda be: RMSprop(be, 5e-3),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_training_reduces_the_loss(make_opt, dtype):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(32, 8, 3))
    y = np.stack([X[:, :, 0].sum(axis=1) / 4, X[:, -1, 1]], axis=1)
    net = stacked_net(dtype=dtype, seed=0)
    opt, loss = make_opt(net.backend), MeanSquaredError()
    first = loss_and_gradient(net, loss, X, y)
    for _ in range(60):
        train_step(net, loss, opt, X, y, clip_norm=5.0)
    last = loss_and_gradient(net, loss, X, y)
    assert last < 0.5 * first


def test_divergence_raises_and_keeps_weights():
    X = np.ones((4, 3, 3))
    y = np.full((4, 2), np.inf)
    net = stacked_net()
    before = net.params.theta.copy()
    with pytest.raises(DivergenceError, match="diverged"):
        train_step(net, MeanSquaredError(), Adam(net.backend), X, y)
    np.testing.assert_array_equal(net.params.theta, before)
    assert np.all(np.isfinite(net.params.theta))


def test_same_seed_same_training_bit_for_bit():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(16, 5, 3))
    y = rng.normal(size=(16, 2))
    thetas = []
    for _ in range(2):
        net = stacked_net(dtype="float32", seed=7)
        opt = Adam(net.backend, 1e-2)
        for _ in range(5):
            train_step(net, MeanSquaredError(), opt, X, y, clip_norm=1.0)
        thetas.append(net.params.theta.copy())
    np.testing.assert_array_equal(thetas[0], thetas[1])


def test_mismatched_layer_widths_raise():
    with pytest.raises(ValueError, match="layer 1 .*takes 5 features but "
                                         "layer 0 gives 4"):
        Sequential([LSTM(3, 4), Dense(5, 1)])


def _input_grad_net(kind, input_grad):
    from numlstm.nn import BidirectionalLSTM, EncoderDecoder

    kw = dict(dtype="float64", random_state=3, input_grad=input_grad)
    if kind == "stacked":
        return Sequential([LSTM(3, 4, return_sequences=True), LSTM(4, 5),
                           Dense(5, 2)], **kw)
    if kind == "bidirectional":
        return Sequential([BidirectionalLSTM(3, 4), Dense(8, 2)], **kw)
    return EncoderDecoder(3, (4, 5), 5, 2, n_steps_out=2, **kw)


@pytest.mark.parametrize("kind", ["stacked", "bidirectional", "encoder-decoder"])
def test_input_grad_changes_only_the_returned_input_gradient(kind):
    """Networks skip the gradient with respect to their input unless asked;
    the weight gradients are the same to the last bit either way, and the
    input gradient, when asked for, matches finite differences."""
    rng = np.random.default_rng(4)
    X, lengths = rng.standard_normal((3, 5, 3)), np.array([5, 2, 4])
    grads, returned = {}, {}
    for flag in (False, True):
        net = _input_grad_net(kind, flag)
        out = net.forward(X, lengths, training=True)
        dY = np.cos(np.arange(out.size)).reshape(out.shape)
        returned[flag] = net.backward(dY)
        grads[flag] = net.params.grad.copy()
    np.testing.assert_array_equal(grads[False], grads[True])
    assert returned[False] is None
    assert returned[True].shape == X.shape

    def loss(Xp):
        net = _input_grad_net(kind, False)
        out = net.forward(Xp, lengths, training=True)
        return float(np.sum(out * np.cos(np.arange(out.size)).reshape(out.shape)))

    eps, (b, t, d) = 1e-6, (0, 1, 2)
    Xp, Xm = X.copy(), X.copy()
    Xp[b, t, d] += eps
    Xm[b, t, d] -= eps
    fd = (loss(Xp) - loss(Xm)) / (2 * eps)
    assert fd != 0.0
    assert abs(returned[True][b, t, d] - fd) <= 1e-6 * max(1.0, abs(fd))
