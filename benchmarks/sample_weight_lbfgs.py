"""scikit-learn's sample-weight check with ``solver='lbfgs'`` in float64.

scikit-learn runs ``check_sample_weight_equivalence_on_dense_data`` on its
own MLPs with L-BFGS. This runs it on every numlstm estimator (the settings
of ``tests/test_estimator_checks.py``) at 60 and 500 iterations and prints
pass or the largest difference, to decide whether L-BFGS can replace the
expected failure there. Usage: ``python benchmarks/sample_weight_lbfgs.py``.
"""
import pathlib
import sys
import time
import warnings

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))
warnings.filterwarnings("ignore")
import test_estimator_checks as t  # noqa: E402
from sklearn.utils.estimator_checks import (  # noqa: E402
    check_sample_weight_equivalence_on_dense_data,
)

for make in t.MAKERS:
    for max_iter in (60, 500):
        est = make(dtype="float64", solver="lbfgs", max_iter=max_iter, random_state=0,
                   learning_rate_init=1e-2)
        t0 = time.perf_counter()
        try:
            check_sample_weight_equivalence_on_dense_data(type(est).__name__, est)
            res = "PASS"
        except AssertionError as e:
            msg = str(e)
            worst = [line.strip() for line in msg.splitlines()
                     if "Max relative" in line or "Max absolute" in line]
            res = "FAIL " + "; ".join(worst)
        except Exception as e:
            res = f"ERROR {type(e).__name__}: {str(e)[:120]}"
        seconds = time.perf_counter() - t0
        print(f"{type(est).__name__:32s} max_iter={max_iter:4d} {res} "
              f"({seconds:.1f} s)", flush=True)
