"""Shared utilities of the kernel tests: allocation, kernel calls, comparisons.

Every output and scratch buffer handed to a kernel is filled with NaN first,
so an entry the kernel forgets to write (or a scratch value it reads before
writing) shows up as a NaN in the result instead of passing silently.

The tests build their inputs and compare results as NumPy arrays; a kernel
runs on a backend (the ``backend`` fixture of ``conftest.py``), so inputs go
in with :func:`on`, buffers are made with :func:`nans` / :func:`filled` and
results come out with :func:`host`. On the CPU all three moves are the
identity (the same arrays), on a GPU backend they are copies.
"""

import contextlib
import warnings

import numpy as np
import reference as ref

DTYPES = (np.float64, np.float32)

#: Kernel-vs-reference tolerance per dtype, relative to max(1, max|ref|).
TOL = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-4}

LSTM_INPUTS = ("X", "W_ih", "W_hh", "b", "h0", "c0")
LSTM_GRADS = ("dX", "dW_ih", "dW_hh", "db", "dh0", "dc0")
#: a case's layer-norm parameters, in the order of the kernels' ``ln`` tuple
LN_NAMES = ("g_ih", "g_hh", "g_c", "beta_c")


def rel_err(actual, expected):
    """``max|actual - expected| / max(1, max|expected|)`` (NaN if any NaN)."""
    actual = np.asarray(actual, np.float64)
    expected = np.asarray(expected, np.float64)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    if actual.size == 0:
        return 0.0
    if not (np.all(np.isfinite(actual)) and np.all(np.isfinite(expected))):
        return float("nan")
    scale = max(1.0, float(np.abs(expected).max()))
    return float(np.abs(actual - expected).max()) / scale


def assert_close(actual, expected, tol, name=""):
    """Fail unless :func:`rel_err` is at most ``tol`` (NaN always fails)."""
    err = rel_err(actual, expected)
    assert err <= tol, f"{name}: relative error {err:.3e} > {tol:.1e}"


def tol_for(dtype):
    return TOL[np.dtype(dtype)]


@contextlib.contextmanager
def strict_fp():
    """Warnings as errors and NumPy overflow/invalid/divide raising.

    Underflow is allowed: ``exp(-1e4)`` rounding to 0 is the correct result
    of a saturated sigmoid, not an error.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise",
                         under="ignore"):
            yield


def nan_array(shape, dtype):
    return np.full(shape, np.nan, dtype=dtype)


# ----------------------------------------------------------- backend memory

def on(be, *arrays):
    """Host arrays as arrays of backend ``be``, each keeping its dtype (on
    the CPU the very same arrays, so a test may still change them in place).
    One array gives one, several a list, one dict a dict of the same keys."""
    if len(arrays) == 1 and isinstance(arrays[0], dict):
        return {k: be.asarray(v, v.dtype) for k, v in arrays[0].items()}
    moved = [be.asarray(a, a.dtype) for a in arrays]
    return moved[0] if len(moved) == 1 else moved


def host(be, *arrays):
    """Arrays of backend ``be`` read back as NumPy arrays (on the CPU they
    are the same arrays: copy what the next kernel call may overwrite).
    One array gives one, several a tuple, one dict a dict of the same keys."""
    if len(arrays) == 1 and isinstance(arrays[0], dict):
        return {k: be.to_host(v) for k, v in arrays[0].items()}
    out = tuple(be.to_host(a) for a in arrays)
    return out[0] if len(out) == 1 else out


def filled(be, shape, dtype, value):
    """An array of backend ``be`` with every element ``value``."""
    out = be.empty(shape, dtype)
    be.fill(out, value)
    return out


def nans(be, shape, dtype):
    """A NaN-filled output or scratch buffer of backend ``be``."""
    return filled(be, shape, dtype, np.nan)


# --------------------------------------------------------------------- LSTM

def make_lstm_case(rng, B, T, D, H, dtype=np.float64, lengths=None,
                   w_scale=0.5, b_scale=0.5, coupled=False, peephole=False,
                   recurrent_dropout=0.0, zoneout=0.0, proj_size=0,
                   layer_norm=False):
    """Random C-contiguous LSTM inputs of one dtype, ``lengths`` int64.

    ``lengths`` may be None (all ``T``), ``"ragged"`` (``[T, 1, random...]``)
    or a sequence. ``coupled``: weights of 3H rows (CIFG); ``peephole``:
    peephole weights ``peep`` too; ``recurrent_dropout``: a mask ``h_mask``
    of that rate; ``zoneout``: zoneout weights ``zone``, 1 (keep) with that
    probability, else 0; ``proj_size``: a projection ``W_hr (P, H)`` (``h``
    then P wide); ``layer_norm``: the layer-norm parameters of
    :data:`LN_NAMES`, near 1 (gains) and 0 (bias).
    """
    if lengths is None:
        lengths = np.full(B, T)
    elif isinstance(lengths, str):
        assert lengths == "ragged"
        lengths = rng.integers(1, T + 1, size=B)
        lengths[0] = T
        if B > 1:
            lengths[1] = 1
    lengths = np.ascontiguousarray(lengths, dtype=np.int64)
    assert lengths.shape == (B,) and lengths.min() >= 1 and lengths.max() <= T

    def arr(shape, scale):
        return np.ascontiguousarray(rng.normal(scale=scale, size=shape),
                                    dtype=dtype)

    G = (3 if coupled else 4) * H
    P = proj_size or H
    case = {
        "X": arr((B, T, D), 1.0),
        "W_ih": arr((G, D), w_scale),
        "W_hh": arr((G, P), w_scale),
        "b": arr((G,), b_scale),
        "h0": arr((B, P), 0.5),
        "c0": arr((B, H), 0.5),
        "lengths": lengths,
    }
    if peephole:
        case["peep"] = arr((G - H,), w_scale)
    if recurrent_dropout:
        keep = rng.random((B, P)) >= recurrent_dropout
        case["h_mask"] = np.ascontiguousarray(keep / (1 - recurrent_dropout),
                                              dtype=dtype)
    if zoneout:
        case["zone"] = np.ascontiguousarray(rng.random((B, T, H)) < zoneout,
                                            dtype=dtype)
    if proj_size:
        case["W_hr"] = arr((P, H), w_scale)
    if layer_norm:
        for name, n in zip(LN_NAMES, (G, G, H, H), strict=True):
            case[name] = arr((n,), 0.3) + (0 if name == "beta_c" else 1)
    return case


def lstm_sizes(case):
    """``(H, P, G)`` of a case: hidden units, width of ``h`` (P with a
    projection, else H) and gate columns (4H, or 3H coupled)."""
    G = case["W_ih"].shape[0]
    P = case["W_hh"].shape[1]
    H = case["W_hr"].shape[1] if "W_hr" in case else P
    return H, P, G


def make_lstm_seeds(rng, case, scale=1.0):
    """Upstream gradients ``dH_out, dh_n, dc_n`` matching ``case``."""
    B, T, _ = case["X"].shape
    H, P, _ = lstm_sizes(case)
    dtype = case["X"].dtype
    return {
        "dH_out": np.ascontiguousarray(rng.normal(scale=scale, size=(B, T, P)),
                                       dtype=dtype),
        "dh_n": np.ascontiguousarray(rng.normal(scale=scale, size=(B, P)),
                                     dtype=dtype),
        "dc_n": np.ascontiguousarray(rng.normal(scale=scale, size=(B, H)),
                                     dtype=dtype),
    }


def lstm_forward(case, be, gate_width=None):
    """Call backend ``be``'s forward kernel on ``case`` (host arrays or
    ``be``'s) into NaN-filled buffers of ``be``; return those by name
    (``gates`` rows ``gate_width`` long, default the gate columns, 4H or
    3H), as ``be``'s arrays: read them with :func:`host`. A case's cell
    variants (``peep``, ``h_mask``, ``zone``, ``W_hr``, layer norm) are
    passed to the kernel; with a projection or layer norm ``out["aux"]``
    is the cache the backward reads."""
    X = case["X"]
    B, T, _ = X.shape
    H, P, G = lstm_sizes(case)
    dt = X.dtype
    out = {
        "H_out": nans(be, (B, T, P), dt),
        "h_n": nans(be, (B, P), dt),
        "c_n": nans(be, (B, H), dt),
        "gates": nans(be, (B, T, gate_width or G), dt),
        "cells": nans(be, (B, T, H), dt),
        "h_prev": nans(be, (B, T, P), dt),
    }
    aux = _aux(case, be)
    if aux is not None:
        out["aux"] = aux
    rec = nans(be, (B, G), dt)
    be.lstm_forward(*(be.asarray(case[k], dt) for k in LSTM_INPUTS),
                    be.asarray(case["lengths"], np.int64),
                    out["H_out"], out["h_n"], out["c_n"],
                    out["gates"], out["cells"], out["h_prev"], rec,
                    **_variant_arrays(case, be), **_aux_kw(out))
    return out


def _aux(case, be):
    """A NaN-filled cache of the width ``be`` asks for a projection and/or
    layer norm, or None for the other cells."""
    H, P, _ = lstm_sizes(case)
    width = be.lstm_aux_width(H, P if "W_hr" in case else 0,
                              LN_NAMES[0] in case, case["X"].dtype)
    if width == 0:
        return None
    B, T, _ = case["X"].shape
    return nans(be, (B, T, width), case["X"].dtype)


def _aux_kw(fwd):
    return {"aux": fwd["aux"]} if "aux" in fwd else {}


def _variant_arrays(case, be):
    """The cell-variant keywords of a kernel call: those ``case`` has."""
    dt = case["X"].dtype
    kw = {k: be.asarray(case[k], dt)
          for k in ("peep", "h_mask", "zone", "W_hr") if k in case}
    if LN_NAMES[0] in case:
        kw["ln"] = tuple(be.asarray(case[k], dt) for k in LN_NAMES)
    return kw


def variant_grad_names(case):
    """The names of a case's variant weights' gradients, in the order the
    reference returns them after :data:`LSTM_GRADS`."""
    names = ["dpeep"] if "peep" in case else []
    if "W_hr" in case:
        names.append("dW_hr")
    if LN_NAMES[0] in case:
        names.extend("d" + k for k in LN_NAMES)
    return tuple(names)


def lstm_backward(case, fwd, seeds, be, input_grad=True, dgates=None):
    """Call backend ``be``'s backward kernel on NaN-filled buffers of ``be``;
    return the gradients as ``be``'s arrays (``dX`` stays NaN when
    ``input_grad`` is False). ``case``, ``fwd`` and ``seeds`` may hold host
    arrays or ``be``'s. ``dgates`` defaults to a NaN-filled ``(B, T, 4H)``
    (or 3H) scratch; ``fwd["gates"]`` asks for the gate gradients in place
    of the gates. A case with variant weights gets their gradients too
    (:func:`variant_grad_names`)."""
    X, W_ih, W_hh = case["X"], case["W_ih"], case["W_hh"]
    B, T, _ = X.shape
    H, P, G = lstm_sizes(case)
    dt = X.dtype
    grads = {
        "dX": nans(be, X.shape, dt),
        "dW_ih": nans(be, W_ih.shape, dt),
        "dW_hh": nans(be, W_hh.shape, dt),
        "db": nans(be, (G,), dt),
        "dh0": nans(be, (B, P), dt),
        "dc0": nans(be, (B, H), dt),
    }
    for name in variant_grad_names(case):
        grads[name] = nans(be, case[name[1:]].shape, dt)
    kw = {}
    if "peep" in case:
        kw["dpeep"] = grads["dpeep"]
    if "W_hr" in case:
        kw["dW_hr"] = grads["dW_hr"]
    if LN_NAMES[0] in case:
        kw["dln"] = tuple(grads["d" + k] for k in LN_NAMES)
    be.lstm_backward(*(be.asarray(case[k], dt)
                       for k in ("X", "W_ih", "W_hh", "c0")),
                     be.asarray(case["lengths"], np.int64),
                     *(be.asarray(fwd[k], dt)
                       for k in ("gates", "cells", "h_prev")),
                     *(be.asarray(seeds[k], dt)
                       for k in ("dH_out", "dh_n", "dc_n")),
                     *(grads[k] for k in LSTM_GRADS),
                     nans(be, (B, T, G), dt) if dgates is None else dgates,
                     input_grad, **_variant_arrays(case, be), **kw,
                     **_aux_kw(fwd))
    return grads


def lstm_forward_backward(case, seeds, be, **backward_kw):
    """:func:`lstm_forward` then :func:`lstm_backward` on ``be``; both
    results read back: ``(fwd, grads)``, dicts of NumPy arrays."""
    fwd = lstm_forward(case, be)
    grads = lstm_backward(case, fwd, seeds, be, **backward_kw)
    return host(be, fwd), host(be, grads)


def reference_lstm(case, seeds=None):
    """The NumPy oracle in float64: forward dict, and gradients if ``seeds``."""
    f64 = {k: np.asarray(case[k], np.float64) for k in LSTM_INPUTS}
    extra = {k: np.asarray(case[k], np.float64)
             for k in ("peep", "h_mask", "zone", "W_hr") if k in case}
    if LN_NAMES[0] in case:
        extra["ln"] = tuple(np.asarray(case[k], np.float64) for k in LN_NAMES)
    H_out, h_n, c_n, cache = ref.lstm_forward(
        f64["X"], f64["W_ih"], f64["W_hh"], f64["b"], f64["h0"], f64["c0"],
        case["lengths"], **extra)
    fwd = {"H_out": H_out, "h_n": h_n, "c_n": c_n}
    if seeds is None:
        return fwd, None
    s64 = {k: np.asarray(v, np.float64) for k, v in seeds.items()}
    grads = ref.lstm_backward(s64["dH_out"], s64["dh_n"], s64["dc_n"], cache)
    names = LSTM_GRADS + variant_grad_names(case)
    return fwd, dict(zip(names, grads, strict=True))


def lstm_scalar_loss(case, seeds, be):
    """``sum(dH_out*H_out) + sum(dh_n*h_n) + sum(dc_n*c_n)`` via ``be``'s
    kernel (``seeds`` host arrays)."""
    fwd = host(be, lstm_forward(case, be))
    return float(np.sum(seeds["dH_out"] * fwd["H_out"])
                 + np.sum(seeds["dh_n"] * fwd["h_n"])
                 + np.sum(seeds["dc_n"] * fwd["c_n"]))


def torch_projected_lstm(torch, case, seeds):
    """PyTorch's ``nn.LSTM(proj_size=P)`` (float32) on a projection case:
    its outputs and gradients by the names of :func:`lstm_forward` and
    :func:`lstm_backward`, as NumPy arrays (``bias_hh`` 0, ``b`` as
    ``bias_ih``)."""
    D, H = case["X"].shape[2], case["W_hr"].shape[1]
    lstm = torch.nn.LSTM(D, H, batch_first=True,
                         proj_size=case["W_hr"].shape[0])
    with torch.no_grad():
        for name, key in (("weight_ih_l0", "W_ih"), ("weight_hh_l0", "W_hh"),
                          ("bias_ih_l0", "b"), ("weight_hr_l0", "W_hr")):
            getattr(lstm, name).copy_(torch.from_numpy(case[key]))
        lstm.bias_hh_l0.zero_()
    X = torch.from_numpy(case["X"]).requires_grad_()
    h0 = torch.from_numpy(case["h0"])[None].requires_grad_()
    c0 = torch.from_numpy(case["c0"])[None].requires_grad_()
    out, (h_n, c_n) = lstm(X, (h0, c0))
    loss = sum((a * torch.from_numpy(seeds[k])).sum() for a, k in (
        (out, "dH_out"), (h_n[0], "dh_n"), (c_n[0], "dc_n")))
    loss.backward()
    fwd = {"H_out": out, "h_n": h_n[0], "c_n": c_n[0]}
    grads = {"dX": X.grad, "dW_ih": lstm.weight_ih_l0.grad,
             "dW_hh": lstm.weight_hh_l0.grad, "db": lstm.bias_ih_l0.grad,
             "dW_hr": lstm.weight_hr_l0.grad, "dh0": h0.grad[0],
             "dc0": c0.grad[0]}
    return ({k: v.detach().numpy() for k, v in fwd.items()},
            {k: v.numpy() for k, v in grads.items()})


# ------------------------------------------------------------ finite differences

def central_fd(f, arrays, eps=1e-6):
    """Central finite-difference gradient of scalar ``f()`` w.r.t. every entry.

    ``arrays`` maps names to float64 arrays that ``f`` reads; each entry is
    perturbed in place and restored. Returns a dict of gradient arrays.
    """
    out = {}
    for name, a in arrays.items():
        assert a.dtype == np.float64
        g = np.zeros_like(a)
        flat, gflat = a.reshape(-1), g.reshape(-1)
        assert np.shares_memory(flat, a)
        for k in range(flat.size):
            old = flat[k]
            flat[k] = old + eps
            up = f()
            flat[k] = old - eps
            down = f()
            flat[k] = old
            gflat[k] = (up - down) / (2.0 * eps)
        out[name] = g
    return out
