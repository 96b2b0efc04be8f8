"""Scenarios on which a kernel may crash run in a worker process, and a crash there is a result.

In place of a crashing kernel, some tests use a real worker process whose ``run`` raises
SIGSEGV. A ``sitecustomize`` module on its PYTHONPATH replaces the run method before the
first request arrives.
"""

from __future__ import annotations

import json
import textwrap

import numpy as np

from conftest import run_qdebug
from pilot_helpers import wait_for_evaluation, wait_until
from qdebug_tui.app import QDebugApp
from qdebug_tui.backends import load_torch_backend
from qdebug_tui.backends.guarded import GuardedBackend
from qdebug_tui.backends.torch_ao import TorchAOBackend
from qdebug_tui.backends.worker import CRASH_MESSAGE, WorkerBackend
from qdebug_tui.emulators.known_bugs import crash_risk
from qdebug_tui.io.scenario_file import load_scenario
from scenario_factory import write_scenario

SEGFAULT_ON_RUN = textwrap.dedent(
    """
    import os
    import signal

    from qdebug_tui.backends.torch_ao import TorchAOBackend

    def crash(self, scenario):
        os.kill(os.getpid(), signal.SIGSEGV)

    TorchAOBackend.run = crash
    """
)


def groupwise_conv(folder, groups: int):
    """A 3×3 conv with 4 channels per group and padding 1: FBGEMM's groupwise path."""
    rng = np.random.default_rng(groups)
    channels = 4 * groups
    x = rng.integers(0, 256, size=(1, channels, 6, 6)).astype(np.uint8)
    w = rng.integers(-128, 128, size=(channels, 4, 3, 3)).astype(np.int8)
    document = {
        "format": "qdebug-scenario",
        "version": 1,
        "name": f"groupwise conv, {groups} groups",
        "layer": {"kind": "conv2d", "padding": 1, "groups": groups},
        "input": {"dtype": "quint8", "scale": 0.02, "zero_point": 128, "q": {"file": "x.npy"}},
        "weight": {"dtype": "qint8", "scale": 0.01, "zero_point": 0, "q": {"file": "w.npy"}},
        "bias": None,
        "output": {"dtype": "quint8", "scale": 0.5, "zero_point": 128},
        "engine": "fbgemm",
    }
    return write_scenario(folder, f"groupwise_{groups}", document, {"x.npy": x, "w.npy": w})


def crashing_worker(folder) -> WorkerBackend:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(SEGFAULT_ON_RUN, encoding="utf-8")
    return WorkerBackend({"PYTHONPATH": str(folder)})


def test_groupwise_with_odd_groups_is_a_crash_risk(tmp_path):
    # 4 channels per group: FBGEMM handles 4 groups at once with AVX-512 and 2 with AVX2.
    assert "groupwise" in crash_risk(load_scenario(groupwise_conv(tmp_path / "odd", 5)))
    assert crash_risk(load_scenario(groupwise_conv(tmp_path / "even", 8))) is None


def test_risky_scenario_runs_in_the_worker(tmp_path):
    scenario = load_scenario(groupwise_conv(tmp_path, 5))
    backend = load_torch_backend()
    try:
        run = backend.run(scenario)
        assert backend.isolated_runs == 1
        # On this machine the kernel aborts with "double free or corruption"; this process lives on.
        assert (run.ok and run.q.shape == (1, 20, 6, 6)) or run.error.startswith(CRASH_MESSAGE)
        assert backend.run(load_scenario(groupwise_conv(tmp_path / "safe", 8))).ok
        assert backend.isolated_runs == 1
    finally:
        backend.close()


def test_kernel_crash_in_worker_is_an_error_result(tmp_path):
    scenario = load_scenario(groupwise_conv(tmp_path, 5))
    backend = GuardedBackend(TorchAOBackend(), lambda _: "test risk", lambda: crashing_worker(tmp_path / "site"))
    try:
        run = backend.run(scenario)
    finally:
        backend.close()
    assert not run.ok
    assert run.error.startswith(CRASH_MESSAGE)


async def test_tui_survives_a_kernel_crash(tmp_path):
    path = groupwise_conv(tmp_path, 5)
    backend = GuardedBackend(TorchAOBackend(), crash_risk, lambda: crashing_worker(tmp_path / "site"))
    app = QDebugApp(path, backend_loader=lambda: backend)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for_evaluation(pilot)
            screen = app.screen
            await wait_until(pilot, lambda: screen.results.kernel_error is not None, "the crash result")
            assert screen.results.kernel_error.startswith(CRASH_MESSAGE)
            assert "quantized path failed" in str(app.query_one("#summary").content)
            assert app.is_running
    finally:
        backend.close()


def test_report_survives_a_risky_layer(tmp_path, capsys):
    from qdebug_tui.cli import main

    path = groupwise_conv(tmp_path, 5)
    status = main(["report", str(path)])
    assert status in (0, 1)
    assert "groupwise" in capsys.readouterr().out


def test_report_of_kernel_crash_fails(tmp_path):
    scenario = groupwise_conv(tmp_path / "odd", 5)
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SEGFAULT_ON_RUN, encoding="utf-8")
    result = run_qdebug("report", str(scenario), "--fail-on-mismatch", env_extra={"PYTHONPATH": str(site)})
    text = " ".join(result.stdout.split())
    assert result.returncode == 1, result.stderr
    assert "quantized path failed: the real kernel crashed the worker process that ran it twice (exit status -11" in text
    assert "known kernel bug: FBGEMM's groupwise kernel handles" in text
    assert "not compared: the quantized path failed" in text
    assert "mismatched 0" not in text
    assert "Traceback" not in result.stderr


def test_report_json_of_kernel_crash(tmp_path):
    scenario = groupwise_conv(tmp_path / "odd", 5)
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SEGFAULT_ON_RUN, encoding="utf-8")
    result = run_qdebug("report", str(scenario), "--json", env_extra={"PYTHONPATH": str(site)})
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["quantized_path"]["error"].startswith(CRASH_MESSAGE)
    assert "known kernel bug" in document["quantized_path"]["failure"]
    assert document["summary"]["compared"] is False
    assert document["summary"]["mismatched"] is None
