"""Peak memory of fitting one long sequence with truncated backpropagation
through time: it grows with ``tbptt_steps``, not with the sequence.

Each setting runs in a fresh process (peak RSS is per process)::

    python benchmarks/tbptt_memory.py [--steps 200000] [--units 64]
                                      [--early-stopping]

prints, per ``tbptt_steps``, the fit's time, the peak RSS, and the RSS
before the fit (the data and the imports). ``--early-stopping`` fits two
such sequences, one held out for the validation score (which then runs in
chunks too).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = """
import json, resource, sys, time, warnings
import numpy as np
from numlstm import VanillaLSTMRegressor
steps, units, chunk, stop = (int(a) for a in sys.argv[1:5])
rng = np.random.default_rng(0)
X = rng.normal(size=(1 + stop, steps, 1)).astype(np.float32)
y = np.cumsum(X[:, :, 0], axis=1) * 0.01
model = VanillaLSTMRegressor(units=units, return_sequences=True, max_iter=1,
                             tbptt_steps=None if chunk == 0 else chunk,
                             early_stopping=bool(stop), validation_fraction=0.5,
                             random_state=0)
model.fit(X[:, :200], y[:, :200])  # compile, and the network's first buffers
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
start = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    model.fit(X, y)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"tbptt_steps": chunk or None, "fit_s": round(seconds, 2),
                  "peak_rss_mib": round(peak), "rss_before_mib": round(before),
                  "loss": model.loss_curve_[-1],
                  "validation_score": (model.validation_scores_ or [None])[-1]}))
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200_000)
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--chunks", default="100,1000,10000",
                        help="tbptt_steps values, comma-separated (0: none)")
    parser.add_argument("--early-stopping", action="store_true")
    args = parser.parse_args(argv)
    for chunk in (int(c) for c in args.chunks.split(",")):
        out = subprocess.run([sys.executable, "-c", CHILD, str(args.steps),
                              str(args.units), str(chunk),
                              str(int(args.early_stopping))], capture_output=True,
                             text=True, check=True)
        print(json.dumps({"steps": args.steps, "units": args.units,
                          "early_stopping": args.early_stopping,
                          **json.loads(out.stdout)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
