"""Turn user input into padded float arrays and lengths, or say what is wrong.

Everything here runs before any kernel: a kernel never sees NaN, a wrong
shape or an empty batch.

Accepted ``X``:

- a 3-D array ``(n_samples, n_timesteps, n_features)``;
- a 2-D array or DataFrame ``(n_samples, n_timesteps)``: univariate sequences
  (``n_features_in_`` is then the number of columns, as for any scikit-learn
  estimator on a 2-D table, and predict expects the same width);
- a list of 2-D arrays ``(T_i, n_features)`` or of 1-D arrays ``(T_i,)`` of
  different lengths: a ragged batch, padded here and masked exactly.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.utils.validation import _check_sample_weight, check_array


@dataclass
class Sequences:
    """A batch of sequences: zero-padded values and each one's length."""

    X: np.ndarray          # (n, T, D) float, zero after each sequence's end
    lengths: np.ndarray    # (n,) int64, 1..T
    kind: str              # 'table' (2-D input), 'array' (3-D) or 'ragged'

    @property
    def ragged(self) -> bool:
        return self.kind == "ragged"


#: the accepted forms of ``X``, for the messages
_SEQUENCE_FORMS = ("(n_samples, n_timesteps[, n_features]) or a list of 2-D "
                   "arrays (n_timesteps_i, n_features)")
_STEP_SEQUENCE_FORMS = ("(n, T), (n, T, L), (n, T, L, C), (n, T, H, W, C) or "
                        "a list of per-sequence arrays (T_i, ...)")


def _refuse_non_sequences(X, name: str, forms: str) -> None:
    """Raise a clear ValueError for inputs that are no batch of sequences at
    all (None, a scalar, a string, an empty list, a string or complex array);
    check_array would turn None into ``nan`` and print whole arrays."""
    def refuse(what):
        raise ValueError(f"{name} must be an array of sequences, {forms}; "
                         f"got {what}.")

    if X is None:
        refuse("None")
    if isinstance(X, (str, bytes)):
        refuse("a string; only GenerativeLSTM takes text")
    if isinstance(X, (numbers.Number, np.generic)) or (
            isinstance(X, np.ndarray) and X.ndim == 0):
        refuse(f"the scalar {X!r}")
    if isinstance(X, (list, tuple)):
        if len(X) == 0:
            refuse(f"an empty {type(X).__name__}")
        if any(isinstance(x, (str, bytes)) for x in X):
            refuse("a list of strings; only GenerativeLSTM takes text")
        if any(x is None for x in X):
            refuse("a list holding None")
    dtype = getattr(X, "dtype", None)
    if isinstance(dtype, np.dtype):
        if dtype.kind in "USa":
            refuse(f"an array of strings (dtype {dtype}); sequences must be "
                   "numbers")
        if dtype.kind == "c":
            _refuse_complex(name, dtype)


def _refuse_complex(name, dtype) -> None:
    # keeps scikit-learn's words, which its estimator checks look for
    raise ValueError(f"Complex data not supported: {name} has dtype {dtype}; "
                     "pass real and imaginary parts as separate features.")


def _check_array(X, dtype, name, **kwargs) -> np.ndarray:
    """scikit-learn's check_array, with shorter messages for strings and
    complex values inside lists or object arrays."""
    try:
        return check_array(X, dtype=dtype, input_name=name, **kwargs)
    except ValueError as exc:
        text = str(exc)
        if text.startswith("Complex data not supported"):
            _refuse_complex(name, "complex")
        if text.startswith("could not convert string to float"):
            raise ValueError(f"{name} must hold numbers, not strings: "
                             f"{text}.") from None
        if "inhomogeneous" in text:
            raise ValueError(
                f"{name} cannot be read as an array: its elements have "
                "different shapes (every time step needs the same number of "
                "features; a ragged batch is a list of per-sequence arrays). "
                f"numpy: {text}") from None
        raise


def _check_sequence_length(x, name: str) -> None:
    if x.ndim == 0:
        raise ValueError(f"{name} must be a sequence (n_timesteps[, ...]); "
                         f"got the scalar {x.item()!r}.")
    if len(x) == 0:
        raise ValueError(f"{name} is an empty sequence (shape {x.shape}): "
                         "every sequence needs at least one time step.")


def _is_ragged_list(X) -> bool:
    if not isinstance(X, (list, tuple)) or len(X) == 0:
        return False
    if any(sparse.issparse(x) for x in X):
        return False
    first = X[0]
    if not hasattr(first, "__len__") or isinstance(first, str):
        return False
    try:
        elems = [np.asarray(x) if not isinstance(x, np.ndarray) else x
                 for x in X]
    except ValueError:  # an element numpy cannot stack: check_array says so
        return False
    if any(e.ndim == 2 for e in elems):
        return True
    return len({len(e) for e in elems if e.ndim == 1}) > 1


def check_sequences(X, dtype, name: str = "X") -> Sequences:
    """Validate ``X`` and return it as :class:`Sequences`.

    Raises
    ------
    ValueError
        For sparse, complex, non-numeric, empty, NaN/inf, 1-D or more than
        3-D input, and for ragged elements of different widths.
    """
    if (type(X) is np.ndarray and X.ndim == 3 and X.dtype == dtype
            and 0 not in X.shape and np.isfinite(X).all()):
        # the common case, without check_array's cost (predict latency);
        # anything else, and the error messages, go through check_array
        return Sequences(np.ascontiguousarray(X),
                         np.full(len(X), X.shape[1], np.int64), "array")
    if sparse.issparse(X):
        raise ValueError(f"sparse input is not supported: {name} must be a "
                         "dense array of sequences (use X.toarray()).")
    _refuse_non_sequences(X, name, _SEQUENCE_FORMS)
    if _is_ragged_list(X):
        return _check_ragged(X, dtype, name)
    X = _check_array(X, dtype, name, allow_nd=True, ensure_min_samples=1,
                     ensure_min_features=1)
    if X.ndim == 2:
        return Sequences(np.ascontiguousarray(X[:, :, None]),
                         np.full(len(X), X.shape[1], np.int64), "table")
    if X.ndim != 3:
        raise ValueError(f"{name} must be 2-D (n_samples, n_timesteps) or 3-D "
                         f"(n_samples, n_timesteps, n_features); got a "
                         f"{X.ndim}-D array of shape {X.shape}.")
    if X.shape[1] == 0 or X.shape[2] == 0:
        raise ValueError(f"{name} has shape {X.shape}: sequences need at least "
                         "one time step and one feature.")
    return Sequences(np.ascontiguousarray(X),
                     np.full(len(X), X.shape[1], np.int64), "array")


def pad_sequences(seqs):
    """Arrays ``(T_i, ...)`` of one step shape -> zero-padded ``(n, max T_i,
    ...)`` of their common dtype, and the lengths ``T_i`` (int64)."""
    lengths = np.array([len(x) for x in seqs], dtype=np.int64)
    out = np.zeros((len(seqs), lengths.max(), *seqs[0].shape[1:]),
                   dtype=np.result_type(*seqs))
    for k, x in enumerate(seqs):
        out[k, :len(x)] = x
    return out, lengths


def _is_ragged_step_list(X) -> bool:
    if not isinstance(X, (list, tuple)) or len(X) == 0:
        return False
    try:
        return all(np.ndim(x) >= 1 for x in X) and \
            len({np.shape(x)[0] for x in X}) > 1
    except ValueError:  # an element numpy cannot stack: check_array says so
        return False


def check_step_sequences(X, dtype, name: str = "X") -> Sequences:
    """Validate sequences whose steps are signals or images.

    ``X`` is ``(n, T)`` (scalar steps), ``(n, T, L)`` (one-channel signals),
    ``(n, T, L, C)``, ``(n, T, H, W, C)``, or a list of per-sequence arrays
    ``(T_i, ...)`` with one step shape. The result's ``X`` has an explicit
    channel axis: ``(n, T, L, C)`` or ``(n, T, H, W, C)``.
    """
    if sparse.issparse(X):
        raise ValueError(f"sparse input is not supported: {name} must be a "
                         "dense array of sequences.")
    _refuse_non_sequences(X, name, _STEP_SEQUENCE_FORMS)
    if _is_ragged_step_list(X):
        seqs = []
        for k, x in enumerate(X):
            x = _check_array(x, dtype, f"{name}[{k}]", allow_nd=True,
                             ensure_2d=False, ensure_min_samples=0)
            _check_sequence_length(x, f"{name}[{k}]")
            seqs.append(x)
        steps = {x.shape[1:] for x in seqs}
        if len(steps) > 1:
            raise ValueError(f"the sequences of the ragged {name} have different "
                             f"step shapes: {sorted(steps)}.")
        out, lengths = pad_sequences(seqs)
        kind = "ragged"
    else:
        out = _check_array(X, dtype, name, allow_nd=True, ensure_min_samples=1,
                           ensure_min_features=1)
        lengths = np.full(len(out), out.shape[1], np.int64)
        kind = "table" if out.ndim == 2 else "array"
    if out.ndim > 1 and out.shape[1] == 0:
        raise ValueError(f"{name} has shape {out.shape}: sequences need at "
                         "least one time step.")
    if out.ndim == 2:
        out = out[:, :, None, None]
    elif out.ndim == 3:
        out = out[..., None]
    if out.ndim > 5:
        raise ValueError(f"{name} must be (n, T), (n, T, L), (n, T, L, C) or "
                         f"(n, T, H, W, C); got a {out.ndim}-D array of shape "
                         f"{out.shape}.")
    if 0 in out.shape:
        raise ValueError(f"{name} has shape {out.shape}: every axis needs at "
                         "least one element.")
    return Sequences(np.ascontiguousarray(out), lengths, kind)


def _check_ragged(X, dtype, name) -> Sequences:
    seqs = []
    for k, x in enumerate(X):
        if sparse.issparse(x):
            raise ValueError(f"sparse input is not supported: {name}[{k}] is "
                             "sparse.")
        x = _check_array(x, dtype, f"{name}[{k}]", ensure_2d=False,
                         allow_nd=True, ensure_min_samples=0)
        _check_sequence_length(x, f"{name}[{k}]")
        if x.ndim == 1:
            x = x[:, None]
        if x.ndim != 2:
            raise ValueError(f"{name}[{k}] must be a 1-D or 2-D sequence "
                             f"(n_timesteps, n_features); got shape {x.shape}.")
        seqs.append(x)
    widths = {x.shape[1] for x in seqs}
    if len(widths) > 1:
        raise ValueError(f"the sequences of the ragged {name} have different "
                         f"numbers of features: {sorted(widths)}; every "
                         "sequence needs the same n_features.")
    out, lengths = pad_sequences(seqs)
    return Sequences(out, lengths, "ragged")


def pad_targets(y, lengths, dtype=None, name: str = "y"):
    """Per-step targets for a ragged batch: a list -> a padded array.

    ``y`` is a list of arrays ``(T_i,)`` or ``(T_i, k)`` matching ``lengths``,
    or an array ``(n, T[, k])``.
    """
    if isinstance(y, (list, tuple)) and len(y) and np.ndim(y[0]) >= 1 and \
            len({len(v) for v in y}) > 1:
        ys = [np.asarray(v, dtype=dtype) for v in y]
        if len(ys) != len(lengths):
            raise ValueError(f"{name} has {len(ys)} sequences but X has "
                             f"{len(lengths)}.")
        for k, (v, n) in enumerate(zip(ys, lengths, strict=False)):
            if len(v) != n:
                raise ValueError(f"{name}[{k}] has {len(v)} steps but X[{k}] "
                                 f"has {n}.")
        return pad_sequences(ys)[0]
    return np.asarray(y, dtype=dtype)


def unpad(values, lengths):
    """Per-step outputs ``(n, T, ...)`` -> a list of ``(T_i, ...)`` arrays."""
    return [values[k, :n] for k, n in enumerate(lengths)]


def check_n_samples(Y, n, name="y"):
    if len(Y) != n:
        raise ValueError(f"X has {n} samples but {name} has {len(Y)}: every "
                         "sequence needs its target.")


def input_aligned_targets(y, seqs, dtype):
    """Per-step targets ``(n, T, ...)`` aligned with the padded X, and their
    lengths (those of X): ``return_sequences=True``."""
    Y = pad_targets(y, seqs.lengths, dtype=dtype)
    check_n_samples(Y, len(seqs.X))
    if Y.ndim < 2 or Y.shape[1] != seqs.X.shape[1]:
        raise ValueError(
            "with return_sequences=True, y needs one target per time step, "
            f"shape (n_samples, {seqs.X.shape[1]}[, n_outputs]); got {Y.shape}.")
    return Y, seqs.lengths


def check_fit_sample_weight(sample_weight, n_samples: int) -> np.ndarray:
    """Sample weights for a fit on ``n_samples`` sequences: float64,
    non-negative, not all zero (``None`` gives ones)."""
    sw = _check_sample_weight(sample_weight, np.empty((n_samples, 1)),
                              dtype=np.float64, ensure_non_negative=True)
    if sw.sum() <= 0:
        raise ValueError("sample_weight sums to zero: nothing to fit.")
    return sw
