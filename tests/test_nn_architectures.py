"""Bidirectional and encoder-decoder networks: semantics and gradients."""

import numpy as np
import pytest
import reference as ref

from numlstm.nn import (
    BidirectionalLSTM,
    Dense,
    EncoderDecoder,
    MeanSquaredError,
    Sequential,
    SigmoidBinaryCrossEntropy,
    SoftmaxCrossEntropy,
    loss_and_gradient,
)


def numeric_gradient(f, theta0, eps=1e-6):
    grad = np.empty_like(theta0)
    for k in range(theta0.size):
        e = np.zeros_like(theta0)
        e[k] = eps
        grad[k] = (f(theta0 + e) - f(theta0 - e)) / (2 * eps)
    return grad


def check_gradient(net, loss, X, y, lengths=None, sw=None):
    theta0 = net.params.theta.copy()

    def f(theta):
        net.params.theta[:] = theta
        return loss_and_gradient(net, loss, X, y, lengths, sw, alpha=0.05)

    f(theta0)
    analytic = net.params.grad.copy()
    np.testing.assert_allclose(analytic, numeric_gradient(f, theta0),
                               rtol=1e-5, atol=1e-8)


def reference_bidirectional(w, X, lengths, prefix="lstm.0"):
    """Forward LSTM and an LSTM over each sequence reversed in its length."""
    B, T, _ = X.shape
    H = w[f"{prefix}.forward.W_hh"].shape[1]
    zeros = np.zeros((B, H))
    args = [w[f"{prefix}.forward.{n}"] for n in ("W_ih", "W_hh", "b")]
    H_f, h_f, _, _ = ref.lstm_forward(X, *args, zeros, zeros, lengths)
    X_rev = np.zeros_like(X)
    for b, n in enumerate(lengths):
        X_rev[b, :n] = X[b, :n][::-1]
    args = [w[f"{prefix}.backward.{n}"] for n in ("W_ih", "W_hh", "b")]
    H_r, h_b, _, _ = ref.lstm_forward(X_rev, *args, zeros, zeros, lengths)
    H_b = np.zeros_like(H_r)
    for b, n in enumerate(lengths):
        H_b[b, :n] = H_r[b, :n][::-1]
    return H_f, H_b, h_f, h_b


MERGE = {"concat": lambda a, b: np.concatenate([a, b], axis=-1),
         "sum": np.add, "mul": np.multiply, "ave": lambda a, b: (a + b) / 2}


@pytest.mark.parametrize("merge_mode", list(MERGE))
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_matches_reversed_reference(merge_mode, return_sequences):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3, 5, 2))
    lengths = np.array([5, 3, 1])
    net = Sequential([BidirectionalLSTM(2, 4, merge_mode, return_sequences)],
                     dtype="float64", random_state=1)
    out = net.forward(X, lengths)
    H_f, H_b, h_f, h_b = reference_bidirectional(net.get_weights(), X, lengths)
    if return_sequences:
        expected = MERGE[merge_mode](H_f, H_b)
        live = np.arange(5)[None, :] < lengths[:, None]
        np.testing.assert_allclose(out[live], expected[live], rtol=1e-10,
                                   atol=1e-12)
    else:
        # the backward direction's final state is its output at step 0
        np.testing.assert_allclose(h_b, H_b[:, 0], rtol=1e-12)
        np.testing.assert_allclose(out, MERGE[merge_mode](h_f, h_b), rtol=1e-10,
                                   atol=1e-12)


@pytest.mark.parametrize("merge_mode", list(MERGE))
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_gradient(merge_mode, return_sequences):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3, 4, 2))
    lengths = np.array([4, 2, 1])
    layer = BidirectionalLSTM(6, 3, merge_mode, return_sequences)
    net = Sequential([BidirectionalLSTM(2, 3, "concat", True), layer,
                      Dense(layer.output_size, 2)], dtype="float64",
                     random_state=2)
    y = rng.normal(size=(3, 4, 2) if return_sequences else (3, 2))
    check_gradient(net, MeanSquaredError(), X, y, lengths)


def test_bidirectional_weight_names():
    net = Sequential([BidirectionalLSTM(2, 3, "concat", True),
                      BidirectionalLSTM(6, 4, "sum"), Dense(4, 1)],
                     dtype="float64")
    shapes = {k: v.shape for k, v in net.get_weights().items()}
    assert shapes["lstm.0.forward.W_ih"] == (12, 2)
    assert shapes["lstm.0.backward.W_hh"] == (12, 3)
    assert shapes["lstm.1.forward.W_ih"] == (16, 6)
    assert shapes["lstm.1.backward.b"] == (16,)
    assert shapes["dense.W"] == (1, 4)


def test_bad_merge_mode():
    with pytest.raises(ValueError, match="merge_mode"):
        BidirectionalLSTM(2, 3, "max")


@pytest.mark.parametrize("decoder", ["repeat", "teacher_forcing"])
@pytest.mark.parametrize("target", ["values", "binary", "multiclass"])
def test_encoder_decoder_gradient(decoder, target):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3, 5, 2))
    lengths = np.array([5, 4, 2])
    n_out, feedback, n_classes = {
        "values": (2, "values", 0), "binary": (1, "classes", 2),
        "multiclass": (3, "classes", 3)}[target]
    net = EncoderDecoder(2, (3, 4), 4, n_out, n_steps_out=3, decoder=decoder,
                         feedback=feedback, n_classes=n_classes, dtype="float64",
                         random_state=4)
    if target == "values":
        y, loss = rng.normal(size=(3, 3, 2)), MeanSquaredError()
    elif target == "binary":
        y = rng.integers(0, 2, size=(3, 3, 1)).astype(float)
        loss = SigmoidBinaryCrossEntropy()
    else:
        y, loss = rng.integers(0, 3, size=(3, 3)), SoftmaxCrossEntropy()
    if decoder == "teacher_forcing":
        net.params.views["decoder.start"][...] = rng.normal(size=n_classes or 2)
    check_gradient(net, loss, X, y, lengths, sw=np.array([1.0, 2.0, 0.5]))


def test_encoder_decoder_weight_names_and_checks():
    net = EncoderDecoder(2, (3,), 3, 4, 2, decoder="teacher_forcing",
                         feedback="classes", n_classes=4, dtype="float64")
    assert list(net.get_weights()) == [
        "encoder.0.W_ih", "encoder.0.W_hh", "encoder.0.b", "decoder.0.W_ih",
        "decoder.0.W_hh", "decoder.0.b", "decoder.start", "dense.W", "dense.b"]
    assert net.get_weights()["decoder.0.W_ih"].shape == (12, 4)
    with pytest.raises(ValueError, match="decoder_units .* must equal"):
        EncoderDecoder(2, (3,), 5, 4, 2, decoder="teacher_forcing")
    with pytest.raises(ValueError, match="decoder must be one of"):
        EncoderDecoder(2, (3,), 3, 4, 2, decoder="attention")


def test_teacher_forcing_generation_feeds_back_its_own_predictions():
    """Generating = teacher forcing on the model's own argmax outputs."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(4, 3, 2))
    net = EncoderDecoder(2, (5,), 5, 3, n_steps_out=4, decoder="teacher_forcing",
                         feedback="classes", n_classes=3, dtype="float64",
                         random_state=6)
    net.params.views["decoder.start"][...] = [0.3, -0.2, 0.1]
    generated = net.forward(X).copy()
    forced = net.forward(X, targets=np.argmax(generated, axis=-1))
    np.testing.assert_allclose(forced, generated, rtol=1e-12, atol=1e-14)
