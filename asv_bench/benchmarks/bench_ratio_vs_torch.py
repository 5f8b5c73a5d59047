"""asv figures of ``numlstm bench``: numlstm's time over PyTorch's.

``track_ratio_vs_torch`` is the ratio column of ``numlstm bench`` (the
median of the ratios of numlstm's and torch's samples taken in turns; the
ratio of the two sides' medians on commits older than that; lower is
better) for the
latency, small and medium cases (large with ``NUMLSTM_ASV_LARGE=1``), in
both dtypes. It needs torch in the benchmark environment (``asv run
--python=same`` from an environment that has it); without torch, or with a
numlstm that has no ``numlstm.bench`` (an older commit), ``setup`` raises
``NotImplementedError`` and asv reports the benchmark as skipped. ``setup``
runs each side once (JIT compilation, caches) before anything is timed.
"""

import statistics

from ._configs import DTYPES, config_names


class RatioVsTorch:
    """numlstm/torch for the cases of ``numlstm bench`` (full sizes)."""

    params = (config_names(), DTYPES)
    param_names = ["case", "dtype"]
    unit = "numlstm/torch"
    rounds = 1
    #: timed runs of each side per figure
    repeats = 3
    timeout = 900.0

    def setup(self, case, dtype):
        try:
            import torch
        except ImportError:
            raise NotImplementedError("torch is not importable here") from None
        try:
            from numlstm import bench
        except ImportError:
            raise NotImplementedError("this numlstm has no numlstm.bench") from None
        self.bench = bench
        torch.set_num_threads(bench.numlstm_blas_threads())
        self.prepared = bench.prepare_case(bench.CASES[case], dtype, torch)

    def track_ratio_vs_torch(self, case, dtype):
        p, bench = self.prepared, self.bench
        if not hasattr(bench, "measure_alternately"):  # an older numlstm
            ours = bench.measure(p.ours, self.repeats, p.ours_number)
            theirs = bench.measure(p.theirs, self.repeats, p.theirs_number)
            return ours.median / theirs.median
        ours, theirs = bench.measure_alternately(
            p.ours, p.theirs, self.repeats, p.ours_number, p.theirs_number,
            pause=bench.settle)
        pairs = zip(ours.samples, theirs.samples, strict=True)
        return statistics.median(a / b for a, b in pairs)
