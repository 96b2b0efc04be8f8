"""Shared fixtures: sample paths, test scenarios, fixed run facts and waiting for results."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from qdebug_tui.backends.cpu import CpuInfo, Dispatch, KernelIsa  # noqa: E402
from qdebug_tui.evaluation import RunFacts  # noqa: E402
from scenario_factory import large_conv, linear_with_real_values, multi_channel_conv  # noqa: E402

REPOSITORY = Path(__file__).resolve().parent.parent
SAMPLES = REPOSITORY / "sample_data"
SEED = SAMPLES / "seed_conv2d.json"
ISSUE_50720 = SAMPLES / "pytorch_issue_50720.json"
ISSUE_76390 = SAMPLES / "pytorch_issue_76390_linear.json"

# What the summary shows in screenshots instead of this machine's CPU and torch build.
FIXED_FACTS = RunFacts(
    torch="2.13.0+cpu",
    engine="fbgemm",
    dispatch=Dispatch("fbgemm", "x86 picks FBGEMM: the CPU has no AVX512-VNNI"),
    cpu=CpuInfo("x86_64", "test CPU", frozenset({"avx2"}), "linux"),
    kernel_isa=KernelIsa(True, "avx2", "the CPU has avx2, no AVX512-VNNI"),
)


@pytest.fixture
def multi_channel_path(tmp_path: Path) -> Path:
    return multi_channel_conv(tmp_path / "multi")


@pytest.fixture
def large_path(tmp_path: Path) -> Path:
    return large_conv(tmp_path / "large")


@pytest.fixture
def linear_real_path(tmp_path: Path) -> Path:
    return linear_with_real_values(tmp_path / "linear")


@pytest.fixture(scope="session")
def torch_backend():
    from qdebug_tui.backends import load_torch_backend

    return load_torch_backend()
