"""Fit times of numlstm estimators beside PyTorch models of the same shape.

Run in an environment that has torch (never a numlstm dependency)::

    python benchmarks/fit_vs_torch.py [--only echo,addition,conv,square]

Each case trains the same architecture, on the same data, with the same
optimiser (Adam), batch size, learning rate and number of epochs, in one
process, on the CPU, and prints the wall time of the fit (median of
``--repeats`` runs after one warm-up fit, so JIT compilation is not timed)
and the score both reach on fresh data.

- echo: ``VanillaLSTMClassifier`` on 1,000 echo sequences vs
  ``nn.LSTM`` + ``nn.Linear`` + softmax cross-entropy;
- addition: ``EncoderDecoderLSTMClassifier((64, 64), 64,
  decoder='teacher_forcing')`` vs a two-layer LSTM encoder whose top final
  state starts an LSTM decoder fed a learned start input, then the previous
  target (one-hot) while training and its own argmax when predicting;
- conv: the Conv2D forward kernel vs ``torch.nn.functional.conv2d`` and
  ``scipy.signal.correlate`` on one moving-square batch;
- square: ``CNNLSTMClassifier`` on the moving square (numlstm only).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from scipy import signal  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

import numlstm  # noqa: E402
from numlstm import datasets  # noqa: E402

warnings.simplefilter("ignore", ConvergenceWarning)


def median_time(fn, repeats):
    fn()  # warm-up: compiles the kernels, fills caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times)


def torch_fit(model, X, y, epochs, batch_size, lr, loss_fn, seed=0):
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(X), generator=g)
        for s in range(0, len(X), batch_size):
            idx = order[s:s + batch_size]
            opt.zero_grad()
            loss = loss_fn(model, X[idx], y[idx])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
    return model


class LSTMClassifierNet(torch.nn.Module):
    def __init__(self, n_in, hidden, n_out):
        super().__init__()
        self.lstm = torch.nn.LSTM(n_in, hidden, batch_first=True)
        self.dense = torch.nn.Linear(hidden, n_out)

    def forward(self, x):
        return self.dense(self.lstm(x)[0][:, -1])


class TeacherForcedSeq2Seq(torch.nn.Module):
    def __init__(self, n_in, hidden, n_classes, steps_out):
        super().__init__()
        self.steps_out, self.n_classes = steps_out, n_classes
        self.encoder = torch.nn.LSTM(n_in, hidden, num_layers=2,
                                     batch_first=True)
        self.start = torch.nn.Parameter(torch.zeros(1, 1, n_classes))
        self.decoder = torch.nn.LSTM(n_classes, hidden, batch_first=True)
        self.dense = torch.nn.Linear(hidden, n_classes)

    def forward(self, x, targets=None):
        _, (h, c) = self.encoder(x)
        state = (h[-1:].contiguous(), c[-1:].contiguous())
        start = self.start.expand(len(x), 1, -1)
        if targets is not None:
            prev = torch.nn.functional.one_hot(targets[:, :-1], self.n_classes)
            inputs = torch.cat([start, prev.float()], dim=1)
            return self.dense(self.decoder(inputs, state)[0])
        outs, inp = [], start
        for _ in range(self.steps_out):
            h_t, state = self.decoder(inp, state)
            out = self.dense(h_t)
            outs.append(out)
            inp = torch.nn.functional.one_hot(out.argmax(-1),
                                              self.n_classes).float()
        return torch.cat(outs, dim=1)


def case_echo(args):
    X, y = datasets.make_echo_sequence(1000, 5, 10, 2, random_state=0)
    X_new, y_new = datasets.make_echo_sequence(1000, 5, 10, 2, random_state=1)
    epochs, batch, lr, units = 30, 32, 1e-2, 25
    model = numlstm.VanillaLSTMClassifier(
        units=units, max_iter=epochs, n_iter_no_change=epochs + 1,
        batch_size=batch, learning_rate_init=lr, random_state=0)
    t_ours = median_time(lambda: model.fit(X, y), args.repeats)
    score_ours = model.score(X_new, y_new)
    Xf = X.astype(np.float32)

    def fit_torch():
        return torch_fit(LSTMClassifierNet(10, units, 10), Xf, y, epochs, batch,
                         lr, lambda m, xb, yb:
                         torch.nn.functional.cross_entropy(m(xb), yb))

    t_torch = median_time(fit_torch, args.repeats)
    net = fit_torch()
    with torch.no_grad():
        pred = net(torch.as_tensor(X_new.astype(np.float32))).argmax(1).numpy()
    return ("echo: VanillaLSTMClassifier(25), 1000 seqs, T=5, D=10, 30 epochs, "
            "batch 32", t_ours, t_torch, score_ours, float(np.mean(pred == y_new)))


def case_addition(args):
    X, y = datasets.make_addition(6000, 3, 20, random_state=0)
    X_new, y_new = datasets.make_addition(1000, 3, 20, random_state=1)
    epochs, batch, lr, units = 40, 32, 5e-3, 64
    model = numlstm.EncoderDecoderLSTMClassifier(
        (units, units), units, decoder="teacher_forcing", max_iter=epochs,
        n_iter_no_change=epochs + 1, batch_size=batch, learning_rate_init=lr,
        random_state=0)
    t_ours = median_time(lambda: model.fit(X, y), args.repeats)
    exact_ours = float(np.mean((model.predict(X_new) == y_new).all(axis=1)))
    classes = np.unique(y)
    codes = np.searchsorted(classes, y)
    Xf = X.astype(np.float32)

    def loss(m, xb, yb):
        out = m(xb, yb)
        return torch.nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]),
                                                 yb.reshape(-1))

    def fit_torch():
        return torch_fit(TeacherForcedSeq2Seq(X.shape[2], units, len(classes),
                                              y.shape[1]), Xf, codes, epochs,
                         batch, lr, loss)

    t_torch = median_time(fit_torch, args.repeats)
    net = fit_torch()
    with torch.no_grad():
        out = net(torch.as_tensor(X_new.astype(np.float32))).argmax(-1).numpy()
    exact_torch = float(np.mean((classes[out] == y_new).all(axis=1)))
    return ("addition: EncoderDecoderLSTMClassifier((64, 64), 64, teacher "
            "forcing), 6000 sums of 3 terms <= 20, 40 epochs, batch 32", t_ours,
            t_torch, exact_ours, exact_torch)


def case_conv(args):
    from numlstm.backends import resolve

    be = resolve("cpu")
    X, _ = datasets.make_moving_square(32, size=50, random_state=0)
    N = 32 * 50
    x = np.ascontiguousarray(X.reshape(N, 50, 50, 1), dtype=np.float32)
    rng = np.random.default_rng(0)
    W = rng.normal(size=(16, 1, 3, 3)).astype(np.float32)
    b = np.zeros(16, np.float32)
    cols = np.empty((N * 48 * 48, 9), np.float32)
    out = np.empty((N, 48, 48, 16), np.float32)
    t_ours = median_time(lambda: be.conv2d_forward(x, W, b, 0, 0, cols, out),
                         args.repeats)
    xt = torch.as_tensor(x).permute(0, 3, 1, 2).contiguous()
    wt = torch.as_tensor(W)
    with torch.no_grad():
        t_torch = median_time(lambda: torch.nn.functional.conv2d(xt, wt),
                              args.repeats)
        ref = torch.nn.functional.conv2d(xt, wt).permute(0, 2, 3, 1).numpy()
    sub = x[:64]

    def scipy_conv():
        return [[signal.correlate(sub[n, :, :, 0], W[f, 0], mode="valid")
                 for f in range(16)] for n in range(len(sub))]

    t_scipy = median_time(scipy_conv, max(1, args.repeats // 2))
    scale = N / len(sub)
    err = float(np.max(np.abs(out - ref)))
    print(f"conv2d forward, {N} frames 50x50x1 -> 16 filters 3x3 (valid), "
          f"float32: numlstm {t_ours[0] * 1e3:.1f} ms, torch conv2d "
          f"{t_torch[0] * 1e3:.1f} ms (torch/numlstm {t_torch[0] / t_ours[0]:.2f}),"
          f" scipy.signal.correlate {t_scipy[0] * scale * 1e3:.0f} ms "
          f"(timed on {len(sub)} frames, scaled), max |numlstm - torch| "
          f"{err:.1e}")
    return None


def case_square(args):
    X, y = datasets.make_moving_square(400, size=10, random_state=0)
    X_new, y_new = datasets.make_moving_square(200, size=10, random_state=1)
    model = numlstm.CNNLSTMClassifier((8,), units=16, max_iter=15,
                                      n_iter_no_change=16,
                                      learning_rate_init=1e-2, random_state=0)
    t = median_time(lambda: model.fit(X, y), args.repeats)
    print(f"moving square: CNNLSTMClassifier((8,), units=16), 400 sequences of "
          f"10 frames 10x10, 15 epochs: fit {t[0]:.2f} s (min {t[1]:.2f}, max "
          f"{t[2]:.2f}), accuracy {model.score(X_new, y_new):.3f}")
    return None


CASES = {"echo": case_echo, "addition": case_addition, "conv": case_conv,
         "square": case_square}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(CASES))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"numlstm {numlstm.__version__}, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), numpy {np.__version__}, "
          f"python {sys.version.split()[0]}")
    rows = []
    for name in args.only.split(","):
        row = CASES[name](args)
        if row is not None:
            rows.append(row)
    if rows:
        print("\n| case | numlstm fit s (min-max) | torch fit s (min-max) | "
              "torch/numlstm | numlstm score | torch score |")
        print("|---|---:|---:|---:|---:|---:|")
        for label, ours, theirs, s_ours, s_theirs in rows:
            print(f"| {label} | {ours[0]:.2f} ({ours[1]:.2f}-{ours[2]:.2f}) | "
                  f"{theirs[0]:.2f} ({theirs[1]:.2f}-{theirs[2]:.2f}) | "
                  f"{theirs[0] / ours[0]:.2f} | {s_ours:.3f} | {s_theirs:.3f} |")


if __name__ == "__main__":
    main()
