"""``qdebug [SCENARIO]``: open the full-screen debugger on a scenario file."""

from __future__ import annotations

import argparse
import importlib.resources
import logging
import sys
from pathlib import Path

from qdebug_tui.io.errors import ScenarioError

BUNDLED_SCENARIO = "seed_conv2d.json"
EXIT_INVALID = 2
EXIT_NO_LOG = 1

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qdebug",
        description="Open the full-screen debugger: input, weight and output grids with live quantization parameters.",
    )
    parser.add_argument(
        "scenario",
        nargs="?",
        metavar="SCENARIO",
        help=f"scenario .json file; without it, the bundled forum case ({BUNDLED_SCENARIO}) opens",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the app; return 2 with the problems on stderr when the scenario is invalid."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    with importlib.resources.as_file(_scenario_resource(args.scenario)) as path:
        return _run(path, bundled=args.scenario is None)


def _scenario_resource(argument: str | None):
    if argument is not None:
        return Path(argument)
    return importlib.resources.files("qdebug_tui.sample_data") / BUNDLED_SCENARIO


def _run(path: Path, *, bundled: bool) -> int:
    # Textual and the app load only here, so that `qdebug report` and friends never import them.
    from qdebug_tui.app import QDebugApp
    from qdebug_tui.terminal import open_log, stderr_to_log

    try:
        app = QDebugApp(path, bundled=bundled)
    except ScenarioError as error:
        print(error.message(), file=sys.stderr)
        return EXIT_INVALID
    try:
        log, log_file = open_log()
    except OSError as error:
        print(f"qdebug: {error}; set XDG_STATE_HOME to a writable folder", file=sys.stderr)
        return EXIT_NO_LOG
    with log, stderr_to_log(log) as driver:
        logger.info("qdebug started on %s; log at %s", path, log_file)
        if driver is not None:
            app.driver_class = driver
        app.run()
        logger.info("qdebug stopped")
    return app.return_code or 0
