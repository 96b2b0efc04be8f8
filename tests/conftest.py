"""Shared fixtures: sample scenarios, the real torch backend, running the real command, TUI test scenarios."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from qdebug_tui.backends.cpu import CpuInfo, Dispatch, KernelIsa  # noqa: E402
from qdebug_tui.backends.worker import CLEARED_ISA_ENVIRONMENT, WorkerBackend  # noqa: E402
from qdebug_tui.emulators.targets import AVX2_ENVIRONMENT  # noqa: E402
from qdebug_tui.evaluation import RunFacts  # noqa: E402
from scenario_factory import large_conv, linear_with_real_values, multi_channel_conv  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"
SEED = SAMPLES / "seed_conv2d.json"
ISSUE_50720 = SAMPLES / "pytorch_issue_50720.json"
ISSUE_76390 = SAMPLES / "pytorch_issue_76390_linear.json"

# What the TUI's summary shows in screenshots instead of this machine's CPU and torch build.
FIXED_FACTS = RunFacts(
    torch="2.13.0+cpu",
    engine="fbgemm",
    dispatch=Dispatch("fbgemm", "x86 picks FBGEMM: the CPU has no AVX512-VNNI"),
    cpu=CpuInfo("x86_64", "test CPU", frozenset({"avx2"}), "linux"),
    kernel_isa=KernelIsa(True, "avx2", "the CPU has avx2, no AVX512-VNNI"),
)


@pytest.fixture(scope="session")
def backend():
    """The real torch.ao backend, loaded once per test session."""
    from qdebug_tui.backends import load_torch_backend

    return load_torch_backend()


@pytest.fixture
def seed_document() -> dict:
    """A fresh copy of the forum scenario's JSON document."""
    return copy.deepcopy(json.loads(SEED.read_text()))


def write_scenario(folder: Path, document: dict, name: str = "scenario.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(document))
    return path


def run_qdebug(*args: str, env_extra: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the qdebug command in a fresh Python process, as a user's shell would."""
    env = dict(os.environ)
    env.pop("FBGEMM_ENABLE_INSTRUCTIONS", None)
    env.pop("ONEDNN_MAX_CPU_ISA", None)
    env.update(env_extra or {})
    env["COLUMNS"] = "160"
    return subprocess.run(
        [sys.executable, "-m", "qdebug_tui", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or ROOT,
        timeout=300,
    )


AVX2 = {"FBGEMM_ENABLE_INSTRUCTIONS": "AVX2"}


@pytest.fixture
def multi_channel_path(tmp_path: Path) -> Path:
    return multi_channel_conv(tmp_path / "multi")


@pytest.fixture
def large_path(tmp_path: Path) -> Path:
    return large_conv(tmp_path / "large")


@pytest.fixture
def linear_real_path(tmp_path: Path) -> Path:
    return linear_with_real_values(tmp_path / "linear")


# The environment each instruction-set form's worker runs under; the emulators model the same process.
FORM_ENVIRONMENTS = {"native": CLEARED_ISA_ENVIRONMENT, "avx2": AVX2_ENVIRONMENT}


@pytest.fixture(scope="session")
def workers():
    """Return {form: WorkerBackend}; each worker starts on first use and stops at the end."""
    started = {form: WorkerBackend(environment) for form, environment in FORM_ENVIRONMENTS.items()}
    yield started
    for worker in started.values():
        worker.close()


def emulation_environment(form: str) -> dict[str, str]:
    """Return the environment to pass to ``emulate`` so that it models ``form``'s worker."""
    return {name: value for name, value in FORM_ENVIRONMENTS[form].items() if value}
