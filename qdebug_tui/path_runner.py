"""The real kernels behind the drill-down screen: one backend per instruction-set form.

The drill-down traces cells on this CPU's path (``native``) and on the AVX2 path of a CPU
without VNNI (``avx2``). Each form gets its own backend, by default a
:class:`~qdebug_tui.backends.worker.WorkerBackend` process like the one ``qdebug explain``
starts, so that a trace on the screen is the document ``qdebug explain --json`` prints.
Headless and blocking; the screen calls it from thread workers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from qdebug_tui.backends.base import QuantizedBackend
from qdebug_tui.backends.cpu import CpuInfo
from qdebug_tui.backends.worker import WorkerBackend
from qdebug_tui.cell_paths import BothPaths, run_both_paths, worker_description
from qdebug_tui.core.scenario import Scenario
from qdebug_tui.emulators import ISA_CHOICES


class PathRunner:
    """A backend per instruction-set form, and the last run of both paths on each.

    ``backend_for_isa`` returns the backend that reproduces a form; it is called once per
    form, on first use. The default starts a worker process per form. ``cpu`` replaces the
    detected CPU where the run plan reads it (tests use it for screenshots that do not
    depend on the machine). Thread-safe; :meth:`close` stops the worker processes.
    """

    def __init__(
        self, backend_for_isa: Callable[[str], QuantizedBackend] = WorkerBackend.for_isa, cpu: CpuInfo | None = None
    ) -> None:
        self._backend_for_isa = backend_for_isa
        self.cpu = cpu
        self._lock = threading.Lock()
        self._form_locks = {isa: threading.Lock() for isa in ISA_CHOICES}
        self._backends: dict[str, QuantizedBackend] = {}
        self._runs: dict[str, BothPaths] = {}

    def cached(self, scenario: Scenario, isa: str) -> BothPaths | None:
        """Return the run of ``scenario`` (the same object) on ``isa`` if it was kept, else None."""
        with self._lock:
            paths = self._runs.get(isa)
        return paths if paths is not None and paths.scenario is scenario else None

    def paths(self, scenario: Scenario, isa: str) -> BothPaths:
        """Return both paths of ``scenario`` on ``isa``, running them unless the last run was of it.

        Blocks for as long as the run takes, and on the first call of a form for as long as its
        worker process takes to import torch. Raises ValueError for an unknown ``isa``.
        """
        if isa not in self._form_locks:
            raise ValueError(f"invalid isa {isa!r}; expected one of {', '.join(ISA_CHOICES)}")
        with self._form_locks[isa]:
            cached_run = self.cached(scenario, isa)
            if cached_run is not None:
                return cached_run
            backend = self._backend(isa)
            where = worker_description(isa) if isinstance(backend, WorkerBackend) else backend.name
            paths = run_both_paths(scenario, isa, backend, where, self.cpu)
            with self._lock:
                self._runs[isa] = paths
            return paths

    def close(self) -> None:
        """Stop the worker processes; a later call of :meth:`paths` starts them again."""
        with self._lock:
            backends = list(self._backends.values())
            self._backends.clear()
            self._runs.clear()
        for backend in backends:
            if isinstance(backend, WorkerBackend):
                backend.close()

    def _backend(self, isa: str) -> QuantizedBackend:
        with self._lock:
            backend = self._backends.get(isa)
            if backend is None:
                backend = self._backends[isa] = self._backend_for_isa(isa)
            return backend
