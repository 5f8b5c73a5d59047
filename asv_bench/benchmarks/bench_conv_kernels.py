"""asv benchmarks of the CPU convolution, ReLU and max-pooling kernels.

The shapes are those of the CNN-LSTM (issue 5): the time axis is folded into
the batch, so ``N = batch * steps``. "moving_square" is a batch of 32
sequences of 10 frames of 50x50 single-channel images through 16 3x3
filters; "signal" is 32 sequences of 20 windows of 64 samples with 4
channels through 32 filters of width 5. Every ``setup`` allocates the
buffers once (as the network does) and calls the kernels once, so the
timings see neither allocation nor JIT compilation. float32 only, the
training dtype.
"""

import numpy as np

from numlstm.backends.cpu import conv, pooling

try:  # ReLU moved next to the other activations (older commits: pooling)
    from numlstm.backends.cpu.activations import relu_backward, relu_forward
except ImportError:
    relu_backward, relu_forward = pooling.relu_backward, pooling.relu_forward

PADDINGS = ["valid", "same"]


def _pads(K, padding):
    if padding == "valid":
        return 0, 0
    before = (K - 1) // 2
    return before, K - 1 - before


class Conv1DKernels:
    """Conv1D over a folded batch: forward, and forward + backward."""

    #: name -> (N, L, C, F, K)
    shapes = {"signal": (32 * 20, 64, 4, 32, 5)}
    params = (list(shapes), PADDINGS)
    param_names = ["shape", "padding"]
    timeout = 300.0

    def setup(self, shape, padding):
        N, L, C, F, K = self.shapes[shape]
        before, after = _pads(K, padding)
        L_out = L + before + after - K + 1
        rng = np.random.default_rng(0)
        dt = np.float32
        self.pad_left = before
        self.X = rng.standard_normal((N, L, C)).astype(dt)
        self.W = (rng.standard_normal((F, C, K)) / np.sqrt(C * K)).astype(dt)
        self.b = rng.standard_normal(F).astype(dt)
        self.cols = np.empty((N * L_out, C * K), dt)
        self.out = np.empty((N, L_out, F), dt)
        self.dY = rng.standard_normal((N, L_out, F)).astype(dt)
        self.dcols = np.empty_like(self.cols)
        self.dX = np.empty_like(self.X)
        self.dW = np.empty_like(self.W)
        self.db = np.empty_like(self.b)
        self.time_forward_backward(shape, padding)  # compile once

    def time_forward(self, shape, padding):
        conv.conv1d_forward(self.X, self.W, self.b, self.pad_left, self.cols,
                            self.out)

    def time_forward_backward(self, shape, padding):
        conv.conv1d_forward(self.X, self.W, self.b, self.pad_left, self.cols,
                            self.out)
        conv.conv1d_backward(self.X, self.W, self.dY, self.pad_left, self.cols,
                             self.dcols, self.dX, self.dW, self.db)


class Conv2DKernels:
    """Conv2D over a folded batch of frames: forward, and forward + backward."""

    #: name -> (N, H, W, C, F, K)
    shapes = {"moving_square": (32 * 10, 50, 50, 1, 16, 3)}
    params = (list(shapes), PADDINGS)
    param_names = ["shape", "padding"]
    timeout = 300.0

    def setup(self, shape, padding):
        N, H, W, C, F, K = self.shapes[shape]
        before, after = _pads(K, padding)
        H_out = H + before + after - K + 1
        W_out = W + before + after - K + 1
        rng = np.random.default_rng(0)
        dt = np.float32
        self.pad = before
        self.X = rng.standard_normal((N, H, W, C)).astype(dt)
        self.W = (rng.standard_normal((F, C, K, K)) / K).astype(dt)
        self.b = rng.standard_normal(F).astype(dt)
        self.cols = np.empty((N * H_out * W_out, C * K * K), dt)
        self.out = np.empty((N, H_out, W_out, F), dt)
        self.dY = rng.standard_normal((N, H_out, W_out, F)).astype(dt)
        self.dcols = np.empty_like(self.cols)
        self.dX = np.empty_like(self.X)
        self.dW = np.empty_like(self.W)
        self.db = np.empty_like(self.b)
        self.time_forward_backward(shape, padding)  # compile once

    def time_forward(self, shape, padding):
        conv.conv2d_forward(self.X, self.W, self.b, self.pad, self.pad,
                            self.cols, self.out)

    def time_forward_backward(self, shape, padding):
        conv.conv2d_forward(self.X, self.W, self.b, self.pad, self.pad,
                            self.cols, self.out)
        conv.conv2d_backward(self.X, self.W, self.dY, self.pad, self.pad,
                             self.cols, self.dcols, self.dX, self.dW, self.db)


class ReluMaxPool2D:
    """ReLU then 2x2 max-pooling of the moving-square conv output, and back."""

    #: name -> (N, H, W, C, pool): the 'same' Conv2DKernels output
    shapes = {"moving_square": (32 * 10, 50, 50, 16, 2)}
    params = [list(shapes)]
    param_names = ["shape"]
    timeout = 300.0

    def setup(self, shape):
        N, H, W, C, pool = self.shapes[shape]
        rng = np.random.default_rng(0)
        dt = np.float32
        self.pool = pool
        self.X = rng.standard_normal((N, H, W, C)).astype(dt)
        self.A = np.empty_like(self.X)
        self.out = np.empty((N, H // pool, W // pool, C), dt)
        self.argmax = np.empty(self.out.shape, np.int64)
        self.dY = rng.standard_normal(self.out.shape).astype(dt)
        self.dA = np.empty_like(self.X)
        self.dX = np.empty_like(self.X)
        self.time_forward_backward(shape)  # compile once

    def time_forward(self, shape):
        relu_forward(self.X, self.A)
        pooling.maxpool2d_forward(self.A, self.pool, self.out, self.argmax)

    def time_forward_backward(self, shape):
        self.time_forward(shape)
        pooling.maxpool2d_backward(self.dY, self.argmax, self.dA)
        relu_backward(self.X, self.dA, self.dX)
