"""numlstm: LSTM networks on Numba kernels, for the scientific Python stack.

Importing numlstm is cheap: no kernel is compiled and Numba itself is only
imported when a backend is first resolved.
"""

from . import backends, datasets, nn

__version__ = "0.1.0"

__all__ = ["backends", "datasets", "nn", "__version__"]
