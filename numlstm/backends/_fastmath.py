"""The one fastmath policy shared by every Numba kernel of numlstm.

``nnan`` and ``ninf`` are left out on purpose: with them LLVM may assume that
no value is ever infinite or NaN, which turns the overflow guards of the
stable sigmoid and softplus into undefined behaviour (umap-learn removed a
blanket fastmath flag for the same reason).

``reassoc`` is left out too: with it, a kernel compiled in the running
process and the same kernel loaded from Numba's on-disk cache gave results
that differed in the last bit (an LSTM backward with H=1, every time), so a
fixed seed did not give the same model in a fresh install and a warm one.
Without it the two agree. What it bought, vectorised dot products along
``k``, the register-tiled product of ``backends/cpu/tile.py`` does with
explicit vector FMAs; the remaining reductions (norms, loss sums) are
cheap. ``contract`` fuses multiply-adds; ``arcp`` and ``nsz`` allow
reciprocals and ignore the sign of zero.
"""

FASTMATH = frozenset({"nsz", "arcp", "contract"})
