"""Quantized backends: the real torch kernels, CPU facts and x86 dispatch."""

from __future__ import annotations

from qdebug_tui.backends.base import QuantizedBackend


def load_torch_backend() -> QuantizedBackend:
    """Import torch and return the backend that runs ``torch.ao.nn.quantized`` modules.

    Importing torch takes seconds on small CPUs; call this from a worker thread in the TUI.
    """
    from qdebug_tui.backends.torch_ao import TorchAOBackend

    return TorchAOBackend()
