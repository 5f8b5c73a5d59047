"""Peak memory of an L-BFGS fit against the number of sequences.

Run one size per process (peak RSS is per process):

    python benchmarks/lbfgs_memory.py 20000
    python benchmarks/lbfgs_memory.py 200000

Prints the data size, the peak resident memory of the process after the
fit, and the fit time. The model is a VanillaLSTMRegressor (16 units) on
sequences of 20 steps of 4 features, float32, 5 L-BFGS iterations.
"""

import resource
import sys
import time
import warnings

import numpy as np

from numlstm import VanillaLSTMRegressor


def main(n: int) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 20, 4)).astype(np.float32)
    y = X[:, :, 0].mean(axis=1)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    model = VanillaLSTMRegressor(units=16, solver="lbfgs", max_iter=5,
                                 random_state=0)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"n={n} data={X.nbytes / 2**20:.1f} MiB peak_rss={peak:.0f} MiB "
          f"(before fit {before:.0f} MiB) fit={elapsed:.1f} s "
          f"loss={model.loss_curve_[-1]:.4g}")


if __name__ == "__main__":
    main(int(sys.argv[1]))
