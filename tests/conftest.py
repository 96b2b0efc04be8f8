"""Shared fixtures: one worker process per instruction-set form, for the whole session."""

from __future__ import annotations

import pytest

from qdebug_tui.backends.worker import CLEARED_ISA_ENVIRONMENT, WorkerBackend
from qdebug_tui.emulators.targets import AVX2_ENVIRONMENT

# The environment each form's worker runs under; the emulators model the same process.
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
