"""A quantized backend that runs the real kernels in a long-lived worker process.

FBGEMM reads ``FBGEMM_ENABLE_INSTRUCTIONS`` and oneDNN reads ``ONEDNN_MAX_CPU_ISA`` once per
process, so running the non-VNNI kernels on a VNNI CPU takes a process started with those
variables. :class:`WorkerBackend` starts ``python -m qdebug_tui.backends.worker_child`` on the
first request, feeds it scenarios over pipes (:mod:`qdebug_tui.backends.wire`), starts it again
if it dies, and stops it on :meth:`WorkerBackend.close`, at interpreter exit, or when the
backend is garbage collected. Every stopped process is waited for, so none is left a zombie.
"""

from __future__ import annotations

import logging
import os
import selectors
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Mapping

import numpy as np

from qdebug_tui.backends.base import QuantizedBackend, QuantizedRun
from qdebug_tui.backends.wire import WireError, read_message, scenario_header, write_message
from qdebug_tui.backends.worker_child import PARENT_PID_VARIABLE
from qdebug_tui.core.scenario import OutputQuant, Scenario
from qdebug_tui.emulators.targets import AVX2_ENVIRONMENT, ISA_VARIABLES

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 300.0

# Removes every instruction-set variable from the worker's environment.
CLEARED_ISA_ENVIRONMENT = {name: "" for name in ISA_VARIABLES}
_STOP_GRACE_SECONDS = 5.0

# The start of a QuantizedRun error when the kernel took the worker process down twice.
CRASH_MESSAGE = "the worker process died twice running this scenario"
_STDERR_TAIL_BYTES = 2000


class WorkerError(RuntimeError):
    """The worker process could not be started, timed out, or replied with an error."""


class _Process:
    """The running child and its stderr file; shared with the finalizer, which must not hold the backend."""

    def __init__(self) -> None:
        self.popen: subprocess.Popen | None = None
        self.stderr = None

    def stop(self) -> None:
        """Ask the child to exit, kill it after a grace period, and wait for it."""
        popen, self.popen = self.popen, None
        if popen is not None:
            _stop_process(popen)
        if self.stderr is not None:
            self.stderr.close()
            self.stderr = None


def _stop_process(popen: subprocess.Popen) -> None:
    if popen.poll() is None:
        try:
            write_message(popen.stdin, {"op": "exit", "id": 0})
            popen.stdin.close()
        except (BrokenPipeError, OSError, ValueError):
            pass  # The child is already gone; wait() below reaps it.
        try:
            popen.wait(timeout=_STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            popen.kill()
    popen.wait()
    for stream in (popen.stdin, popen.stdout):
        if stream is None or stream.closed:
            continue
        try:
            stream.close()
        except BrokenPipeError:
            pass  # Bytes of a failed request stay buffered for a dead child; close() still closes the pipe.
    log.info("worker process %d stopped with exit status %s", popen.pid, popen.returncode)


class WorkerBackend(QuantizedBackend):
    """Runs ``torch.ao.nn.quantized`` modules in a worker process with a chosen environment.

    ``environment`` is applied on top of ``os.environ`` (an empty string removes a variable).
    The default reproduces the AVX2 kernels: ``FBGEMM_ENABLE_INSTRUCTIONS=AVX2`` and
    ``ONEDNN_MAX_CPU_ISA=AVX2``. Thread-safe: requests are serialised.
    """

    name = "torch.ao.nn.quantized (worker process)"

    def __init__(self, environment: Mapping[str, str] | None = None, timeout: float = DEFAULT_TIMEOUT_SECONDS):
        self.environment = dict(AVX2_ENVIRONMENT if environment is None else environment)
        self.timeout = timeout
        self.restarts = 0
        self._lock = threading.Lock()
        self._process = _Process()
        self._next_id = 1
        self._info: dict | None = None
        self._finalizer = weakref.finalize(self, self._process.stop)

    @classmethod
    def for_isa(cls, isa: str, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> WorkerBackend:
        """Return a worker for ``isa``: ``native`` inherits this process's environment unchanged.

        ``avx2`` sets ``FBGEMM_ENABLE_INSTRUCTIONS=AVX2`` and ``ONEDNN_MAX_CPU_ISA=AVX2``.
        """
        if isa == "native":
            return cls({}, timeout)
        if isa == "avx2":
            return cls(AVX2_ENVIRONMENT, timeout)
        raise ValueError(f"invalid isa {isa!r}; expected native or avx2")

    @classmethod
    def cpu_default(cls, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> WorkerBackend:
        """Return a worker with the instruction-set variables removed: the CPU's own best kernels."""
        return cls(CLEARED_ISA_ENVIRONMENT, timeout)

    # QuantizedBackend --------------------------------------------------------------------

    def version(self) -> str:
        return str(self.info()["torch"])

    def available_engines(self) -> tuple[str, ...]:
        return tuple(self.info()["engines"])

    def run(self, scenario: Scenario) -> QuantizedRun:
        """Run ``scenario``; a kernel's refusal and a crash of the worker on it are results."""
        header, arrays = scenario_header(scenario)
        try:
            reply, reply_arrays = self._request({"op": "run", "scenario": header}, arrays)
        except _WorkerDied as died:
            return QuantizedRun(None, f"{CRASH_MESSAGE}: {died}")
        return QuantizedRun(reply_arrays.get("q"), reply.get("error"))

    def quantize_output(self, real: np.ndarray, output: OutputQuant) -> np.ndarray:
        header = {"op": "quantize", "output": {"dtype": output.dtype.name, "scale": output.scale, "zero_point": output.zero_point}}
        try:
            _, arrays = self._request(header, {"real": np.asarray(real, dtype=np.float32)})
        except _WorkerDied as died:
            raise WorkerError(f"the worker process died twice quantizing an output: {died}") from died
        return arrays["q"]

    # Process management ------------------------------------------------------------------

    def info(self) -> dict:
        """Return the worker's torch version, engines, instruction-set variables and pid."""
        if self._info is None:
            try:
                self._info, _ = self._request({"op": "info"}, {})
            except _WorkerDied as died:
                raise WorkerError(f"the worker process died twice at startup: {died}") from died
        return self._info

    @property
    def pid(self) -> int | None:
        popen = self._process.popen
        return None if popen is None else popen.pid

    def start(self) -> None:
        """Start the worker now instead of on the first request."""
        with self._lock:
            self._ensure_started()

    def close(self) -> None:
        """Stop the worker process and wait for it; the backend starts a new one if used again."""
        with self._lock:
            self._process.stop()
            self._info = None

    def __enter__(self) -> WorkerBackend:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _child_environment(self) -> dict[str, str]:
        environ = dict(os.environ)
        environ[PARENT_PID_VARIABLE] = str(os.getpid())
        for name, value in self.environment.items():
            if value:
                environ[name] = value
            else:
                environ.pop(name, None)
        return environ

    def _ensure_started(self) -> subprocess.Popen:
        process = self._process
        if process.popen is not None and process.popen.poll() is None:
            return process.popen
        if process.popen is not None:
            process.stop()
        process.stderr = tempfile.TemporaryFile(prefix="qdebug-worker-")
        try:
            process.popen = subprocess.Popen(
                [sys.executable, "-m", "qdebug_tui.backends.worker_child"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=process.stderr,
                env=self._child_environment(),
                close_fds=True,
            )
        except OSError as error:
            process.stop()
            raise WorkerError(f"failed to start the worker process {sys.executable}: {error}") from error
        log.info("worker process %d started with %s", process.popen.pid, self.environment)
        return process.popen

    def _request(self, header: dict, arrays: dict[str, np.ndarray]) -> tuple[dict, dict[str, np.ndarray]]:
        """Send one request and return the reply, restarting a dead worker once."""
        with self._lock:
            for attempt in (1, 2):
                popen = self._ensure_started()
                request_id = self._next_id
                self._next_id += 1
                try:
                    write_message(popen.stdin, dict(header, id=request_id), arrays)
                    reply, reply_arrays = read_message(_TimedReader(popen, self.timeout))
                except (BrokenPipeError, EOFError, OSError) as error:
                    died = _WorkerDied(self._death_report(popen, error))
                    log.warning("worker process %d died (attempt %d): %s", popen.pid, attempt, died)
                    self._process.stop()
                    if attempt == 2:
                        raise died from error
                    self.restarts += 1
                    continue
                except _Timeout as error:
                    self._process.stop()
                    raise WorkerError(f"the worker process timed out after {self.timeout:.0f} s; it was stopped") from error
                except WireError as error:
                    self._process.stop()
                    raise WorkerError(f"the worker process sent a malformed reply: {error}") from error
                if reply.get("id") != request_id:
                    self._process.stop()
                    raise WorkerError(f"the worker process replied to request {reply.get('id')}, expected {request_id}")
                if not reply.get("ok", False):
                    raise WorkerError(f"the worker process rejected the request: {reply.get('error')}")
                return reply, reply_arrays
        raise AssertionError("unreachable: the loop returns or raises")

    def _death_report(self, popen: subprocess.Popen, error: BaseException) -> str:
        try:
            status = popen.wait(timeout=_STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            status = None
        tail = ""
        stderr = self._process.stderr
        if stderr is not None:
            stderr.seek(0, os.SEEK_END)
            stderr.seek(max(0, stderr.tell() - _STDERR_TAIL_BYTES))
            tail = stderr.read().decode("utf-8", "replace").strip()
        described = f"exit status {status}" if status is not None else f"{type(error).__name__}: {error}"
        return described + (f"; its last output: {tail}" if tail else "")


class _WorkerDied(Exception):
    """The worker process ended in the middle of a request."""


class _Timeout(Exception):
    """No reply arrived before the deadline."""


class _TimedReader:
    """``read_exactly`` over the worker's stdout that gives up at a deadline."""

    def __init__(self, popen: subprocess.Popen, timeout: float):
        self.fd = popen.stdout.fileno()
        self.deadline = time.monotonic() + timeout

    def __call__(self, size: int) -> bytes:
        chunks = []
        remaining = size
        with selectors.DefaultSelector() as selector:
            selector.register(self.fd, selectors.EVENT_READ)
            while remaining:
                left = self.deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    raise _Timeout()
                chunk = os.read(self.fd, min(remaining, 1 << 20))
                if not chunk:
                    raise EOFError(f"the worker's output ended after {size - remaining} of {size} bytes")
                chunks.append(chunk)
                remaining -= len(chunk)
        return b"".join(chunks)
