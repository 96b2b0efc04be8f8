"""The interface every quantized backend implements.

The TUI and the CLI only talk to this interface. Today the one implementation runs the
``quantized::`` ops behind ``torch.ao.nn.quantized`` (:mod:`qdebug_tui.backends.torch_ao`).
When torch removes quint8 and qint8, another implementation can run torchao or the oneDNN
pointwise ops on plain int8 tensors.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from qdebug_tui.core.scenario import OutputQuant, Scenario


@dataclass(frozen=True)
class QuantizedRun:
    """The real kernel's output integers, or the message it raised instead."""

    q: np.ndarray | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class QuantizedBackend(ABC):
    """Runs a scenario's layer on a real quantized kernel."""

    name: str

    @abstractmethod
    def version(self) -> str:
        """Return the version of the library behind this backend."""

    @abstractmethod
    def available_engines(self) -> tuple[str, ...]:
        """Return the engine names this build can run."""

    @abstractmethod
    def run(self, scenario: Scenario) -> QuantizedRun:
        """Run the layer on ``scenario.engine``; a kernel's refusal is a result, not an exception."""

    @abstractmethod
    def quantize_output(self, real: np.ndarray, output: OutputQuant) -> np.ndarray:
        """Quantize float32 values with the output's parameters as the library's quantize op does."""

    def kernel_environment(self) -> Mapping[str, str]:
        """Return the environment of the process whose kernels run, where FBGEMM and oneDNN read their ISA caps.

        This process's environment, unless the backend runs its kernels in another process.
        """
        return os.environ
