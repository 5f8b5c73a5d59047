"""The LSTM layer with layer normalisation and/or a projection: forward and
full BPTT (CPU).

Two cells that change what the plain time loops of :mod:`.lstm` keep
between the products of a step, so they run in time loops of their own
(the same split of the batch rows over threads, the same register-tiled
products of :mod:`.tile`, the variant work fused into each step):

- a projection (LSTMP, Sak et al. 2014; PyTorch's ``proj_size``): ``m_t =
  o * tanh(c_t)`` of H units, then ``h_t = m_t W_hr^T`` of P, so ``h``,
  ``W_hh (4H, P)`` and the recurrent product are P wide;
- layer normalisation (Ba et al. 2016, as haste's LayerNormLSTM): the two
  products ``x_t W_ih^T`` and ``h_{t-1} W_hh^T`` are normalised apart
  (each over its 4H columns, gains ``g_ih``, ``g_hh``), then the bias is
  added; ``h_t = o * tanh(g_c * LN(c_t) + beta_c)``.

The backward needs what the forward normalised and projected, kept in an
``aux (B, T, aux_width)`` cache (:func:`aux_layout`): the normalised
products (whose room then takes the gradients of the two products, which
differ with layer normalisation), the normalised cell, the three inverse
standard deviations, ``m_t``, and the room for ``dh_t``, from which the
products after the time loop make ``dW_ih``, ``dW_hh`` and ``dW_hr``.
"""

import numpy as np

from ._jit import cpu_kernel
from .tile import VECTOR_BYTES, padded_width, row_length

#: the layer normalisation's epsilon (torch.nn.LayerNorm's default)
LN_EPS = 1e-5


@cpu_kernel
def aux_layout(n_hidden, proj_size, layer_norm, itemsize):
    """Column offsets of the parts of an ``aux`` row and its length:
    ``(x, h, c, r, m, dh, width)``: the normalised products (``gate_width``
    each, from ``x`` and ``h``), the normalised cell (from ``c``), the three
    inverse standard deviations (from ``r``), then ``m_t`` and ``dh_t``
    (from ``m`` and ``dh``); a part the cell lacks takes no room."""
    H, P = n_hidden, proj_size
    gw = row_length(padded_width(4 * H, itemsize), itemsize)
    hw = row_length(padded_width(H, itemsize), itemsize)
    pw = row_length(padded_width(P, itemsize), itemsize)
    vw = VECTOR_BYTES // itemsize
    x = 0
    h = x + (gw if layer_norm else 0)
    c = h + (gw if layer_norm else 0)
    r = c + (hw if layer_norm else 0)
    m = r + (vw if layer_norm else 0)
    dh = m + (hw if P > 0 else 0)
    width = dh + (pw if P > 0 else 0)
    return x, h, c, r, m, dh, width


def aux_width(n_hidden, proj_size, layer_norm, dtype):
    """Row length of the ``aux`` cache (0 for the other cells)."""
    if not proj_size and not layer_norm:
        return 0
    return int(aux_layout.py_func(int(n_hidden), int(proj_size),
                                  bool(layer_norm),
                                  np.dtype(dtype).itemsize)[6])
