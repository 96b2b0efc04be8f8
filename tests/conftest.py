"""Shared fixtures: sample scenarios, the real torch backend, and running the real command."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"
SEED = SAMPLES / "seed_conv2d.json"


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
