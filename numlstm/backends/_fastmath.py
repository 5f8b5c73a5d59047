"""The one fastmath policy shared by every Numba kernel of numlstm.

``nnan`` and ``ninf`` are left out on purpose: with them LLVM may assume that
no value is ever infinite or NaN, which turns the overflow guards of the
stable sigmoid and softplus into undefined behaviour (umap-learn removed a
blanket fastmath flag for the same reason). The flags kept allow
reassociation and contraction, which is what vectorises the reductions and
fuses multiply-adds.
"""

FASTMATH = frozenset({"nsz", "arcp", "contract", "reassoc"})
