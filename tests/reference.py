"""Slow, obvious NumPy implementations: the oracle for every kernel.

Written for clarity, not speed: one Python loop over time, float64 maths,
the textbook LSTM equations. Never import these from ``numlstm``.
"""

import numpy as np


def sigmoid(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    e = np.exp(x[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def log_softmax(z):
    z = np.asarray(z, dtype=np.float64)
    m = z.max(axis=1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))


def lstm_forward(X, W_ih, W_hh, b, h0, c0, lengths):
    """Return (H_out (B,T,H), h_n, c_n, cache) of one LSTM layer."""
    X = np.asarray(X, np.float64)
    B, T, _ = X.shape
    H = W_hh.shape[1]
    h, c = np.array(h0, np.float64), np.array(c0, np.float64)
    H_out = np.zeros((B, T, H))
    cache = []
    for t in range(T):
        a = X[:, t] @ W_ih.T + h @ W_hh.T + b
        i = sigmoid(a[:, :H])
        f = sigmoid(a[:, H:2 * H])
        g = np.tanh(a[:, 2 * H:3 * H])
        o = sigmoid(a[:, 3 * H:])
        c_new = f * c + i * g
        h_new = o * np.tanh(c_new)
        live = (t < np.asarray(lengths))[:, None]
        cache.append((h.copy(), c.copy(), i, f, g, o, c_new, live))
        h = np.where(live, h_new, h)
        c = np.where(live, c_new, c)
        H_out[:, t] = np.where(live, h_new, 0.0)
    return H_out, h, c, (X, W_ih, W_hh, cache)


def lstm_backward(dH_out, dh_n, dc_n, cache):
    """Return (dX, dW_ih, dW_hh, db, dh0, dc0) for :func:`lstm_forward`."""
    X, W_ih, W_hh, steps = cache
    B, T, D = X.shape
    H = W_hh.shape[1]
    dX = np.zeros((B, T, D))
    dW_ih = np.zeros_like(W_ih, dtype=np.float64)
    dW_hh = np.zeros_like(W_hh, dtype=np.float64)
    db = np.zeros(4 * H)
    dh = np.array(dh_n, np.float64)
    dc = np.array(dc_n, np.float64)
    for t in reversed(range(T)):
        h_prev, c_prev, i, f, g, o, c_new, live = steps[t]
        dh_t = np.where(live, dh + dH_out[:, t], 0.0)
        dc_t = np.where(live, dc, 0.0)
        tc = np.tanh(c_new)
        dc_t = dc_t + dh_t * o * (1 - tc ** 2)
        da = np.concatenate([
            dc_t * g * i * (1 - i),
            dc_t * c_prev * f * (1 - f),
            dc_t * i * (1 - g ** 2),
            dh_t * tc * o * (1 - o),
        ], axis=1)
        dX[:, t] = da @ W_ih
        dW_ih += da.T @ X[:, t]
        dW_hh += da.T @ h_prev
        db += da.sum(axis=0)
        dh = np.where(live, da @ W_hh, dh)
        dc = np.where(live, dc_t * f, dc)
    return dX, dW_ih, dW_hh, db, dh, dc


def dense_forward(X, W, b):
    return np.asarray(X, np.float64) @ W.T + b


def dense_backward(X, W, dY):
    return dY @ W, dY.T @ X, dY.sum(axis=0)


def mse_loss(y_pred, y_true, w):
    y_pred = np.asarray(y_pred, np.float64)
    err = (y_pred - y_true) ** 2
    w = np.asarray(w, np.float64)
    loss = (w[:, None] * err).sum() / (w.sum() * y_pred.shape[1])
    grad = 2 * w[:, None] * (y_pred - y_true) / (w.sum() * y_pred.shape[1])
    return loss, grad


def softmax_cross_entropy(logits, labels, w):
    logp = log_softmax(logits)
    w = np.asarray(w, np.float64)
    n = len(labels)
    loss = -(w * logp[np.arange(n), labels]).sum() / w.sum()
    onehot = np.zeros_like(logp)
    onehot[np.arange(n), labels] = 1.0
    grad = w[:, None] * (np.exp(logp) - onehot) / w.sum()
    return loss, grad


def sigmoid_binary_cross_entropy(logits, targets, w):
    z = np.asarray(logits, np.float64)
    w = np.asarray(w, np.float64)
    softplus = np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))
    k = z.shape[1]
    loss = (w[:, None] * (softplus - z * targets)).sum() / (w.sum() * k)
    grad = w[:, None] * (sigmoid(z) - targets) / (w.sum() * k)
    return loss, grad


# Optimiser steps: the textbook updates, returning new arrays (float64).

def sgd_step(theta, g, velocity, lr, momentum, nesterov):
    """SGD with momentum as scikit-learn's ``SGDOptimizer``.

    Returns ``(theta, velocity)``.
    """
    theta = np.asarray(theta, np.float64)
    g = np.asarray(g, np.float64)
    velocity = momentum * np.asarray(velocity, np.float64) - lr * g
    if nesterov:
        return theta + momentum * velocity - lr * g, velocity
    return theta + velocity, velocity


def adam_step(theta, g, m, v, step, lr, beta1, beta2, eps):
    """Adam (Kingma and Ba, 2015, Algorithm 1); ``step`` counts from 1.

    Returns ``(theta, m, v)``.
    """
    g = np.asarray(g, np.float64)
    m = beta1 * np.asarray(m, np.float64) + (1 - beta1) * g
    v = beta2 * np.asarray(v, np.float64) + (1 - beta2) * g ** 2
    m_hat = m / (1 - beta1 ** step)
    v_hat = v / (1 - beta2 ** step)
    theta = np.asarray(theta, np.float64) - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta, m, v


def rmsprop_step(theta, g, sq, lr, rho, eps):
    """RMSprop (Hinton's lecture 6e, PyTorch without momentum).

    Returns ``(theta, sq)``.
    """
    g = np.asarray(g, np.float64)
    sq = rho * np.asarray(sq, np.float64) + (1 - rho) * g ** 2
    return np.asarray(theta, np.float64) - lr * g / (np.sqrt(sq) + eps), sq
