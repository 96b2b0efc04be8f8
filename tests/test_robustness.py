"""Mutated scenario files never crash the loader or ``qdebug report``: always a message."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import random
import shutil

import pytest

from conftest import SAMPLES
from qdebug_tui.cli import main
from qdebug_tui.io.errors import ScenarioError
from qdebug_tui.io.scenario_file import load_scenario

_REPLACEMENTS = [None, True, 0, -1, 0.5, 1e308, -1e308, 2**70, "", "x", [], [1, 2], {}, {"file": "nope.npy"}, [[[[]]]], [[1], [2, 3]]]


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node[:3]):
            yield from _paths(value, (*prefix, index))


def _mutate(document: dict, rng: random.Random) -> str:
    """Return the JSON text of ``document`` with one random field deleted, replaced or broken."""
    document = copy.deepcopy(document)
    targets = [path for path in _paths(document) if path]
    path = rng.choice(targets)
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    action = rng.random()
    if action < 0.25 and isinstance(parent, dict):
        del parent[path[-1]]
    elif action < 0.35:
        return json.dumps(document)[: rng.randrange(1, len(json.dumps(document)))]
    elif action < 0.4:
        return "".join(chr(rng.randrange(0, 256)) for _ in range(rng.randrange(1, 200)))
    else:
        parent[path[-1]] = rng.choice(_REPLACEMENTS)
    return json.dumps(document)


def _mutants(count: int, seed: int):
    rng = random.Random(seed)
    documents = [json.loads(path.read_text()) for path in sorted(SAMPLES.glob("*.json"))]
    for _ in range(count):
        yield _mutate(rng.choice(documents), rng)


@pytest.fixture
def sample_folder(tmp_path):
    for path in SAMPLES.glob("*.csv"):
        shutil.copy(path, tmp_path)
    return tmp_path


@pytest.mark.filterwarnings("error")
def test_loader_survives_1000_mutants(sample_folder):
    outcomes = {"loaded": 0, "rejected": 0}
    for number, text in enumerate(_mutants(1000, seed=1)):
        path = sample_folder / f"m{number}.json"
        path.write_text(text, encoding="utf-8", errors="surrogateescape")
        try:
            load_scenario(path)
            outcomes["loaded"] += 1
        except ScenarioError as error:
            outcomes["rejected"] += 1
            assert error.problems
            for problem in error.problems:
                assert problem.expected
            assert str(path) in error.message()
    assert outcomes["rejected"] > 500


@pytest.mark.filterwarnings("error")
def test_report_survives_200_mutants(sample_folder, backend):
    for number, text in enumerate(_mutants(200, seed=2)):
        path = sample_folder / f"r{number}.json"
        path.write_text(text, encoding="utf-8", errors="surrogateescape")
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            status = main(["report", str(path), "--json"])
        if status == 0:
            json.loads(stdout.getvalue())
        else:
            assert status == 2
            assert "error:" in stderr.getvalue()
            assert "Traceback" not in stderr.getvalue()


@pytest.mark.parametrize("size", [0, 1, 7, 64])
def test_truncated_sample(sample_folder, size):
    path = sample_folder / "t.json"
    path.write_bytes((SAMPLES / "seed_conv2d.json").read_bytes()[:size])
    with pytest.raises(ScenarioError):
        load_scenario(path)


def test_non_utf8_file(sample_folder):
    path = sample_folder / "b.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert "UTF-8" in caught.value.message()
