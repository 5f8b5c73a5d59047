"""The table of configurations and the cases of ``numlstm bench``.

:data:`CONFIGS` is the one table of LSTM shapes ``(B, T, D, H)`` (batch,
steps, inputs, hidden units) of the design guide, section 6: ``numlstm
bench``, the scripts under ``benchmarks/`` and the asv suite all read it.
:data:`CASES` says what ``numlstm bench`` runs on those shapes and which
target of issue 6 each row has.
"""

from __future__ import annotations

import dataclasses

#: name -> (B, T, D, H): the configurations of the design guide, section 6
CONFIGS = {
    "latency": (1, 50, 8, 64),
    "small": (32, 50, 8, 64),
    "medium": (64, 100, 32, 256),
    "large": (64, 100, 512, 1024),
}

#: learning rate of every fit, numlstm's and torch's
LEARNING_RATE = 1e-3
#: gradient-norm clipping of every fit (numlstm's default ``clip_norm``)
CLIP_NORM = 5.0
#: a latency timing is the mean of as many calls as fill this many seconds
LATENCY_MIN_TIME = 0.2
#: batches fitted by the ``start`` case's fresh interpreter
START_BATCHES = 4


@dataclasses.dataclass(frozen=True)
class Case:
    """One row of the table: what runs and which target it has.

    Every target given must hold.

    Parameters
    ----------
    name : str
        The row's name, as ``--cases`` spells it.
    kind : {'predict', 'fit', 'start'}
        One ``predict`` call, a whole ``fit``, or a fresh interpreter that
        imports numlstm, fits and predicts.
    config : tuple of int
        ``(B, T, D, H)``, usually a value of :data:`CONFIGS`.
    n_sequences : int
        Sequences predicted or fitted.
    epochs : int
        Epochs of a fit (0 for a predict).
    max_ratio : float, optional
        Ceiling on numlstm's time over torch's.
    min_peak_percent : float, optional
        Floor on numlstm's GFLOP/s in % of the sgemm rate.
    max_seconds : float, optional
        Ceiling on numlstm's seconds.
    slow : bool, default False
        Run only when asked for (``--large`` or ``--cases``).
    """

    name: str
    kind: str
    config: tuple
    n_sequences: int
    epochs: int
    max_ratio: float | None = None
    min_peak_percent: float | None = None
    max_seconds: float | None = None
    slow: bool = False

    @property
    def description(self) -> str:
        """What runs, in words, as the table prints it."""
        if self.kind == "predict":
            return f"predict, {self.config[0]} sequence(s)"
        if self.kind == "fit":
            return (f"fit, {self.n_sequences} seqs, {self.epochs} "
                    f"epoch{'s' if self.epochs != 1 else ''}")
        return (f"fresh process: import, fit {self.n_sequences} seqs, "
                "predict")

    @property
    def target(self) -> str:
        """The target in words, as the table prints it."""
        parts = []
        if self.max_ratio is not None:
            parts.append(f"ratio <= {self.max_ratio:g}")
        if self.min_peak_percent is not None:
            parts.append(f">= {self.min_peak_percent:g}% sgemm")
        if self.max_seconds is not None:
            parts.append(f"<= {self.max_seconds:g} s")
        return " and ".join(parts)

    def quick(self) -> Case:
        """This case as ``--quick`` runs it.

        Returns
        -------
        Case
            A fit with an eighth of the sequences (at least one batch) and
            one epoch; any other case unchanged.
        """
        if self.kind != "fit":
            return self
        B = self.config[0]
        return dataclasses.replace(self, n_sequences=max(B, self.n_sequences // 8),
                                   epochs=1)


#: every case of ``numlstm bench``, in table order
CASES = {
    "latency": Case("latency", "predict", CONFIGS["latency"], 1, 0,
                    max_ratio=0.2),
    "small": Case("small", "fit", CONFIGS["small"], 1024, 3, max_ratio=0.5),
    "medium": Case("medium", "fit", CONFIGS["medium"], 512, 2, max_ratio=0.8),
    "large": Case("large", "fit", CONFIGS["large"], 128, 1, max_ratio=1.0,
                  min_peak_percent=80.0, slow=True),
    "start": Case("start", "start", CONFIGS["small"], START_BATCHES * 32, 1,
                  max_seconds=1.5),
}


def select_cases(names: list[str] | None = None, large: bool = False) -> list[str]:
    """The cases to run, in table order.

    Parameters
    ----------
    names : list of str, optional
        The cases of ``--cases``; None means every case but the slow one.
    large : bool, default False
        ``--large``: add the large case either way.

    Returns
    -------
    list of str
        Names of :data:`CASES`, in its order.

    Examples
    --------
    >>> select_cases()
    ['latency', 'small', 'medium', 'start']
    >>> select_cases(["small"], large=True)
    ['small', 'large']
    """
    chosen = set(names) if names is not None else {
        name for name, case in CASES.items() if not case.slow}
    if large:
        chosen.add("large")
    return [name for name in CASES if name in chosen]


def parse_cases(text: str) -> list[str]:
    """Case names from a comma-separated list, checked, in table order.

    Parameters
    ----------
    text : str
        The value of ``--cases``; blanks around names are ignored.

    Returns
    -------
    list of str
        Names of :data:`CASES`, in its order.

    Raises
    ------
    ValueError
        If a name is not in :data:`CASES` or none is given.

    Examples
    --------
    >>> parse_cases("small, latency")
    ['latency', 'small']
    """
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in CASES]
    if unknown:
        raise ValueError(f"unknown case{'s' if len(unknown) > 1 else ''} "
                         f"{', '.join(map(repr, unknown))}; choose from "
                         f"{', '.join(CASES)}")
    if not names:
        raise ValueError(f"no case given; choose from {', '.join(CASES)}")
    return [name for name in CASES if name in names]
