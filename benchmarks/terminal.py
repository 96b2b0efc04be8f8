"""The installed ``qdebug`` in a real pseudo-terminal: a private tmux server in control mode.

A control-mode client (``tmux -C``) reports every write to the pane as a ``%output`` line, and
runs ``capture-pane`` without starting a tmux process per poll. A screen condition is checked
on each capture. The time it became true is that of the last ``%output`` before the capture
that satisfied it, so the resolution is the write, not the polling interval.
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

POLL_SECONDS = 0.01
# Upper bound on one wait for the screen; torch's first import on a slow CPU takes seconds.
SCREEN_TIMEOUT_SECONDS = 120
SESSION = "bench"


class TmuxError(RuntimeError):
    """tmux rejected a command or did not answer in time."""


class TmuxTerminal:
    """One command in a private tmux server of ``width`` × ``height``, watched by a control client.

    Each command gets its own server: tmux 3.3a's server has exited unexpectedly here after a
    few ``respawn-pane -k`` of a running qdebug, and a crash then costs one run, not all.
    """

    def __init__(self, width: int, height: int, command: str, environment: dict[str, str]) -> None:
        if shutil.which("tmux") is None:
            raise TmuxError("tmux is not installed; install it to measure the app in a real terminal")
        self.socket = f"qdebug-bench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.size = (width, height)
        self.command_line = command
        self.environment = environment
        self.started = 0.0
        self._responses: queue.Queue[tuple[bool, list[str]]] = queue.Queue()
        self._last_output = 0.0
        self._client: subprocess.Popen | None = None

    def __enter__(self) -> TmuxTerminal:
        """Start the command; ``started`` is the monotonic time just before."""
        variables = [argument for name, value in self.environment.items() for argument in ("-e", f"{name}={value}")]
        size = ["-x", str(self.size[0]), "-y", str(self.size[1])]
        self.started = time.monotonic()
        self._tmux("new-session", "-d", "-s", SESSION, *size, *variables, f"exec {self.command_line}")
        # Keep a pane whose process exited, so that its last screen shows why.
        self._tmux("set-option", "-t", SESSION, "remain-on-exit", "on")
        self._client = subprocess.Popen(
            ["tmux", "-L", self.socket, "-C", "attach", "-t", SESSION],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            # %output lines carry the app's raw bytes and can split a UTF-8 character.
            errors="replace",
            bufsize=1,
        )
        threading.Thread(target=self._read, name="tmux-control", daemon=True).start()
        # Attaching answers with one empty block before any command.
        self._next_response()
        return self

    def __exit__(self, *exc_info) -> None:
        query = subprocess.run(
            ["tmux", "-L", self.socket, "display-message", "-p", "#{socket_path}"], capture_output=True, text=True, timeout=30
        )
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=30)
        if self._client is not None:
            self._client.stdin.close()
            self._client.wait(timeout=30)
        if query.returncode == 0 and query.stdout.strip():
            Path(query.stdout.strip()).unlink(missing_ok=True)

    def pane_pid(self) -> int:
        return int(self.command(f"display-message -p -t {SESSION} '#{{pane_pid}}'")[0])

    def screen(self) -> str:
        return "\n".join(self.command(f"capture-pane -p -t {SESSION}"))

    def wait_for(self, condition: Callable[[str], bool], description: str) -> tuple[float, str]:
        """Poll the screen until ``condition`` holds; return the time of the write that made it true."""
        deadline = time.monotonic() + SCREEN_TIMEOUT_SECONDS
        screen = ""
        while time.monotonic() < deadline:
            written = self._last_output
            screen = self.screen()
            if condition(screen):
                return written, screen
            time.sleep(POLL_SECONDS)
        raise TmuxError(f"timed out waiting for {description}; the screen was:\n{screen}")

    def command(self, line: str) -> list[str]:
        """Run one tmux command through the control client and return its output lines."""
        self._client.stdin.write(line + "\n")
        self._client.stdin.flush()
        ok, lines = self._next_response()
        if not ok:
            raise TmuxError(f"tmux rejected {line!r}: {' '.join(lines)}")
        return lines

    def _next_response(self) -> tuple[bool, list[str]]:
        try:
            return self._responses.get(timeout=30)
        except queue.Empty:
            raise TmuxError("the tmux control client did not answer within 30 s") from None

    def _read(self) -> None:
        block: list[str] | None = None
        for line in self._client.stdout:
            line = line.rstrip("\n")
            if block is not None:
                if line.startswith(("%end ", "%error ")):
                    self._responses.put((line.startswith("%end "), block))
                    block = None
                else:
                    block.append(line)
            elif line.startswith("%begin "):
                block = []
            elif line.startswith("%output "):
                self._last_output = time.monotonic()

    def _tmux(self, *args: str) -> str:
        completed = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=30)
        if completed.returncode != 0:
            raise TmuxError(f"tmux {' '.join(args)} failed: {completed.stderr.strip()}")
        return completed.stdout


def peak_rss_mb(pid: int) -> float:
    """Return the peak resident set size (VmHWM) of a running process in MB (10^6 bytes)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1e6
    raise TmuxError(f"/proc/{pid}/status has no VmHWM line")
