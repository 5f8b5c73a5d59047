"""Losses, norms and optimiser steps with the contract's scalar arguments.

The kernels return their loss or norm as a float and take no status; the
contract keeps both in small arrays (a GPU reads them back once per epoch),
which these wrappers fill and honour.
"""

from . import losses, optimizers


def mse_loss(pred, true, w, grad, out):
    """:func:`.losses.mse_loss` into ``out[0]``."""
    out[0] = losses.mse_loss(pred, true, w, grad)


def softmax_cross_entropy(logits, labels, w, grad, out):
    """:func:`.losses.softmax_cross_entropy` into ``out[0]``."""
    out[0] = losses.softmax_cross_entropy(logits, labels, w, grad)


def sigmoid_binary_cross_entropy(logits, targets, w, grad, out):
    """:func:`.losses.sigmoid_binary_cross_entropy` into ``out[0]``."""
    out[0] = losses.sigmoid_binary_cross_entropy(logits, targets, w, grad)


def global_norm(g, out):
    """:func:`.optimizers.global_norm` into ``out[0]``."""
    out[0] = optimizers.global_norm(g)


def clip_grad_norm(g, max_norm, out):
    """:func:`.optimizers.clip_grad_norm` into ``out[0]``."""
    out[0] = optimizers.clip_grad_norm(g, max_norm)


def sgd_step(theta, g, velocity, lr, momentum, nesterov, status):
    """:func:`.optimizers.sgd_step` unless ``status`` is set."""
    if status[0] == 0:
        optimizers.sgd_step(theta, g, velocity, lr, momentum, nesterov)


def adam_step(theta, g, m, v, step, lr, beta1, beta2, eps, status):
    """:func:`.optimizers.adam_step` unless ``status`` is set."""
    if status[0] == 0:
        optimizers.adam_step(theta, g, m, v, step, lr, beta1, beta2, eps)


def rmsprop_step(theta, g, sq, lr, rho, eps, status):
    """:func:`.optimizers.rmsprop_step` unless ``status`` is set."""
    if status[0] == 0:
        optimizers.rmsprop_step(theta, g, sq, lr, rho, eps)
