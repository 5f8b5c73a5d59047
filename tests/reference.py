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


def _peep_parts(peep, H, n_gates):
    """The peephole weights ``(p_i, p_f, p_o)`` (zeros when there are none;
    with coupled gates ``peep`` is ``(2H,)``, i then o, and ``p_f`` is 0)."""
    if peep is None:
        return np.zeros(H), np.zeros(H), np.zeros(H)
    peep = np.asarray(peep, np.float64)
    if n_gates == 3:
        return peep[:H], np.zeros(H), peep[H:]
    return peep[:H], peep[H:2 * H], peep[2 * H:]


def lstm_forward(X, W_ih, W_hh, b, h0, c0, lengths, peep=None, h_mask=None,
                 zone=None, W_hr=None, ln=None):
    """Return (H_out (B,T,H), h_n, c_n, cache) of one LSTM layer.

    ``W_hh`` of 4H rows: gates i, f, g, o. Of 3H rows: coupled gates
    (CIFG), blocks i, g, o and ``f = 1 - i``. ``peep``: peephole weights
    ``(3H,)`` i, f, o (``(2H,)`` i, o with coupled gates), i and f seeing
    ``c_{t-1}``, o seeing ``c_t``. ``h_mask (B, H)``: recurrent dropout,
    ``h_{t-1}`` times the mask in the recurrent product at every step.
    ``zone (B, T, H)``: zoneout, each unit keeps ``z`` of its previous
    state, ``c_t = z c_{t-1} + (1 - z) c~_t`` and the same for ``h``, where
    ``c~_t``, ``h~_t`` are the cell's new values (o's peephole sees
    ``c~_t``).

    ``W_hr (P, H)``: a projection (LSTMP, Sak et al. 2014), ``h_t = W_hr
    (o * tanh(c_t))`` of width P; ``W_hh``, ``h0``, ``h_mask`` and the
    outputs ``H_out``, ``h_n`` are then P wide. ``ln = (g_ih (4H,), g_hh
    (4H,), g_c (H,), beta_c (H,))``: layer normalisation (Ba et al. 2016,
    as haste's LayerNormLSTM), the gate pre-activations ``g_ih *
    LN(x_t W_ih^T) + g_hh * LN(h_{t-1} W_hh^T) + b`` and ``h_t = o *
    tanh(g_c * LN(c_t) + beta_c)``, with ``LN(a) = (a - mean(a)) /
    sqrt(var(a) + LN_EPS)`` over each row. Neither with peepholes,
    coupled gates or zoneout.
    """
    if W_hr is not None or ln is not None:
        assert peep is None and zone is None
        return _lstm_forward_ln_proj(X, W_ih, W_hh, b, h0, c0, lengths,
                                     h_mask, W_hr, ln)
    X = np.asarray(X, np.float64)
    B, T, _ = X.shape
    H = W_hh.shape[1]
    n_gates = W_hh.shape[0] // H
    p_i, p_f, p_o = _peep_parts(peep, H, n_gates)
    h, c = np.array(h0, np.float64), np.array(c0, np.float64)
    m = np.ones((B, H)) if h_mask is None else np.asarray(h_mask, np.float64)
    H_out = np.zeros((B, T, H))
    cache = []
    for t in range(T):
        a = X[:, t] @ W_ih.T + (m * h) @ W_hh.T + b
        i = sigmoid(a[:, :H] + p_i * c)
        if n_gates == 3:
            f = 1.0 - i
            g = np.tanh(a[:, H:2 * H])
        else:
            f = sigmoid(a[:, H:2 * H] + p_f * c)
            g = np.tanh(a[:, 2 * H:3 * H])
        c_new = f * c + i * g
        o = sigmoid(a[:, (n_gates - 1) * H:] + p_o * c_new)
        h_new = o * np.tanh(c_new)
        live = (t < np.asarray(lengths))[:, None]
        z = np.zeros((B, H)) if zone is None else np.asarray(zone[:, t],
                                                              np.float64)
        cache.append((m * h, c.copy(), i, f, g, o, c_new, live, z))
        c_new = z * c + (1 - z) * c_new
        h_new = z * h + (1 - z) * h_new
        h = np.where(live, h_new, h)
        c = np.where(live, c_new, c)
        H_out[:, t] = np.where(live, h_new, 0.0)
    return H_out, h, c, (X, W_ih, W_hh, cache, peep, m)


def lstm_backward(dH_out, dh_n, dc_n, cache):
    """Return (dX, dW_ih, dW_hh, db, dh0, dc0) for :func:`lstm_forward`,
    and ``dpeep`` after them when it had peephole weights."""
    if isinstance(cache[0], str):  # "ln_proj"
        return _lstm_backward_ln_proj(dH_out, dh_n, dc_n, cache)
    X, W_ih, W_hh, steps, peep, m = cache
    B, T, D = X.shape
    H = W_hh.shape[1]
    n_gates = W_hh.shape[0] // H
    p_i, p_f, p_o = _peep_parts(peep, H, n_gates)
    dX = np.zeros((B, T, D))
    dW_ih = np.zeros_like(W_ih, dtype=np.float64)
    dW_hh = np.zeros_like(W_hh, dtype=np.float64)
    db = np.zeros(n_gates * H)
    dp_i, dp_f, dp_o = np.zeros(H), np.zeros(H), np.zeros(H)
    dh = np.array(dh_n, np.float64)
    dc = np.array(dc_n, np.float64)
    for t in reversed(range(T)):
        h_prev, c_prev, i, f, g, o, c_new, live, z = steps[t]
        dh_all = np.where(live, dh + dH_out[:, t], 0.0)
        dc_all = np.where(live, dc, 0.0)
        dh_t, dc_t = (1 - z) * dh_all, (1 - z) * dc_all
        tc = np.tanh(c_new)
        da_o = dh_t * tc * o * (1 - o)
        dc_t = dc_t + dh_t * o * (1 - tc ** 2) + da_o * p_o
        da_g = dc_t * i * (1 - g ** 2)
        if n_gates == 3:
            da_i = dc_t * (g - c_prev) * i * (1 - i)
            da = np.concatenate([da_i, da_g, da_o], axis=1)
            dc_prev = dc_t * f + da_i * p_i
        else:
            da_i = dc_t * g * i * (1 - i)
            da_f = dc_t * c_prev * f * (1 - f)
            da = np.concatenate([da_i, da_f, da_g, da_o], axis=1)
            dc_prev = dc_t * f + da_i * p_i + da_f * p_f
            dp_f += (da_f * c_prev).sum(axis=0)
        dp_i += (da_i * c_prev).sum(axis=0)
        dp_o += (da_o * c_new).sum(axis=0)
        dX[:, t] = da @ W_ih
        dW_ih += da.T @ X[:, t]
        dW_hh += da.T @ h_prev
        db += da.sum(axis=0)
        dh = np.where(live, (da @ W_hh) * m + z * dh_all, dh)
        dc = np.where(live, dc_prev + z * dc_all, dc)
    grads = (dX, dW_ih, dW_hh, db, dh, dc)
    if peep is None:
        return grads
    dpeep = [dp_i, dp_o] if n_gates == 3 else [dp_i, dp_f, dp_o]
    return (*grads, np.concatenate(dpeep))


#: the layer normalisation's epsilon (as torch.nn.LayerNorm's default)
LN_EPS = 1e-5


def layer_norm(a):
    """``(a - mean) / sqrt(var + LN_EPS)`` over the last axis, and the
    ``1 / sqrt(var + LN_EPS)`` of each row."""
    mu = a.mean(axis=-1, keepdims=True)
    rstd = 1.0 / np.sqrt(((a - mu) ** 2).mean(axis=-1, keepdims=True) + LN_EPS)
    return (a - mu) * rstd, rstd


def layer_norm_backward(dy, xhat, rstd):
    """The gradient of :func:`layer_norm`'s input from ``dy``, its output's."""
    return rstd * (dy - dy.mean(axis=-1, keepdims=True)
                   - xhat * (dy * xhat).mean(axis=-1, keepdims=True))


def _lstm_forward_ln_proj(X, W_ih, W_hh, b, h0, c0, lengths, h_mask, W_hr,
                          ln):
    """:func:`lstm_forward` with a projection and/or layer normalisation."""
    X = np.asarray(X, np.float64)
    B, T, _ = X.shape
    H = W_ih.shape[0] // 4
    P = W_hh.shape[1]
    h, c = np.array(h0, np.float64), np.array(c0, np.float64)
    m = np.ones((B, P)) if h_mask is None else np.asarray(h_mask, np.float64)
    H_out = np.zeros((B, T, P))
    steps = []
    for t in range(T):
        a_x, a_h = X[:, t] @ W_ih.T, (m * h) @ W_hh.T
        norms = None
        if ln is None:
            a = a_x + a_h + b
        else:
            g_ih, g_hh, g_c, beta_c = ln
            xh_x, r_x = layer_norm(a_x)
            xh_h, r_h = layer_norm(a_h)
            a = g_ih * xh_x + g_hh * xh_h + b
        i, f = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H])
        g, o = np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
        c_new = f * c + i * g
        if ln is None:
            cc = c_new
        else:
            xh_c, r_c = layer_norm(c_new)
            cc = g_c * xh_c + beta_c
            norms = (xh_x, r_x, xh_h, r_h, xh_c, r_c)
        mm = o * np.tanh(cc)
        h_new = mm if W_hr is None else mm @ W_hr.T
        live = (t < np.asarray(lengths))[:, None]
        steps.append((m * h, c.copy(), i, f, g, o, cc, mm, live, norms))
        h = np.where(live, h_new, h)
        c = np.where(live, c_new, c)
        H_out[:, t] = np.where(live, h_new, 0.0)
    return H_out, h, c, ("ln_proj", X, W_ih, W_hh, W_hr, ln, m, steps)


def _lstm_backward_ln_proj(dH_out, dh_n, dc_n, cache):
    """:func:`lstm_backward` of :func:`_lstm_forward_ln_proj`: the plain
    gradients, then ``dW_hr`` (with a projection), then ``d g_ih, d g_hh,
    d g_c, d beta_c`` (with layer normalisation)."""
    _, X, W_ih, W_hh, W_hr, ln, m, steps = cache
    B, T, D = X.shape
    H = W_ih.shape[0] // 4
    dX = np.zeros((B, T, D))
    dW_ih, dW_hh = np.zeros(W_ih.shape), np.zeros(W_hh.shape)
    db = np.zeros(4 * H)
    dW_hr = None if W_hr is None else np.zeros(W_hr.shape)
    dln = None if ln is None else [np.zeros(4 * H), np.zeros(4 * H),
                                   np.zeros(H), np.zeros(H)]
    dh = np.array(dh_n, np.float64)
    dc = np.array(dc_n, np.float64)
    for t in reversed(range(T)):
        h_prev, c_prev, i, f, g, o, cc, mm, live, norms = steps[t]
        dh_t = np.where(live, dh + dH_out[:, t], 0.0)
        dc_t = np.where(live, dc, 0.0)
        if W_hr is None:
            dm = dh_t
        else:
            dm = dh_t @ W_hr
            dW_hr += dh_t.T @ mm
        tc = np.tanh(cc)
        da_o = dm * tc * o * (1 - o)
        dcc = dm * o * (1 - tc ** 2)
        if ln is None:
            dc_t = dc_t + dcc
        else:
            xh_x, r_x, xh_h, r_h, xh_c, r_c = norms
            dln[2] += (dcc * xh_c).sum(axis=0)
            dln[3] += dcc.sum(axis=0)
            dc_t = dc_t + layer_norm_backward(dcc * ln[2], xh_c, r_c)
        da_i = dc_t * g * i * (1 - i)
        da_f = dc_t * c_prev * f * (1 - f)
        da_g = dc_t * i * (1 - g ** 2)
        da = np.concatenate([da_i, da_f, da_g, da_o], axis=1)
        dc_prev = dc_t * f
        if ln is None:
            da_x = da_h = da
        else:
            dln[0] += (da * xh_x).sum(axis=0)
            dln[1] += (da * xh_h).sum(axis=0)
            da_x = layer_norm_backward(da * ln[0], xh_x, r_x)
            da_h = layer_norm_backward(da * ln[1], xh_h, r_h)
        dX[:, t] = da_x @ W_ih
        dW_ih += da_x.T @ X[:, t]
        dW_hh += da_h.T @ h_prev
        db += da.sum(axis=0)
        dh = np.where(live, (da_h @ W_hh) * m, dh)
        dc = np.where(live, dc_prev, dc)
    grads = [dX, dW_ih, dW_hh, db, dh, dc]
    if W_hr is not None:
        grads.append(dW_hr)
    if ln is not None:
        grads.extend(dln)
    return tuple(grads)


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


# Convolutions (stride 1, zero padding, channels-last data, PyTorch weights),
# ReLU and non-overlapping max-pooling: one loop per output position.

def conv1d_forward(X, W, b, pad_left, pad_right):
    """``out[n, t, f] = b[f] + sum_{c,k} Xpad[n, t+k, c] W[f, c, k]``.

    ``X (N, L, C)``, ``W (F, C, K)``; returns ``(N, L + pads - K + 1, F)``.
    """
    X = np.asarray(X, np.float64)
    W = np.asarray(W, np.float64)
    N, L, C = X.shape
    F, _, K = W.shape
    Xp = np.zeros((N, pad_left + L + pad_right, C))
    Xp[:, pad_left:pad_left + L] = X
    L_out = Xp.shape[1] - K + 1
    out = np.zeros((N, L_out, F))
    for n in range(N):
        for t in range(L_out):
            window = Xp[n, t:t + K, :]              # (K, C)
            for f in range(F):
                out[n, t, f] = b[f] + np.sum(window.T * W[f])
    return out


def conv1d_backward(X, W, dY, pad_left, pad_right):
    """Return ``(dX, dW, db)`` of :func:`conv1d_forward` given ``dY``."""
    X = np.asarray(X, np.float64)
    W = np.asarray(W, np.float64)
    dY = np.asarray(dY, np.float64)
    N, L, C = X.shape
    F, _, K = W.shape
    Xp = np.zeros((N, pad_left + L + pad_right, C))
    Xp[:, pad_left:pad_left + L] = X
    dXp = np.zeros_like(Xp)
    dW = np.zeros_like(W)
    for n in range(N):
        for t in range(dY.shape[1]):
            for f in range(F):
                g = dY[n, t, f]
                dXp[n, t:t + K, :] += g * W[f].T
                dW[f] += g * Xp[n, t:t + K, :].T
    return dXp[:, pad_left:pad_left + L], dW, dY.sum(axis=(0, 1))


def conv2d_forward(X, W, b, pads):
    """2-D version of :func:`conv1d_forward`.

    ``X (N, H, W, C)``, ``W (F, C, KH, KW)``, ``pads = (top, bottom, left,
    right)``; returns ``(N, H_out, W_out, F)``.
    """
    X = np.asarray(X, np.float64)
    W = np.asarray(W, np.float64)
    top, bottom, left, right = pads
    N, H, Wd, C = X.shape
    F, _, KH, KW = W.shape
    Xp = np.zeros((N, top + H + bottom, left + Wd + right, C))
    Xp[:, top:top + H, left:left + Wd] = X
    H_out, W_out = Xp.shape[1] - KH + 1, Xp.shape[2] - KW + 1
    out = np.zeros((N, H_out, W_out, F))
    for n in range(N):
        for i in range(H_out):
            for j in range(W_out):
                window = Xp[n, i:i + KH, j:j + KW, :]        # (KH, KW, C)
                for f in range(F):
                    out[n, i, j, f] = b[f] + np.sum(
                        window.transpose(2, 0, 1) * W[f])
    return out


def conv2d_backward(X, W, dY, pads):
    """Return ``(dX, dW, db)`` of :func:`conv2d_forward` given ``dY``."""
    X = np.asarray(X, np.float64)
    W = np.asarray(W, np.float64)
    dY = np.asarray(dY, np.float64)
    top, bottom, left, right = pads
    N, H, Wd, C = X.shape
    F, _, KH, KW = W.shape
    Xp = np.zeros((N, top + H + bottom, left + Wd + right, C))
    Xp[:, top:top + H, left:left + Wd] = X
    dXp = np.zeros_like(Xp)
    dW = np.zeros_like(W)
    for n in range(N):
        for i in range(dY.shape[1]):
            for j in range(dY.shape[2]):
                for f in range(F):
                    g = dY[n, i, j, f]
                    dXp[n, i:i + KH, j:j + KW, :] += g * W[f].transpose(1, 2, 0)
                    dW[f] += g * Xp[n, i:i + KH, j:j + KW, :].transpose(2, 0, 1)
    return dXp[:, top:top + H, left:left + Wd], dW, dY.sum(axis=(0, 1, 2))


def relu_forward(X):
    return np.maximum(np.asarray(X, np.float64), 0.0)


def relu_backward(X, dY):
    return np.where(np.asarray(X) > 0, np.asarray(dY, np.float64), 0.0)


def maxpool1d_forward(X, pool):
    """Return ``(out, argmax)``: max of each window of ``pool`` steps of
    ``X (N, L, C)`` (the tail ``L % pool`` dropped) and its index into ``L``
    (the first one on ties)."""
    X = np.asarray(X, np.float64)
    N, L, C = X.shape
    L_out = L // pool
    out = np.zeros((N, L_out, C))
    argmax = np.zeros((N, L_out, C), np.int64)
    for n in range(N):
        for j in range(L_out):
            for c in range(C):
                window = X[n, j * pool:(j + 1) * pool, c]
                argmax[n, j, c] = j * pool + np.argmax(window)
                out[n, j, c] = window.max()
    return out, argmax


def maxpool1d_backward(X, pool, dY):
    """``dX``: each window's ``dY`` goes to its (first) maximum of ``X``."""
    _, argmax = maxpool1d_forward(X, pool)
    dX = np.zeros(np.shape(X))
    N, L_out, C = argmax.shape
    for n in range(N):
        for j in range(L_out):
            for c in range(C):
                dX[n, argmax[n, j, c], c] += dY[n, j, c]
    return dX


def maxpool2d_forward(X, pool):
    """Return ``(out, argmax)`` over ``pool x pool`` windows of
    ``X (N, H, W, C)``; ``argmax`` is the flat index ``h * W + w``."""
    X = np.asarray(X, np.float64)
    N, H, Wd, C = X.shape
    H_out, W_out = H // pool, Wd // pool
    out = np.zeros((N, H_out, W_out, C))
    argmax = np.zeros((N, H_out, W_out, C), np.int64)
    for n in range(N):
        for i in range(H_out):
            for j in range(W_out):
                for c in range(C):
                    window = X[n, i * pool:(i + 1) * pool,
                               j * pool:(j + 1) * pool, c]
                    p, q = np.unravel_index(np.argmax(window), window.shape)
                    argmax[n, i, j, c] = (i * pool + p) * Wd + j * pool + q
                    out[n, i, j, c] = window.max()
    return out, argmax


def maxpool2d_backward(X, pool, dY):
    """``dX``: each window's ``dY`` goes to its (first, row-major) maximum."""
    _, argmax = maxpool2d_forward(X, pool)
    N, H, Wd, C = np.shape(X)
    dX = np.zeros((N, H * Wd, C))
    _, H_out, W_out, _ = argmax.shape
    for n in range(N):
        for i in range(H_out):
            for j in range(W_out):
                for c in range(C):
                    dX[n, argmax[n, i, j, c], c] += dY[n, i, j, c]
    return dX.reshape(N, H, Wd, C)
