"""The CUDA backend (in progress, issue 14): ``@cuda.jit`` kernels.

Not registered yet: :func:`numlstm.backends.resolve` accepts a backend only
once it implements the whole contract, and this package so far holds the
launch helpers, the shared scalar math as device functions and the array
operations. Importing it imports ``numba.cuda``; nothing imports it
unless a CUDA backend is asked for (or its tests run).
"""
