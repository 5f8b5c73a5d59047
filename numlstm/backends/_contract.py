"""The contract between the network (:mod:`numlstm.nn`) and a backend.

A backend is an object with the methods of :class:`Backend`. The network and
the estimators reach every kernel and every array operation through it, and
never do NumPy work on an array the backend owns: a CUDA backend's device
arrays have no operators, no fancy indexing and no ``copy()``, and each
silent host copy would stall the device.

Rules every method follows:

- **The caller allocates the outputs** (with :meth:`Backend.empty` or
  :meth:`Backend.zeros`), passes them last, and the method fills them; no
  method allocates an array it returns, except the three that make arrays
  (``empty``, ``zeros``, ``asarray``) and ``to_host``.
- **Shapes and dtypes are checked by the caller**, in Python, before the
  call: kernels trust them and never raise. ``B`` is the batch, ``T`` the
  steps, ``D`` the input features, ``H`` the hidden units, ``K`` the
  outputs; "float" means the network's dtype (float32 or float64), the same
  for every float argument of one call; lengths and indices are int64.
- **Arrays are C-contiguous** unless a line says a view may be strided.
- **Outputs never alias inputs**, except where a line says they may.
- **Scalars stay in the backend**: a loss, a norm or a status is written to
  a 1-element float64 array, which the estimator reads with
  :meth:`Backend.to_host` once per epoch, not once per batch.
- **Status** (``status (3,)`` float64): ``status[0]`` is 0 while training is
  sound; the first non-finite loss or gradient norm sets it to 1 and an
  update that overflows to 2, recording the loss and the norm in
  ``status[1:]``; once set, optimiser steps do nothing. It stays set until
  the caller zeroes it.

:func:`check_backend` compares a backend's methods with this protocol, and
``tests/test_backend_contract.py`` runs it on every registered backend.
"""

from __future__ import annotations

import inspect
from typing import Protocol, runtime_checkable

#: the epsilon of the layer-normalised LSTM cell (:meth:`Backend.lstm_forward`'s
#: ``ln``), as torch.nn.LayerNorm's default
LAYER_NORM_EPS = 1e-5


@runtime_checkable
class Backend(Protocol):
    """Everything the network and the estimators ask of a backend."""

    #: the name it is registered under (``'cpu'``, ``'cuda'``)
    name: str
    #: whether its arrays live on a GPU
    is_gpu: bool

    # ----------------------------------------------------------- memory
    def empty(self, shape, dtype):
        """An uninitialised array."""

    def zeros(self, shape, dtype):
        """A zero-filled array."""

    def asarray(self, a, dtype):
        """``a`` (a host array or one of this backend's) as a C-contiguous
        array of ``dtype`` of this backend; returned as it is when it
        already is one. One of the two ways data crosses from the host."""

    def upload(self, host, out) -> None:
        """Copy the host array ``host`` into ``out`` (same shape); the other
        way in, for buffers reused across batches."""

    def to_host(self, a):
        """``a``'s values as a NumPy array: the one way out. It may share
        memory with ``a`` (on the CPU it does): copy what must outlive the
        next kernel call."""

    def on_host(self, a) -> bool:
        """Whether NumPy may read ``a`` directly. The network checks the
        lengths and labels of such arrays itself; arrays of the backend's
        own memory were checked by the estimator before they were moved."""

    # ----------------------------------------------------- array operations
    def copy(self, src, out) -> None:
        """``out[...] = src``, same shapes (views may be strided)."""

    def fill(self, out, value: float) -> None:
        """Every element of ``out`` set to ``value``."""

    def broadcast(self, src, out) -> None:
        """``out[...] = src`` under NumPy's broadcasting, ``src``'s shape a
        suffix of ``out``'s with ones allowed: a state repeated over steps,
        ``(B, 1, H) -> (B, T, H)``, or a vector over rows."""

    def add(self, a, b, out) -> None:
        """``out = a + b``, same shapes; ``out`` may alias ``a`` or ``b``."""

    def mul(self, a, b, out) -> None:
        """``out = a * b``, same shapes (a dropout mask); may alias."""

    def take_rows(self, src, index, out) -> None:
        """``out[i] = src[index[i]]``: gather a mini-batch. ``src (N, ...)``,
        ``index (B,)`` int64 in ``0..N-1``, ``out (B, ...)``."""

    def reverse_steps(self, x, lengths, out) -> None:
        """Each sequence of ``x (B, T, F)`` reversed within its own length:
        ``out[b, t] = x[b, L_b - 1 - t]`` for ``t < L_b``, padded steps
        copied as they are. Its own inverse; ``out`` must not alias ``x``."""

    def merge(self, a, b, mode: str, out) -> None:
        """Merge two directions' outputs ``(..., H)``: ``mode`` 'concat'
        (``out (..., 2H)``), 'sum', 'mul' or 'ave' (``0.5 * (a + b)``)."""

    def unmerge(self, dY, a, b, mode: str, da, db) -> None:
        """The gradients of :meth:`merge`'s inputs from that of its output
        ``dY``, given the inputs ``a`` and ``b`` (used by 'mul')."""

    def sum_steps(self, x, out) -> None:
        """``out (B, F) = x (B, T, F)`` summed over steps, in step order."""

    def sum_rows(self, x, out) -> None:
        """``out (F,) = x (B, F)`` summed over rows (``x`` may be strided)."""

    def sequence_weights(self, sample_weight, lengths, out) -> None:
        """Row weights of per-step outputs: ``out (B, T) = sample_weight[b]``
        for the real steps ``t < lengths[b]``, 0 for padding. Float
        ``sample_weight (B,)``, ``out`` of the same dtype."""

    def teacher_inputs(self, start, targets, n_classes: int, out) -> None:
        """A teacher-forced decoder's inputs ``out (B, T, F)``: ``start
        (F,)`` at step 0, then the targets shifted one step, as values
        (``n_classes`` 0, ``targets (B, T, F)`` float) or as the one-hot codes
        of class indices (``F == n_classes``; ``targets (B, T)`` int64, or
        ``(B, T, 1)`` 0/1 floats for two classes)."""

    def feedback(self, outputs, n_classes: int, out) -> None:
        """A generating decoder's next input from one step's outputs
        ``(B, 1, K)``: the values (``n_classes`` 0), or the one-hot code of
        the predicted class (argmax, or ``> 0`` for one logistic output)."""

    def l2_penalty(self, theta, grad, segments, alpha: float, out) -> None:
        """``out[0] += alpha / 2 * sum(theta[s:e]**2)`` (float64) and
        ``grad[s:e] += alpha * theta[s:e]`` for each ``(s, e)`` row of
        ``segments (k, 2)`` int64 (the weight matrices)."""

    def accumulate(self, total, value, weight: float) -> None:
        """``total[0] += value[0] * weight``: an epoch's weighted loss."""

    def step_guard(self, loss, norm, status) -> None:
        """Set ``status`` (to 1) unless ``loss[0]`` and ``norm[0]`` are
        finite (see the module docstring)."""

    def guard_update(self, theta, backup, status) -> None:
        """After an update: if ``theta`` holds a non-finite value, copy
        ``backup`` back into it and set ``status`` to 2."""

    # ------------------------------------------------------------- kernels
    def lstm_gate_grad_width(self, n_hidden: int, dtype,
                             n_gates: int = 4) -> int:
        """Row length (at least ``n_gates * H``: 4, or 3 with coupled gates)
        of the ``gates`` buffer that :meth:`lstm_backward` can turn into the
        gate gradients in place.

        The network asks it when it builds each LSTM layer, before any
        kernel runs: a backend that cannot run a layer of ``n_hidden``
        units raises a ``ValueError`` saying so here."""

    def lstm_aux_width(self, n_hidden: int, proj_size: int, layer_norm: bool,
                       dtype) -> int:
        """Row length of the ``aux (B, T, width)`` cache that a layer with a
        projection of ``proj_size`` units (0: none) and/or layer
        normalisation passes from :meth:`lstm_forward` to
        :meth:`lstm_backward` (which consumes it, as it does ``gates``);
        its layout is the backend's own. 0 for the other cells, which take
        no ``aux``. Asked when the layer is built: a backend that cannot
        run such a layer raises a ``ValueError`` saying so here."""

    def lstm_forward(self, X, W_ih, W_hh, b, h0, c0, lengths,
                     H_out, h_n, c_n, gates, cells, h_prev, rec,
                     peep=None, h_mask=None, zone=None, W_hr=None, ln=None,
                     aux=None) -> None:
        """One LSTM layer over ragged sequences, gates i, f, g, o.

        ``X (B, T, D)``, ``W_ih (4H, D)``, ``W_hh (4H, H)``, ``b (4H,)``,
        ``h0, c0 (B, H)``, ``lengths (B,)`` in ``1..T``. Outputs: ``H_out
        (B, T, H)`` (zero after a sequence's end), ``h_n, c_n (B, H)`` (the
        state after the last real step), and for the backward ``gates (B,
        T, W)`` (``W`` from :meth:`lstm_gate_grad_width`), ``cells (B, T,
        H)``, ``h_prev (B, T, H)``; ``rec (B, 4H)`` is scratch.

        Cell variants, told by the shapes: weights of 3H rows are coupled
        gates (CIFG: blocks i, g, o and ``f = 1 - i``, ``gates`` then holds
        i, g, o); ``peep`` are peephole weights, ``(3H,)`` i, f, o (``(2H,)``
        i, o with coupled gates), i and f seeing ``c_{t-1}``, o seeing
        ``c_t`` (Gers & Schmidhuber 2000); None for none. ``h_mask (B, H)``,
        recurrent dropout (Gal & Ghahramani 2016): the recurrent product
        reads ``h_mask * h_{t-1}`` at every step, and ``h_prev`` caches
        that; None for none. ``zone (B, T, H)``, zoneout (Krueger et al.
        2017): each unit keeps that share of its previous ``c`` and ``h``,
        ``c_t = z c_{t-1} + (1 - z) c~_t`` (the same for ``h``; ``cells``
        and ``H_out`` hold the zoned state); not with ``peep``; None for
        none.

        ``W_hr (P, H)``, a projection (LSTMP, Sak et al. 2014; PyTorch's
        ``proj_size``): ``h_t = W_hr (o * tanh(c_t))``, so ``W_hh`` is
        ``(4H, P)`` and ``h0``, ``h_n``, ``H_out``, ``h_prev`` and ``h_mask``
        are P wide (``c`` stays H wide). ``ln = (g_ih (4H,), g_hh (4H,),
        g_c (H,), beta_c (H,))``, layer normalisation (Ba et al. 2016, as
        haste's LayerNormLSTM): the pre-activations are ``g_ih * LN(x_t
        W_ih^T) + g_hh * LN(h_{t-1} W_hh^T) + b`` and ``h_t = o * tanh(g_c *
        LN(c_t) + beta_c)`` (``LN`` over each row, epsilon
        :data:`LAYER_NORM_EPS`; ``cells`` holds ``c_t`` itself). With
        either, ``aux`` is the cache of :meth:`lstm_aux_width`; neither
        comes with ``peep``, coupled gates or ``zone``."""

    def lstm_backward(self, X, W_ih, W_hh, c0, lengths, gates, cells, h_prev,
                      dH_out, dh_n, dc_n, dX, dW_ih, dW_hh, db, dh0, dc0,
                      dgates, input_grad: bool, peep=None,
                      dpeep=None, h_mask=None, zone=None, W_hr=None,
                      dW_hr=None, ln=None, dln=None, aux=None) -> None:
        """BPTT of :meth:`lstm_forward` (whose cached ``gates``, ``cells``,
        ``h_prev`` it takes). ``dH_out (B, T, H)``, ``dh_n, dc_n (B, H)``.
        Outputs: ``dX (B, T, D)`` (only when ``input_grad``), ``dW_ih``,
        ``dW_hh``, ``db`` (overwritten, not added to), ``dh0, dc0 (B, H)``.
        ``dgates`` is scratch of ``gates``' shape and may alias ``gates``
        (their gradients then take their place). With ``peep`` (as given to
        the forward), ``dpeep`` of its shape receives its gradient; the
        forward's ``h_mask`` scales the gradient of every ``h_{t-1}`` that
        passes through the recurrent product; ``zone`` as the forward's.
        With ``W_hr``, ``dW_hr (P, H)`` receives its gradient (``dh_n``,
        ``dH_out`` and ``dh0`` are P wide); with ``ln``, ``dln``, a tuple of
        four arrays of its shapes, receives theirs; ``aux`` as the forward
        left it (consumed)."""

    def dense_forward(self, X, W, b, out) -> None:
        """``out (N, K) = X (N, D) @ W.T (K, D) + b (K,)``."""

    def dense_backward(self, X, W, dY, dX, dW, db) -> None:
        """``dX = dY W``, ``dW = dY^T X``, ``db`` = column sums of ``dY``."""

    def conv1d_forward(self, X, W, b, pad_left: int, cols, out) -> None:
        """Stride-1 convolution of ``X (N, L, C)`` channels-last by ``W (F,
        C, k)``; ``pad_left`` zeros before (the rest of 'same' after);
        ``cols (N * L_out, C * k)`` scratch, ``out (N, L_out, F)``."""

    def conv1d_backward(self, X, W, dY, pad_left: int, cols, dcols,
                        dX, dW, db) -> None:
        """Gradients of :meth:`conv1d_forward` (``cols`` as it left them)."""

    def conv2d_forward(self, X, Wt, b, pad_top: int, pad_left: int, cols,
                       out) -> None:
        """As :meth:`conv1d_forward` over ``X (N, H, W, C)``, ``Wt (F, C, k,
        k)``, ``out (N, H_out, W_out, F)``."""

    def conv2d_backward(self, X, Wt, dY, pad_top: int, pad_left: int, cols,
                        dcols, dX, dW, db) -> None:
        """Gradients of :meth:`conv2d_forward`."""

    def relu_forward(self, X, out) -> None:
        """``out = max(X, 0)``, NaN kept."""

    def relu_backward(self, X, dY, dX) -> None:
        """``dX = dY * (X > 0)``."""

    def maxpool1d_forward(self, X, pool: int, out, argmax) -> None:
        """Non-overlapping max over windows of ``pool`` steps of ``X (N, L,
        F)``: ``out, argmax (N, L // pool, F)`` (argmax int64, the input
        position of each maximum)."""

    def maxpool1d_backward(self, dY, argmax, dX) -> None:
        """``dX`` zero but at each window's maximum, where it is ``dY``."""

    def maxpool2d_forward(self, X, pool: int, out, argmax) -> None:
        """As :meth:`maxpool1d_forward` over ``(N, H, W, F)``."""

    def maxpool2d_backward(self, dY, argmax, dX) -> None:
        """As :meth:`maxpool1d_backward`."""

    def mse_loss(self, pred, true, w, grad, out) -> None:
        """Weighted mean squared error of ``pred (N, K)`` against ``true (N,
        K)`` with row weights ``w (N,)`` (``sum(w) > 0``) into ``out[0]``,
        its gradient into ``grad (N, K)``."""

    def softmax_cross_entropy(self, logits, labels, w, grad, out) -> None:
        """As :meth:`mse_loss` for softmax cross-entropy against ``labels
        (N,)`` int64 in ``0..K-1``."""

    def sigmoid_binary_cross_entropy(self, logits, targets, w, grad,
                                     out) -> None:
        """As :meth:`mse_loss` for logistic outputs and 0/1 ``targets``."""

    def global_norm(self, g, out) -> None:
        """``out[0]`` = the Euclidean norm of ``g``, accumulated in float64."""

    def clip_grad_norm(self, g, max_norm: float, out) -> None:
        """Scale ``g`` in place to norm at most ``max_norm``; ``out[0]`` =
        the norm before."""

    def sgd_step(self, theta, g, velocity, lr: float, momentum: float,
                 nesterov: bool, status) -> None:
        """scikit-learn's SGD with (Nesterov) momentum, in place."""

    def adam_step(self, theta, g, m, v, step: int, lr: float, beta1: float,
                  beta2: float, eps: float, status) -> None:
        """Adam with bias correction at the 1-based ``step``, in place."""

    def rmsprop_step(self, theta, g, sq, lr: float, rho: float, eps: float,
                     status) -> None:
        """RMSprop, in place."""


#: every method a backend provides, in the order above
CONTRACT_NAMES = tuple(
    name for name, value in vars(Backend).items()
    if inspect.isfunction(value) and not name.startswith("_"))


def _parameters(function) -> list:
    function = getattr(function, "py_func", function)  # a Numba dispatcher
    return [p.name for p in inspect.signature(function).parameters.values()
            if p.name != "self"]


def check_backend(backend) -> list:
    """What ``backend`` lacks or gets wrong of the contract, as messages.

    Examples
    --------
    >>> from numlstm.backends import resolve
    >>> check_backend(resolve("cpu"))
    []
    """
    problems = []
    for attribute in ("name", "is_gpu"):
        if not hasattr(backend, attribute):
            problems.append(f"no attribute {attribute!r}")
    for name in CONTRACT_NAMES:
        method = getattr(backend, name, None)
        if not callable(method):
            problems.append(f"no method {name!r}")
            continue
        want = _parameters(getattr(Backend, name))
        try:
            got = _parameters(method)
        except (TypeError, ValueError):
            continue  # a builtin without a signature: callable is all we know
        if got != want:
            problems.append(f"{name}{tuple(got)} should take {tuple(want)}")
    return problems
