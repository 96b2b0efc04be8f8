"""Helpers shared by the headless subcommands: loading, errors, exit codes."""

from __future__ import annotations

import argparse
import sys

from rich.console import Console
from rich.text import Text

from qdebug_tui.core.scenario import ENGINES, Scenario
from qdebug_tui.io.errors import ScenarioError
from qdebug_tui.io.scenario_file import MAX_ELEMENTS_VARIABLE, load_scenario
from qdebug_tui.numerics.clipping import clipping

EXIT_OK = 0
EXIT_FINDING = 1
EXIT_INVALID = 2


class InvalidInput(Exception):
    """A mistake in the command's input; the message is printed and the exit status is 2."""


def add_scenario_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the SCENARIO argument and the options every headless command shares."""
    parser.add_argument("scenario", help="scenario file (.json)")
    parser.add_argument("--engine", choices=ENGINES, help="run on this engine instead of the scenario's")
    parser.add_argument(
        "--max-elements",
        type=int,
        metavar="N",
        help=f"largest tensor to load, in elements (default 50,000,000, or ${MAX_ELEMENTS_VARIABLE})",
    )


def load_for_command(args: argparse.Namespace) -> Scenario:
    """Load the scenario named on the command line and apply ``--engine``."""
    scenario = load_scenario(args.scenario, max_elements=args.max_elements)
    return scenario.with_engine(args.engine) if args.engine else scenario


def check_engine_available(scenario: Scenario, available: tuple[str, ...]) -> None:
    """Raise :class:`InvalidInput` when this torch build lacks the scenario's engine."""
    if scenario.engine not in available:
        raise InvalidInput(
            f"engine: {scenario.engine!r} is not available in this torch build; it has {', '.join(available)}. "
            "Choose one of those with --engine or in the scenario's \"engine\" field."
        )


def run_guarded(body, args: argparse.Namespace) -> int:
    """Run a command body; turn input mistakes into a message on stderr and exit status 2."""
    try:
        return body(args)
    except ScenarioError as error:
        print_error(error.message())
    except InvalidInput as error:
        print_error(str(error))
    return EXIT_INVALID


def print_error(message: str) -> None:
    """Print ``message`` to stderr after a red "error:", with no markup parsing of the message."""
    Console(stderr=True, highlight=False, soft_wrap=True).print(Text.assemble(("error: ", "bold red"), message))


def parse_int_list(text: str, option: str) -> tuple[int, ...]:
    """Parse ``"0,3,1"`` into integers, or raise :class:`InvalidInput` naming the option."""
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise InvalidInput(f"{option} {text!r} is invalid; expected integers separated by commas, for example 0,3") from None


def clipping_notes(scenario: Scenario, option_form: str = "{tensor}.{param}") -> list[str]:
    """Describe each tensor whose real values were clipped when quantized, with the fix.

    ``option_form`` names a setting for the fix, with ``{tensor}`` (input or weight) and
    ``{param}`` (scale or zero_point): ``"{tensor}.{param}"`` for a scenario file, and
    ``"--{tensor}-{param}"`` for ``qdebug new``, whose flags use dashes.
    """
    notes = []
    for name in ("input", "weight"):
        found = clipping(getattr(scenario, name))
        if found is None or not found.clipped:
            continue
        scale_option = option_form.format(tensor=name, param="scale")
        zero_point_option = option_form.format(tensor=name, param="zero_point")
        if option_form.startswith("--"):
            zero_point_option = zero_point_option.replace("_", "-")
        fixes = []
        if found.sufficient_scale is None and not found.zero_point_too_low:
            fixes.append(f"larger {scale_option} values keep them")
        elif found.sufficient_scale is not None:
            kept_values = "the positive ones" if found.zero_point_too_low else "them"
            fixes.append(f"{scale_option} {found.sufficient_scale:.3g} or larger keeps {kept_values}")
        if found.zero_point_too_low:
            fixes.append(f"negative values need {zero_point_option} above {found.qmin}")
        notes.append(
            f"{found.clipped} of {found.total} {name} values fell outside {found.qmin}..{found.qmax} after "
            f"quantization and were clipped; " + "; ".join(fixes)
        )
    return notes


def print_warning(message: str) -> None:
    """Print ``message`` to stderr after a yellow "warning:", with no markup parsing of the message."""
    Console(stderr=True, highlight=False, soft_wrap=True).print(Text.assemble(("warning: ", "bold yellow"), message))
