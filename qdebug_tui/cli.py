"""The ``qdebug`` command: the TUI by default, and headless subcommands.

``qdebug [SCENARIO]`` opens the TUI. ``qdebug report``, ``qdebug explain`` and ``qdebug new``
run without a screen. Each subcommand lives in :mod:`qdebug_tui.commands` and provides
``add_parser(subparsers)`` and ``run(args) -> int``. Exit status: 0 when it ran, 1 for a
finding the user asked to fail on, 2 for invalid input.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from qdebug_tui import __version__

SUBCOMMANDS = ("report", "explain", "new")



def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qdebug",
        description="Debug quantized conv and linear layers: compare the float path with the real int8 kernels.",
        epilog="Run 'qdebug SCENARIO' for the full-screen debugger, or 'qdebug COMMAND --help'.",
    )
    parser.add_argument("--version", action="version", version=f"qdebug {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        _command_module(name).add_parser(subparsers)
    return parser


def _command_module(name: str):
    return importlib.import_module(f"qdebug_tui.commands.{name}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in SUBCOMMANDS + ("-h", "--help", "--version"):
        from qdebug_tui.commands import tui

        return tui.main(argv)
    args = build_parser().parse_args(argv)
    return _command_module(args.command).run(args)
