"""``numlstm bench``: numlstm against PyTorch on the CPU targets of issue 6.

Run it in an environment that has torch (never a numlstm dependency; without
it numlstm runs alone and the torch columns say so)::

    numlstm bench                      # latency, small, medium, start
    numlstm bench --large              # also the large fit (slow)
    numlstm bench --cases latency,small --repeats 5 --dtype float64
    numlstm bench --quick              # smaller fits: checks the tool works

The cases (``--cases``, comma-separated; ``(B, T, D, H)`` = batch, steps,
inputs, hidden units):

latency
    ``VanillaLSTMRegressor.predict`` on one sequence (1, 50, 8, 64) against
    ``nn.LSTM`` + ``nn.Linear`` under ``torch.no_grad()``, holding the same
    weights (``get_weights``: ``lstm.0.W_ih/W_hh/b`` into
    ``weight_ih_l0``/``weight_hh_l0``/``bias_ih_l0``, ``bias_hh_l0`` = 0,
    ``dense.W/b`` into the ``Linear``). One timing is the mean of enough
    calls to fill 0.2 s. Target: numlstm/torch <= 0.2.
small
    ``VanillaLSTMRegressor(units=64, batch_size=32, max_iter=3,
    n_iter_no_change=4, shuffle=True)`` fitted (Adam, lr 1e-3) on 1,024
    sequences (32, 50, 8, 64) against a plain PyTorch loop over the same
    model shape: Adam with the same learning rate, batch size and epochs,
    shuffled each epoch, mean squared error, gradients clipped to norm 5
    (numlstm's default ``clip_norm``). Target <= 0.5.
medium
    The same on 512 sequences (64, 100, 32, 256), 2 epochs. Target <= 0.8.
large
    The same on 128 sequences (64, 100, 512, 1024), 1 epoch. Target <= 1.0
    and numlstm at >= 80% of the sgemm rate. Slow: it runs only with
    ``--large`` or when named in ``--cases``.
start
    Wall time of a fresh interpreter (a subprocess) that imports numlstm,
    fits 4 batches of the small configuration for one epoch and predicts,
    with a warm Numba cache (one run beforehand fills it). Target <= 1.5 s.

Every case runs once first (JIT compilation, caches), then ``--repeats``
times (default 3); the table shows the median with the minimum and maximum.
numlstm's and torch's samples are taken in turns, and the ratio is the
median of the ratios of these pairs (lower is better; < 1 means numlstm is
faster): a slow minute of the machine then weighs on both sides of a pair.
GFLOP/s counts the LSTM layer alone: a forward pass of a batch is
``8 B T H (D + H)`` floating-point operations, a training step three times
that, summed over the batches of every epoch; "% sgemm" sets it against
numpy's float32 2048x2048 matmul measured at the start (the float32 rate
even for ``--dtype float64``). torch runs with as many threads as the
BLAS numlstm's kernels call. The "other CPU" column is the CPU time other
processes used while the row was timed, in % of one core: above 10% the
row is disturbed and a warning follows the table.

``--quick`` shrinks the fits (an eighth of the sequences, at least one
batch, one epoch) and times each case once: a check that everything runs,
not a measurement against the targets.

The machinery is importable, one module a job: :mod:`.cases` (the
configurations and cases), :mod:`.flops`, :mod:`.timer` (the one timer),
:mod:`.machine` (CPU load, thread pools, sgemm rate), :mod:`.torch_peer`
(PyTorch's side), :mod:`.prepare` (a case ready to time), :mod:`.rows`
(a timed case and its target), :mod:`.table` (the report) and
:mod:`.command`. This package re-exports their public names:
:data:`CASES`, :func:`prepare_case` and :func:`measure_alternately` are
what the asv benchmark ``track_ratio_vs_torch`` uses.
"""

from .cases import (
    CASES,
    CLIP_NORM,
    CONFIGS,
    LATENCY_MIN_TIME,
    LEARNING_RATE,
    START_BATCHES,
    Case,
    parse_cases,
    select_cases,
)
from .command import add_arguments, main
from .flops import batch_sizes, case_flops, forward_flops, training_flops
from .prepare import PreparedCase, prepare_case, start_command
from .rows import Row, run_case, target_met
from .table import COLUMNS, busy_warnings, format_row, format_table, rows_to_json
from .timer import Timing, calls_to_fill, measure, measure_alternately
from .torch_peer import (
    import_torch,
    make_torch_regressor,
    torch_fit,
    torch_state_from_weights,
)

__all__ = [
    "CASES", "CLIP_NORM", "COLUMNS", "CONFIGS", "LATENCY_MIN_TIME",
    "LEARNING_RATE", "START_BATCHES", "Case", "PreparedCase", "Row", "Timing",
    "add_arguments", "batch_sizes", "busy_warnings", "calls_to_fill",
    "case_flops", "format_row", "format_table", "forward_flops",
    "import_torch", "main", "make_torch_regressor", "measure",
    "measure_alternately", "parse_cases", "prepare_case", "rows_to_json",
    "run_case", "select_cases", "start_command", "target_met", "torch_fit",
    "torch_state_from_weights", "training_flops",
]
