"""The accumulator trace of one output cell, as plain frozen dataclasses.

The TUI's drill-down screen and ``qdebug explain`` render the same :class:`CellTrace`; nothing
here imports Rich or Textual. Integers are Python ints and reals are Python floats, so the tree
converts to JSON without NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass

from qdebug_tui.emulators.saturation import PairSum


@dataclass(frozen=True)
class Term:
    """One product of the cell's sum, in the kernel's K order.

    ``input_index`` is None on padding, where ``q_x`` is the input zero point (the quantized
    real zero). ``raw_x`` is the activation the kernel multiplies: the zero point on padding
    for FBGEMM and QNNPACK, a raw 0 for oneDNN. ``product`` is the centered product
    (q_x − z_x)(q_w − z_w).
    """

    slot: int
    k: int
    input_index: tuple[int, ...] | None
    q_x: int
    x_centered: int
    weight_index: tuple[int, ...]
    q_w: int
    w_centered: int
    product: int
    raw_x: int


@dataclass(frozen=True)
class ZeroPointCorrection:
    """FBGEMM's offsets: ``acc − z_x · column_offset − row_offset · z_w``.

    ``row_offset = Σ_k A[k]`` over the raw activations (padding holds z_x);
    ``column_offset = Σ_k W[k] − z_w · K``.
    """

    row_offset: int
    column_offset: int
    input_zero_point: int
    weight_zero_point: int

    @property
    def row_term(self) -> int:
        return self.row_offset * self.weight_zero_point

    @property
    def column_term(self) -> int:
        return self.input_zero_point * self.column_offset


@dataclass(frozen=True)
class BackendAccumulation:
    """The kernel's summation of the cell's products, ending in the int32 it requantizes.

    ``raw_sum`` is Σ raw products (exact) and ``pair_sum`` the kernel's sum of its pair sums;
    both are None for QNNPACK, which multiplies zero-point-centered values. ``accumulator``
    is the int32 before requantization; QNNPACK's includes ``bias_int32``.
    """

    library: str
    engine: str
    kernel_path: str
    isa: str
    saturating: bool
    summation: str
    pairs: tuple[PairSum, ...]
    raw_sum: int | None
    pair_sum: int | None
    zero_point: ZeroPointCorrection | None
    bias_int32: int | None
    accumulator: int
    notes: tuple[str, ...]

    @property
    def saturated_pairs(self) -> int:
        return sum(1 for pair in self.pairs if pair.clipped_by)

    @property
    def clipping(self) -> int:
        """Return Σ (sat16(s) − s): how far the pair sums moved the accumulator."""
        return sum(pair.clipped_by for pair in self.pairs)


@dataclass(frozen=True)
class BiasTrace:
    """The bias as the engine applies it.

    ``exact`` is bias / (s_x · s_w) in accumulator units, from the float64 scales.
    ``applied`` is what the engine adds, in the same units. FBGEMM adds a float32 term and
    QNNPACK the int32 rounding. oneDNN adds the float bias after scaling, shown here divided
    back into accumulator units.
    """

    real: float | None
    mode: str
    exact: float
    applied: float
    rounding_error: float


@dataclass(frozen=True)
class RequantTrace:
    """Requantization of the kernel's accumulator to the output integer."""

    multiplier_f32: float
    multiplier_exact: float
    value: float
    scaled: float
    before_rounding: float
    rounding_rule: str
    zero_point: int
    zero_point_added: str
    low: int
    high: int
    overflow: bool
    rounded: int
    q: int


@dataclass(frozen=True)
class ExactTrace:
    """The exact result: integer accumulator, unrounded output in LSB, and the clamped q."""

    accumulator: int
    real: float
    scaled: float
    q: int
    unclamped_q: int


@dataclass(frozen=True)
class FloatPathTrace:
    """The float path for the cell: dequantized terms summed in float32, bias, quantize.

    ``terms_sum_f32`` is the sum of the dequantized products in PyTorch's order in float32, as
    a sequential loop computes it. ``real`` is the float layer's output: torch's own value when
    the caller passed it, else ``terms_sum_f32 + bias``. ``source`` names which.
    """

    terms_sum_f32: float
    terms_sum_exact: float
    bias: float
    real: float
    source: str
    scaled: float
    rounding_rule: str
    q: int


@dataclass(frozen=True)
class CauseStep:
    """One step from the kernel's output towards the float path's, and the q it gives."""

    cause: str
    description: str
    q_before: int
    q_after: int


@dataclass(frozen=True)
class CellTrace:
    """Everything qdebug shows for one output cell."""

    scenario: str
    index: tuple[int, ...]
    engine: str
    isa: str
    terms: tuple[Term, ...]
    exact: ExactTrace
    backend: BackendAccumulation
    bias: BiasTrace
    requantization: RequantTrace
    float_path: FloatPathTrace
    quantized_q: int | None
    quantized_source: str
    cause: str | None
    explanation: str
    steps: tuple[CauseStep, ...]
    notes: tuple[str, ...] = ()

    @property
    def output_q(self) -> int:
        """Return the emulated kernel's output integer."""
        return self.requantization.q
