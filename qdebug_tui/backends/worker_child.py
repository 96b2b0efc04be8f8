"""The worker process: runs scenarios on the real torch kernels, one message at a time.

Started by :class:`qdebug_tui.backends.worker.WorkerBackend` as
``python -m qdebug_tui.backends.worker_child`` with the instruction-set variables it should
run under. It reads requests on stdin and writes replies on stdout in the format of
:mod:`qdebug_tui.backends.wire`. File descriptor 1 is pointed at stderr first, so that
anything a library prints cannot corrupt the replies.

Requests (``"op"``): ``info``, ``run`` (a scenario), ``quantize`` (real values and output
quantization parameters), ``exit``. Every reply carries the request's ``"id"``.
"""

from __future__ import annotations

import os
import sys
import threading
import time

from qdebug_tui.backends.wire import WireError, read_message, scenario_from_header, stream_reader, write_message
from qdebug_tui.core.dtypes import DTYPES
from qdebug_tui.core.scenario import OutputQuant

_ENVIRONMENT_REPORTED = ("FBGEMM_ENABLE_INSTRUCTIONS", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA")

# The variable that passes the parent's pid, so that the worker can exit when it is orphaned.
PARENT_PID_VARIABLE = "QDEBUG_WORKER_PARENT_PID"
_PARENT_CHECK_SECONDS = 1.0
_ORPHANED_EXIT_STATUS = 3

# Packages whose loaded modules ``info`` lists, so that tests can check what the worker imports.
_MODULES_REPORTED = frozenset({"qdebug_tui", "textual", "rich"})


def serve(requests, replies) -> None:
    """Serve requests until ``exit`` or the end of the input stream."""
    from qdebug_tui.backends.torch_ao import TorchAOBackend

    backend = TorchAOBackend()
    read_exactly = stream_reader(requests)
    while True:
        try:
            header, arrays = read_message(read_exactly)
        except EOFError:
            return
        op = header.get("op")
        reply: dict = {"id": header.get("id"), "ok": True}
        if op == "exit":
            write_message(replies, reply)
            return
        try:
            reply_arrays = _answer(backend, op, header, arrays, reply)
        except WireError as error:
            reply.update(ok=False, error=str(error))
            reply_arrays = {}
        except Exception as error:  # noqa: BLE001 (sent to the parent, which raises it)
            reply.update(ok=False, error=f"{type(error).__name__} in the worker process: {error}")
            reply_arrays = {}
        write_message(replies, reply, reply_arrays)


def _answer(backend, op, header: dict, arrays: dict, reply: dict) -> dict:
    if op == "info":
        reply.update(
            torch=backend.version(),
            engines=list(backend.available_engines()),
            environment={name: os.environ.get(name, "") for name in _ENVIRONMENT_REPORTED},
            pid=os.getpid(),
            modules=sorted(name for name in sys.modules if name.split(".")[0] in _MODULES_REPORTED),
        )
        return {}
    if op == "run":
        run = backend.run(scenario_from_header(_object(header, "scenario"), arrays))
        reply["error"] = run.error
        return {} if run.q is None else {"q": run.q}
    if op == "quantize":
        output = _object(header, "output")
        try:
            quant = OutputQuant(DTYPES[output["dtype"]], float(output["scale"]), int(output["zero_point"]))
            real = arrays["real"]
        except (KeyError, TypeError, ValueError) as error:
            raise WireError(f"malformed quantize request: {type(error).__name__}: {error}") from error
        return {"q": backend.quantize_output(real, quant)}
    raise WireError(f"unknown request {op!r}; expected info, run, quantize or exit")


def _object(header: dict, key: str) -> dict:
    value = header.get(key)
    if not isinstance(value, dict):
        raise WireError(f"malformed request: {key!r} must be a JSON object")
    return value


def exit_when_orphaned(parent: int, period: float = _PARENT_CHECK_SECONDS) -> None:
    """Start a daemon thread that ends this process once ``parent`` is no longer its parent.

    A parent killed by a signal runs no cleanup, and a kernel stuck after memory corruption
    may never read the end of its input, so the worker checks its parent itself.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(period)
        os._exit(_ORPHANED_EXIT_STATUS)

    threading.Thread(target=watch, name="qdebug-parent-watch", daemon=True).start()


def main() -> int:
    parent = os.environ.get(PARENT_PID_VARIABLE, "")
    if parent.isdigit():
        exit_when_orphaned(int(parent))
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    serve(sys.stdin.buffer, replies)
    replies.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
