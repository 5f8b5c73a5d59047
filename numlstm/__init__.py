"""numlstm: LSTM networks on Numba kernels, as scikit-learn estimators.

Importing numlstm is cheap: the estimators (and with them scikit-learn and
SciPy) are imported on first use, Numba when a backend is first resolved,
and no kernel is compiled before its first call.
"""

import importlib

__version__ = "0.1.0"

#: public name -> the module that defines it, imported on first access
_LAZY = {
    **{name: "numlstm.estimators" for name in (
        "VanillaLSTMRegressor", "VanillaLSTMClassifier",
        "StackedLSTMRegressor", "StackedLSTMClassifier",
        "BidirectionalLSTMRegressor", "BidirectionalLSTMClassifier",
        "EncoderDecoderLSTMRegressor", "EncoderDecoderLSTMClassifier",
        "GenerativeLSTM", "CNNLSTMRegressor", "CNNLSTMClassifier")},
    "DivergenceError": "numlstm.nn",
    "backends": "numlstm.backends",
    "datasets": "numlstm.datasets",
    "nn": "numlstm.nn",
}

__all__ = [*_LAZY, "__version__"]


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'numlstm' has no attribute {name!r}")
    module = importlib.import_module(_LAZY[name])
    value = module if module.__name__ == f"numlstm.{name}" else getattr(module,
                                                                         name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)
