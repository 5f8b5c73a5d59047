"""What a fitted network is made of: the network specs.

An estimator builds its network from a spec, a frozen dataclass of plain
values taken from its parameters and data at the first fit (stored as
``_spec``). Unpickling, ``make_objective``, a thread's predict network and a
rebuild for a new ``dropout`` or backend all rebuild from the stored spec,
so they get exactly the fitted architecture even after ``set_params``.

Each architecture family has its own spec class, and a field's metadata
says how :class:`~._changes.ParameterChangesMixin` treats a change:
``training`` fields may change between fits (the network is rebuilt around
the same weights), the others are architecture; ``parameter`` names the
constructor parameter that sets a field, for messages (``sizes``: the
estimator's ``_sizes_param``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields


def _spec_field(parameter: str | None = None, *, training: bool = False):
    return field(metadata={"parameter": parameter, "training": training})


#: the ``parameter`` of the fields set by the estimator's hidden sizes
SIZES = "sizes"


@dataclass(frozen=True)
class NetworkSpec:
    """What every network has: its input and output widths, dropout, dtype."""

    n_inputs: int
    n_outputs: int
    dropout: float = _spec_field(training=True)
    dtype: str
    # the cell variant of every LSTM layer; keyword-only with defaults, so
    # that estimators pickled before them rebuild as the plain cell
    peephole: bool = field(default=False, kw_only=True,
                           metadata={"parameter": "peephole",
                                     "training": False})
    coupled_gates: bool = field(default=False, kw_only=True,
                                metadata={"parameter": "coupled_gates",
                                          "training": False})
    recurrent_dropout: float = field(default=0.0, kw_only=True,
                                     metadata={"parameter": "recurrent_dropout",
                                               "training": True})
    zoneout: float = field(default=0.0, kw_only=True,
                           metadata={"parameter": "zoneout", "training": True})
    proj_size: int = field(default=0, kw_only=True,
                           metadata={"parameter": "proj_size",
                                     "training": False})
    layer_norm: bool = field(default=False, kw_only=True,
                             metadata={"parameter": "layer_norm",
                                       "training": False})

    def cell_options(self) -> dict:
        """The LSTM layers' cell keywords (:class:`numlstm.nn.LSTM`)."""
        return {"peephole": self.peephole, "coupled_gates": self.coupled_gates,
                "recurrent_dropout": self.recurrent_dropout,
                "zoneout": self.zoneout, "proj_size": self.proj_size,
                "layer_norm": self.layer_norm}

    @classmethod
    def extending(cls, spec: NetworkSpec, **values) -> NetworkSpec:
        """A spec of ``cls`` with the fields of ``spec`` and ``values``."""
        return cls(**spec_values(spec), **values)


@dataclass(frozen=True)
class RecurrentSpec(NetworkSpec):
    """A stack of recurrent layers and a dense output (Vanilla, Stacked,
    Generative)."""

    hidden_sizes: tuple = _spec_field(SIZES)
    return_sequences: bool


@dataclass(frozen=True)
class BidirectionalSpec(RecurrentSpec):
    """Bidirectional layers, merged by ``merge_mode``."""

    merge_mode: str


@dataclass(frozen=True)
class CNNSpec(RecurrentSpec):
    """Conv blocks on steps of ``step_shape`` before the recurrent stack."""

    step_shape: tuple
    filters: tuple
    kernel_size: int
    pool_size: int
    padding: str


@dataclass(frozen=True)
class EncoderDecoderSpec(NetworkSpec):
    """An encoder stack and a decoder of ``n_steps_out`` steps."""

    encoder_sizes: tuple = _spec_field(SIZES)
    decoder_size: int = _spec_field("decoder_units")
    n_steps_out: int
    decoder: str
    feedback: str
    n_classes: int


_SPEC_CLASSES = (RecurrentSpec, BidirectionalSpec, CNNSpec, EncoderDecoderSpec)


def spec_values(spec: NetworkSpec) -> dict:
    """Field name -> value, in the order of the fields (no deep copy)."""
    return {f.name: getattr(spec, f.name) for f in fields(spec)}


def as_spec(spec) -> NetworkSpec:
    """``spec`` as a :class:`NetworkSpec`: estimators pickled before the
    spec classes hold a dict with exactly the field names of one of them."""
    if isinstance(spec, NetworkSpec):
        return spec
    for cls in _SPEC_CLASSES:
        required = {f.name for f in fields(cls) if not f.kw_only}
        if required <= set(spec) <= {f.name for f in fields(cls)}:
            return cls(**spec)
    raise ValueError(f"no network spec has the keys {sorted(spec)}")
