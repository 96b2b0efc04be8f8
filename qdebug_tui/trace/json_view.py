"""The accumulator trace as a JSON-ready dict, the format of ``qdebug explain --json``.

Top-level keys:

- ``index``; ``terms``, in the kernel's K order, each with ``q_x``, ``q_w``, ``product`` and more;
- ``accumulator``, the exact integer sum;
- ``backend``, with ``name``, ``isa``, ``pairs``, ``saturated_pairs`` and ``accumulator``
  (the int32 the kernel requantizes);
- ``bias``, ``requantization``, ``output_q`` (the emulated kernel's integer) and ``exact``;
- ``float_path`` with ``real`` and ``q``; ``quantized_path`` with ``q``, the real kernel's
  integer or null;
- ``cause``, ``explanation``, ``steps`` and ``notes``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict

from qdebug_tui.trace.model import CellTrace


def trace_to_json(trace: CellTrace) -> dict:
    """Convert a trace to plain JSON types; non-finite reals become strings."""
    backend = trace.backend
    document = {
        "scenario": trace.scenario,
        "index": list(trace.index),
        "engine": trace.engine,
        "isa": trace.isa,
        "terms": [_term(term) for term in trace.terms],
        "accumulator": trace.exact.accumulator,
        "backend": {
            "name": backend.library,
            "engine": backend.engine,
            "kernel_path": backend.kernel_path,
            "isa": backend.isa,
            "saturating": backend.saturating,
            "summation": backend.summation,
            "pairs": [_pair(pair) for pair in backend.pairs],
            "saturated_pairs": backend.saturated_pairs,
            "clipping": backend.clipping,
            "raw_sum": backend.raw_sum,
            "pair_sum": backend.pair_sum,
            "zero_point_correction": _zero_point(backend.zero_point),
            "bias_int32": backend.bias_int32,
            "accumulator": backend.accumulator,
            "notes": list(backend.notes),
        },
        "bias": asdict(trace.bias),
        "requantization": asdict(trace.requantization),
        "output_q": trace.output_q,
        "exact": asdict(trace.exact),
        "float_path": asdict(trace.float_path),
        "quantized_path": {"q": trace.quantized_q, "source": trace.quantized_source, "emulated_q": trace.output_q},
        "cause": trace.cause,
        "explanation": trace.explanation,
        "steps": [asdict(step) for step in trace.steps],
        "notes": list(trace.notes),
    }
    return _finite(document)


def trace_to_json_text(trace: CellTrace) -> str:
    """Return the JSON text ``qdebug explain --json`` prints for the trace, ending in a newline."""
    return json.dumps(trace_to_json(trace), indent=2, ensure_ascii=False) + "\n"


def _term(term) -> dict:
    return {
        "slot": term.slot,
        "k": term.k,
        "input_index": None if term.input_index is None else list(term.input_index),
        "q_x": term.q_x,
        "x_centered": term.x_centered,
        "weight_index": list(term.weight_index),
        "q_w": term.q_w,
        "w_centered": term.w_centered,
        "product": term.product,
        "raw_x": term.raw_x,
    }


def _pair(pair) -> dict:
    return {
        "slots": list(pair.slots),
        "k": list(pair.k),
        "activations": list(pair.activations),
        "weights": list(pair.weights),
        "exact": pair.exact,
        "saturated": pair.saturated,
        "clipped_by": pair.clipped_by,
    }


def _zero_point(correction) -> dict | None:
    if correction is None:
        return None
    return {**asdict(correction), "row_term": correction.row_term, "column_term": correction.column_term}


def _finite(value):
    """Replace inf and nan, which JSON cannot hold, by their names."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value
