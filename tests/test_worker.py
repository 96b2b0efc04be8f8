"""The what-if worker: runs real kernels under its own environment, restarts, stops cleanly."""

from __future__ import annotations

import dataclasses
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from qdebug_tui.backends.wire import WireError, read_message, scenario_from_header, scenario_header, stream_reader, write_message
from qdebug_tui.backends.worker import WorkerBackend, WorkerError
from qdebug_tui.core.scenario import OutputQuant
from qdebug_tui.io.scenario_file import load_scenario

SEED = Path(__file__).resolve().parents[1] / "sample_data" / "seed_conv2d.json"


def process_state(pid: int) -> str | None:
    """Return the state letter of ``pid`` from /proc ('Z' for a zombie), or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    return text.rsplit(")", 1)[1].split()[0]


def test_worker_runs_under_avx2_variables():
    with WorkerBackend() as worker:
        info = worker.info()
        result = worker.run(load_scenario(SEED).with_engine("fbgemm"))
    assert info["environment"] == {"FBGEMM_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
    assert result.error is None
    assert int(result.q[0, 0, 0, 0]) == 7


def test_worker_imports_only_torch_backend():
    with WorkerBackend() as worker:
        modules = worker.info()["modules"]
    assert "qdebug_tui.backends.torch_ao" in modules
    assert not [name for name in modules if name.startswith(("qdebug_tui.emulators", "qdebug_tui.trace", "textual", "rich"))]


def test_worker_restarts_after_kill():
    scenario = load_scenario(SEED).with_engine("fbgemm")
    with WorkerBackend() as worker:
        worker.start()
        first = worker.pid
        os.kill(first, signal.SIGKILL)
        result = worker.run(scenario)
        assert worker.restarts == 1
        assert worker.pid != first
    assert int(result.q[0, 0, 0, 0]) == 7
    assert process_state(first) is None


def test_worker_close_leaves_no_zombie():
    worker = WorkerBackend()
    worker.start()
    pid = worker.pid
    worker.close()
    assert worker.pid is None
    assert process_state(pid) is None


def test_worker_stops_when_collected():
    worker = WorkerBackend()
    worker.start()
    pid = worker.pid
    del worker
    assert process_state(pid) is None


def test_worker_timeout_stops_child():
    worker = WorkerBackend(timeout=0.0)
    worker.start()
    pid = worker.pid
    with pytest.raises(WorkerError, match="timed out"):
        worker.run(load_scenario(SEED))
    assert process_state(pid) is None
    worker.close()


def test_worker_reports_kernel_refusal():
    with WorkerBackend() as worker:
        result = worker.run(load_scenario(SEED).with_engine("onednn"))
    assert result.q is None
    assert "symmetric quantization of weight" in result.error


def test_worker_quantize_matches_zero_point_first():
    scenario = load_scenario(SEED)
    with WorkerBackend() as worker:
        q = worker.quantize_output(np.array([0.5, 1.5, 2.5, 3.5], dtype=np.float32), OutputQuant(scenario.output.dtype, 1.0, 3))
    assert q.tolist() == [4, 4, 6, 6]


def test_wire_round_trips_scenario():
    scenario = load_scenario(SEED)
    header, arrays = scenario_header(scenario)
    stream = io.BytesIO()
    write_message(stream, {"op": "run", "scenario": header}, arrays)
    stream.seek(0)
    received, received_arrays = read_message(stream_reader(stream))
    decoded = scenario_from_header(received["scenario"], received_arrays)
    assert decoded.layer == scenario.layer
    assert np.array_equal(decoded.input.q, scenario.input.q)
    assert decoded.input.q.dtype == np.uint8
    assert np.array_equal(decoded.weight.q, scenario.weight.q)
    assert decoded.weight.qparams == scenario.weight.qparams
    assert decoded.output == scenario.output


def test_wire_rejects_object_arrays():
    with pytest.raises(ValueError):
        write_message(io.BytesIO(), {"op": "run"}, {"bad": np.array([{"a": 1}], dtype=object)})


def test_wire_rejects_truncated_stream():
    stream = io.BytesIO()
    write_message(stream, {"op": "info"}, {"x": np.arange(10)})
    data = stream.getvalue()[:-5]
    with pytest.raises(EOFError):
        read_message(stream_reader(io.BytesIO(data)))


def test_wire_rejects_malformed_header():
    data = (4).to_bytes(4, "big") + b"{{{{"
    with pytest.raises(WireError, match="malformed message header"):
        read_message(stream_reader(io.BytesIO(data)))


def test_worker_exits_when_parent_is_killed(tmp_path):
    code = (
        "import time\n"
        "from qdebug_tui.backends.worker import WorkerBackend\n"
        "worker = WorkerBackend()\n"
        "worker.start()\n"
        "print(worker.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while process_state(child) not in (None, "Z") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert process_state(child) in (None, "Z")


def test_worker_restarts_after_failed_large_write():
    # 256 KiB of input cannot fit in the pipe buffer, so the write to the killed child fails midway.
    rng = np.random.default_rng(0)
    scenario = load_scenario(SEED).with_engine("fbgemm")
    large = dataclasses.replace(scenario.input, q=rng.integers(0, 256, (1, 1, 512, 512)).astype(np.uint8))
    scenario = dataclasses.replace(scenario, input=large)
    with WorkerBackend() as worker:
        worker.start()
        first = worker.pid
        os.kill(first, signal.SIGKILL)
        result = worker.run(scenario)
        assert worker.restarts == 1
    assert result.error is None
    assert result.q.shape == (1, 1, 508, 508)
    assert process_state(first) is None
