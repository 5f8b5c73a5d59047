"""Buffers reused from one batch to the next."""

from __future__ import annotations

import numpy as np


class Workspace:
    """Named backend arrays, kept while their shape and dtype stay the same.

    A layer asks for its output buffer on every call; it gets the array of
    the previous call unless the batch shape changed, so a fit allocates
    once per batch shape rather than once per batch (on a GPU each
    allocation is a driver call that may synchronise).

    Examples
    --------
    >>> from numlstm.backends import resolve
    >>> ws = Workspace(resolve("cpu"))
    >>> ws.get("out", (2, 3), "float32") is ws.get("out", (2, 3), "float32")
    True
    """

    def __init__(self, backend) -> None:
        self.backend = backend
        self.arrays: dict = {}

    def get(self, name: str, shape, dtype):
        """The buffer ``name`` of this shape and dtype (uninitialised when new)."""
        shape, dtype = tuple(int(n) for n in shape), np.dtype(dtype)
        a = self.arrays.get(name)
        if a is None or a.shape != shape or a.dtype != dtype:
            a = self.arrays[name] = self.backend.empty(shape, dtype)
        return a

    def __getstate__(self):
        return {"backend": self.backend, "arrays": {}}  # buffers do not travel
