"""A backend that keeps kernels known to crash out of the process that shows the results.

Several torch 2.13 kernels can take their process down on some layer shapes
(docs/numerics.md). FBGEMM's groupwise kernel writes out of bounds when the number of groups
is not a multiple of the groups it handles at once. FBGEMM's 3-D depthwise kernel can abort or
hang on inputs no longer than the padding. oneDNN can crash with SIGSEGV on an output row or
column that reads only padding. :class:`GuardedBackend` runs every other scenario in
this process, which is fast, and sends each scenario that matches a known kernel bug to a
worker process with the same environment. If the kernel kills the worker, the run comes back
as an error result and the TUI keeps its unsaved edits.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import numpy as np

from qdebug_tui.backends.base import QuantizedBackend, QuantizedRun
from qdebug_tui.core.scenario import OutputQuant, Scenario

log = logging.getLogger(__name__)


class GuardedBackend(QuantizedBackend):
    """A backend that runs scenarios on ``local`` unless ``crash_risk`` names a reason to isolate them.

    ``crash_risk`` returns None for a safe scenario and a description of the risk otherwise.
    ``worker_factory`` builds the worker backend on first use; it is started once and reused.
    """

    def __init__(
        self,
        local: QuantizedBackend,
        crash_risk: Callable[[Scenario], str | None],
        worker_factory: Callable[[], QuantizedBackend],
    ) -> None:
        self.local = local
        self.name = local.name
        self._crash_risk = crash_risk
        self._worker_factory = worker_factory
        self._worker: QuantizedBackend | None = None
        self._lock = threading.Lock()
        self.isolated_runs = 0

    def version(self) -> str:
        return self.local.version()

    def available_engines(self) -> tuple[str, ...]:
        return self.local.available_engines()

    def run(self, scenario: Scenario) -> QuantizedRun:
        risk = self._crash_risk(scenario)
        if risk is None:
            return self.local.run(scenario)
        log.info("running scenario %r in a worker process: %s", scenario.name, risk)
        self.isolated_runs += 1
        return self.worker().run(scenario)

    def quantize_output(self, real: np.ndarray, output: OutputQuant) -> np.ndarray:
        return self.local.quantize_output(real, output)

    def worker(self) -> QuantizedBackend:
        """Return the worker backend, building it on first use."""
        with self._lock:
            if self._worker is None:
                self._worker = self._worker_factory()
            return self._worker

    def close(self) -> None:
        """Stop the worker process, if one was started."""
        with self._lock:
            worker, self._worker = self._worker, None
        close = getattr(worker, "close", None)
        if close is not None:
            close()
