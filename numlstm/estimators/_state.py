"""Streaming state: ``predict(X, initial_state=..., return_state=True)``.

A sequence fed in chunks, each chunk starting from the state the previous
one reached, gives the outputs of the whole sequence at once. This
replaces Keras' ``stateful=True`` without its fixed batch size: the state
is the caller's, one row per sequence, so ragged batches carry each
sequence's own state and any number of streams run side by side.

The states are a list with one entry per recurrent layer of the network,
in order: ``(h, c)``, two ``(n_samples, units)`` arrays in the model's
dtype; for a bidirectional layer ``((h, c) forward, (h, c) backward)`` on
return, and None on input (a bidirectional layer starts from zeros: its
backward direction reads each sequence from its end).
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_array

from ..nn.network import map_pairs

_PARAMETERS = """
        Parameters
        ----------
        X : array-like or list of arrays
            Sequences, as for ``fit``.
        initial_state : list or None, default=None
            The state to start each sequence from: one ``(h, c)`` pair of
            ``(n_samples, units)`` arrays per LSTM layer, in order (None for
            zeros, and always None for a bidirectional layer), as
            ``return_state=True`` returns them. Feeding a sequence in
            chunks, each from the state the chunk before reached, gives the
            outputs of the whole sequence at once.
        return_state : bool, default=False
            Also return the state each sequence reached after its last real
            step: a list with ``(h, c)`` per LSTM layer, and ``((h, c)
            forward, (h, c) backward)`` per bidirectional layer, in the
            model's dtype.

        Returns
        -------
        {returns}
        states : list
            Only with ``return_state=True``.
        """


def state_doc(summary: str, returns: str):
    """A decorator giving a ``predict``-like method its docstring: the
    ``summary``, the parameters ``X``, ``initial_state`` and
    ``return_state``, and the ``returns`` line."""
    def document(method):
        method.__doc__ = summary + "\n" + _PARAMETERS.format(returns=returns)
        return method

    return document


class StreamingMixin:
    """The stateful path of ``predict``; :meth:`_forward_from` is what the
    output mixins call."""

    def _forward_from(self, X, initial_state, return_state):
        """Raw outputs (float64), the validated X, and the states reached
        (None unless ``return_state``), from ``initial_state``."""
        if not isinstance(return_state, (bool, np.bool_)):
            raise ValueError(f"return_state must be True or False, got "
                             f"{return_state!r}")
        if initial_state is None and not return_state:
            return (*self._forward(X), None)
        network = self._predict_network()
        if not hasattr(network, "state_sizes"):
            raise ValueError(f"{type(self).__name__} takes no initial_state "
                             "and returns no state: its prediction is not one "
                             "pass of LSTM layers over X")
        seqs = self._validate_X(X, reset=False)
        given = check_initial_state(initial_state, network.state_sizes(),
                                    len(seqs.X), network.dtype)
        be = network.backend
        outputs, reached = [], []
        for s in range(0, len(seqs.X), self._predict_chunk):
            part = slice(s, s + self._predict_chunk)
            states = None if given is None else [
                None if pair is None else tuple(be.asarray(a[part], network.dtype)
                                                for a in pair)
                for pair in given]
            out, states = network.forward_stateful(
                be.asarray(seqs.X[part], network.dtype), states,
                be.asarray(seqs.lengths[part], np.int64))
            outputs.append(np.array(be.to_host(out), dtype=np.float64))
            reached.append(map_pairs(lambda a: np.array(be.to_host(a)),
                                      tuple(states)))
        out = outputs[0] if len(outputs) == 1 else np.concatenate(outputs)
        return out, seqs, _concatenate(reached) if return_state else None


def check_initial_state(initial_state, sizes, n_samples, dtype):
    """``initial_state`` as host arrays of ``dtype``, one ``(h, c)`` pair or
    None per recurrent layer, or a clear ``ValueError``.

    ``sizes`` is the network's :meth:`~numlstm.nn.Sequential.state_sizes`.
    """
    if initial_state is None:
        return None
    if not isinstance(initial_state, (list, tuple)) or \
            len(initial_state) != len(sizes):
        got = (f"{len(initial_state)} entries"
               if isinstance(initial_state, (list, tuple))
               else type(initial_state).__name__)
        raise ValueError(f"initial_state must be a list with one (h, c) pair "
                         f"(or None) per recurrent layer ({len(sizes)}), as "
                         f"return_state=True gives them; got {got}")
    checked = []
    for k, (state, (widths, bidirectional)) in enumerate(
            zip(initial_state, sizes, strict=True)):
        if state is None:
            checked.append(None)
            continue
        if bidirectional:
            raise ValueError(
                f"initial_state[{k}] must be None: layer {k} is bidirectional, "
                "and its backward direction reads each sequence from its end, "
                "so no earlier state continues it")
        if not isinstance(state, (list, tuple)) or len(state) != 2:
            raise ValueError(f"initial_state[{k}] must be a pair (h, c), got "
                             f"{type(state).__name__}")
        pair = []
        for name, a, units in zip(("h", "c"), state, widths, strict=True):
            a = check_array(a, dtype=dtype, input_name=f"initial_state[{k}] {name}")
            if a.shape != (n_samples, units):
                raise ValueError(
                    f"initial_state[{k}] {name} must have shape "
                    f"{(n_samples, units)} (a row per sequence of X, the "
                    f"layer's {units} units), got {a.shape}")
            pair.append(np.ascontiguousarray(a))
        checked.append(tuple(pair))
    return checked


def _concatenate(chunks):
    """One list of states from the states of consecutive chunks of rows."""
    def join(*parts):
        if isinstance(parts[0], tuple):
            return tuple(join(*items) for items in zip(*parts, strict=True))
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    return list(join(*chunks))
