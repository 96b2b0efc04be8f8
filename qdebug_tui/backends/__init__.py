"""Quantized backends: the real torch kernels, CPU facts and x86 dispatch."""

from __future__ import annotations

from qdebug_tui.backends.base import QuantizedBackend


def load_torch_backend() -> QuantizedBackend:
    """Import torch and return the backend that runs ``torch.ao.nn.quantized`` modules.

    Importing torch takes seconds on small CPUs; call this from a worker thread in the TUI.
    Layers on which a kernel is known to crash its process run in a worker process instead
    (:mod:`qdebug_tui.backends.guarded`).
    """
    from qdebug_tui.backends.guarded import GuardedBackend
    from qdebug_tui.backends.torch_ao import TorchAOBackend
    from qdebug_tui.backends.worker import WorkerBackend
    from qdebug_tui.emulators.known_bugs import crash_risk

    return GuardedBackend(TorchAOBackend(), crash_risk, lambda: WorkerBackend.for_isa("native"))
