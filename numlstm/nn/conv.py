"""Time-distributed convolution blocks (conv, ReLU, max-pool) and flattening.

Each block applies the same convolution to every time step, as Keras'
``TimeDistributed(Conv1D/Conv2D)``: the time axis is folded into the batch
so that one kernel call convolves every step of every sequence. Data is
channels-last, ``(B, T, L, C)`` for 1-D signals and ``(B, T, H, W, C)`` for
images; weights are in PyTorch's layout, ``W (filters, in_channels,
kernel...)``.
"""

from __future__ import annotations

import numpy as np

from .init import glorot_uniform
from .layers import Layer

PADDINGS = ("valid", "same")


def conv_output_length(size: int, kernel: int, padding: str) -> int:
    """Length after a stride-1 convolution with ``padding``."""
    return size if padding == "same" else size - kernel + 1


def block_output_shape(spatial: tuple, kernel: int, pool: int,
                       padding: str) -> tuple:
    """Spatial shape after one conv block (conv, ReLU, max-pool)."""
    return tuple(conv_output_length(s, kernel, padding) // pool for s in spatial)


class ConvBlock(Layer):
    """Convolution, ReLU and non-overlapping max-pooling, over every step.

    Parameters
    ----------
    spatial : tuple of int
        ``(L,)`` for 1-D signals, ``(H, W)`` for images: the step shape
        without channels.
    in_channels, filters, kernel_size, pool_size : int
    padding : {'valid', 'same'}
        'same' zero-pads ``(kernel_size - 1) // 2`` before and the rest after
        (PyTorch's and Keras' convention).

    Weights: ``W (filters, in_channels, kernel_size[, kernel_size])``
    (Glorot-uniform over fan-in ``in_channels * kernel`` and fan-out
    ``filters * kernel``), ``b (filters,)`` zero.

    Raises
    ------
    ValueError
        If the convolution or the pooling leaves nothing of a step.
    """

    kind = "conv"
    always_indexed = True

    def __init__(self, spatial, in_channels, filters, kernel_size=3,
                 pool_size=2, padding="valid") -> None:
        if padding not in PADDINGS:
            raise ValueError(f"padding must be one of {PADDINGS}, got "
                             f"{padding!r}")
        self.spatial = tuple(int(s) for s in spatial)
        self.ndim = len(self.spatial)
        self.in_channels, self.filters = int(in_channels), int(filters)
        self.kernel_size, self.pool_size = int(kernel_size), int(pool_size)
        self.padding = padding
        self.pad = (self.kernel_size - 1) // 2 if padding == "same" else 0
        self.conv_shape = tuple(conv_output_length(s, self.kernel_size, padding)
                                for s in self.spatial)
        self.out_spatial = tuple(s // self.pool_size for s in self.conv_shape)
        if min(self.conv_shape) < 1 or min(self.out_spatial) < 1:
            conv = tuple(max(s, 0) for s in self.conv_shape)
            pooled = tuple(max(s, 0) for s in self.out_spatial)
            raise ValueError(
                f"a step of shape {self.spatial} becomes {conv} after a "
                f"{padding!r} convolution with kernel_size={kernel_size} and "
                f"{pooled} after pool_size={pool_size}: nothing is "
                "left; use padding='same', a smaller kernel or pool, or fewer "
                "conv blocks.")
        self._shape = None

    def param_shapes(self) -> dict:
        kernel = (self.kernel_size,) * self.ndim
        return {"W": (self.filters, self.in_channels, *kernel),
                "b": (self.filters,)}

    def initialize(self, rng, weights) -> None:
        window = self.kernel_size ** self.ndim
        weights["W"][...] = glorot_uniform(
            rng, self.filters * window, self.in_channels * window,
            shape=weights["W"].shape)
        weights["b"][...] = 0.0

    def _workspace(self, N, dtype):
        if self._shape == (N, dtype):
            return
        be = self.backend
        C, F = self.in_channels, self.filters
        window = self.kernel_size ** self.ndim
        rows = N * int(np.prod(self.conv_shape))
        self.cols = be.empty((rows, C * window), dtype)
        self.dcols = be.empty((rows, C * window), dtype)
        self.conv = be.empty((N, *self.conv_shape, F), dtype)
        self.relu = be.empty((N, *self.conv_shape, F), dtype)
        self.pooled = be.empty((N, *self.out_spatial, F), dtype)
        self.argmax = be.empty((N, *self.out_spatial, F), np.int64)
        self.d_relu = be.empty((N, *self.conv_shape, F), dtype)
        self.d_conv = be.empty((N, *self.conv_shape, F), dtype)
        self.dX = be.empty((N, *self.spatial, C), dtype)
        self._shape = (N, dtype)

    def forward(self, X, lengths, training=False):
        step = (*self.spatial, self.in_channels)
        if X.ndim != 2 + len(step) or X.shape[2:] != step:
            raise ValueError(f"conv block takes steps of shape {step}, got X "
                             f"of shape {X.shape}")
        B, T = X.shape[:2]
        N = B * T
        self._workspace(N, X.dtype)
        self.X = X.reshape(N, *X.shape[2:])
        be, w = self.backend, self.weights
        if self.ndim == 1:
            be.conv1d_forward(self.X, w["W"], w["b"], self.pad, self.cols,
                              self.conv)
        else:
            be.conv2d_forward(self.X, w["W"], w["b"], self.pad, self.pad,
                              self.cols, self.conv)
        be.relu_forward(self.conv, self.relu)
        pool = be.maxpool1d_forward if self.ndim == 1 else be.maxpool2d_forward
        pool(self.relu, self.pool_size, self.pooled, self.argmax)
        return self.pooled.reshape(B, T, *self.pooled.shape[1:])

    def backward(self, dY):
        B, T = dY.shape[:2]
        if dY.shape != (B, T, *self.pooled.shape[1:]) or B * T != len(self.X):
            raise ValueError(f"conv block backward needs a gradient of shape "
                             f"{(*self.X.shape[:1], *self.pooled.shape[1:])} "
                             f"over (B, T), got {dY.shape}")
        be, w, g = self.backend, self.weights, self.grads
        dY = be.asarray(dY, dY.dtype).reshape(B * T, *dY.shape[2:])
        unpool = be.maxpool1d_backward if self.ndim == 1 else \
            be.maxpool2d_backward
        unpool(dY, self.argmax, self.d_relu)
        be.relu_backward(self.conv, self.d_relu, self.d_conv)
        if self.ndim == 1:
            be.conv1d_backward(self.X, w["W"], self.d_conv, self.pad, self.cols,
                               self.dcols, self.dX, g["W"], g["b"])
        else:
            be.conv2d_backward(self.X, w["W"], self.d_conv, self.pad, self.pad,
                               self.cols, self.dcols, self.dX, g["W"], g["b"])
        return self.dX.reshape(B, T, *self.dX.shape[1:])


class FlattenSteps(Layer):
    """``(B, T, *step_shape)`` -> ``(B, T, prod(step_shape))``."""

    kind = "flatten"

    def __init__(self, step_shape) -> None:
        self.step_shape = tuple(int(s) for s in step_shape)
        self.output_size = int(np.prod(self.step_shape))

    def forward(self, X, lengths, training=False):
        if X.shape[2:] != self.step_shape:
            raise ValueError(f"flatten takes steps of shape {self.step_shape}, "
                             f"got X of shape {X.shape}")
        return X.reshape(X.shape[0], X.shape[1], self.output_size)

    def backward(self, dY):
        return dY.reshape(dY.shape[0], dY.shape[1], *self.step_shape)
