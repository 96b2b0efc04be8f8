"""Keeping stderr off the screen while the app runs.

torch and its C++ libraries write warnings straight to file descriptor 2, which would draw
over the screen. While the app runs, fd 2 points at a log file, Python warnings and logging
go to the same file, and Textual draws on a duplicate of the terminal's descriptor.
"""

from __future__ import annotations

import contextlib
import getpass
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from textual.driver import Driver

LOG_NAME = "qdebug.log"


def log_path() -> Path:
    """Return ``$XDG_STATE_HOME/qdebug/qdebug.log``, by default under ``~/.local/state``."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "qdebug" / LOG_NAME


def open_log() -> tuple[TextIO, Path]:
    """Open the log for appending; fall back to the temporary folder when the state folder is not writable."""
    for path in (log_path(), Path(tempfile.gettempdir()) / f"qdebug-{getpass.getuser()}" / LOG_NAME):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            return path.open("a", encoding="utf-8", buffering=1), path
        except OSError:
            continue
    raise OSError(f"no writable folder for {LOG_NAME}: tried {log_path().parent} and the temporary folder")


def terminal_driver(terminal: TextIO) -> type[Driver]:
    """Return Textual's Linux driver drawing on ``terminal`` instead of ``sys.__stderr__``."""
    from textual.drivers.linux_driver import LinuxDriver

    class TerminalDriver(LinuxDriver):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self._file = terminal

    return TerminalDriver


@contextlib.contextmanager
def stderr_to_log(log: TextIO) -> Iterator[type[Driver] | None]:
    """Point fd 2, warnings and logging at ``log``; yield a driver class that draws on the terminal.

    The driver class is None on platforms without the Linux driver (Windows). There fd 2
    stays on the terminal, and only :mod:`logging` and :mod:`warnings` go to the log.
    Everything is restored on exit; the caller closes ``log``.
    """
    handler = logging.StreamHandler(log)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    saved_filters = warnings.filters[:]
    warnings.simplefilter("default")
    use_fd = os.name == "posix" and sys.__stderr__ is not None
    saved_fd = os.dup(2) if use_fd else None
    try:
        if saved_fd is None:
            yield None
            return
        sys.stderr.flush()
        os.dup2(log.fileno(), 2)
        terminal = os.fdopen(os.dup(saved_fd), "w", encoding="utf-8", errors="replace")
        try:
            yield terminal_driver(terminal)
        finally:
            terminal.flush()
            terminal.close()
    finally:
        if saved_fd is not None:
            sys.stderr.flush()
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
        logging.captureWarnings(False)
        warnings.filters[:] = saved_filters
        root.removeHandler(handler)
