"""``qdebug new``: build a scenario file from tensor files and command-line flags."""

from __future__ import annotations

import argparse
import json
import os
import shlex
from pathlib import Path

from qdebug_tui.commands.common import (
    EXIT_OK,
    InvalidInput,
    clipping_notes,
    parse_int_list,
    print_error,
    print_warning,
    run_guarded,
)
from qdebug_tui.core.layers import LAYER_KINDS
from qdebug_tui.core.scenario import ENGINES
from qdebug_tui.io.errors import Problem, ScenarioError
from qdebug_tui.io.scenario_file import FORMAT_NAME, FORMAT_VERSION, REAL_VALUES_HINT, parse_scenario
from qdebug_tui.io.scenario_writer import atomic_write_bytes, compact_inner_lists
from qdebug_tui.io.tensor_files import TensorFileError, read_csv

# The command-line option that sets each scenario field, so that error messages name the flag.
_FIELD_OPTIONS = {
    "layer.stride": "--stride",
    "layer.padding": "--padding",
    "layer.dilation": "--dilation",
    "layer.groups": "--groups",
    "input.scale": "--input-scale",
    "input.zero_point": "--input-zero-point",
    "input": "--input / --input-shape",
    "weight.scale": "--weight-scale",
    "weight.zero_point": "--weight-zero-point",
    "weight": "--weight / --weight-shape",
    "bias": "--bias",
    "output.scale": "--output-scale",
    "output.zero_point": "--output-zero-point",
}


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "new",
        help="create a scenario file from CSV or .npy tensor files",
        description="Create a scenario file that refers to tensor files (CSV or .npy), validate it like any "
        "scenario, and print the command that opens it. Scales and zero points of the weight may be "
        "comma-separated lists, one per output channel.",
    )
    parser.add_argument("out", metavar="OUT.json", help="scenario file to create")
    parser.add_argument("--layer", choices=tuple(LAYER_KINDS), default="conv2d", help="layer kind (default conv2d)")
    parser.add_argument("--name", help="scenario name (default: the file name)")
    for tensor in ("input", "weight"):
        parser.add_argument(f"--{tensor}", required=True, metavar="FILE", help=f"{tensor} tensor: a .csv or .npy file")
        parser.add_argument(
            f"--{tensor}-shape",
            metavar="D0,D1,...",
            help=f"reshape the {tensor} to this shape (default: the .npy shape, or a CSV table as "
            "[1, 1, rows, columns] for conv2d, [rows, columns] for linear)",
        )
        parser.add_argument(f"--{tensor}-scale", required=True, metavar="S", help=f"{tensor} scale (> 0)")
        parser.add_argument(f"--{tensor}-zero-point", default="0", metavar="Z", help=f"{tensor} zero point (default 0)")
        parser.add_argument(
            f"--{tensor}-real",
            action="store_true",
            help=f"the {tensor} file contains real values to quantize, not the integer representation",
        )
    parser.add_argument("--bias", metavar="FILE", help="float bias, one value per output channel (.csv or .npy)")
    parser.add_argument("--output-scale", required=True, metavar="S", help="output scale (> 0)")
    parser.add_argument("--output-zero-point", default="0", metavar="Z", help="output zero point (default 0)")
    parser.add_argument("--output-dtype", choices=("quint8", "qint8"), default="quint8", help="output dtype (default quint8)")
    parser.add_argument("--stride", default="1", metavar="S[,S]", help="conv stride (default 1)")
    parser.add_argument("--padding", default="0", metavar="P[,P]", help="conv zero padding (default 0)")
    parser.add_argument("--dilation", default="1", metavar="D[,D]", help="conv dilation (default 1)")
    parser.add_argument("--groups", default="1", metavar="G", help="conv groups (default 1)")
    parser.add_argument("--relu", action="store_true", help="fuse a ReLU after the layer")
    parser.add_argument("--engine", choices=ENGINES, default="x86", help="quantized engine (default x86)")
    parser.add_argument("--force", action="store_true", help="overwrite OUT.json if it exists")


def run(args: argparse.Namespace) -> int:
    return run_guarded(_new, args)


def _new(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.suffix.lower() != ".json":
        raise InvalidInput(f"OUT.json {args.out!r} is invalid; the scenario file name must end in .json")
    if out.is_dir():
        raise InvalidInput(f"OUT.json {args.out!r} is a folder; give a file name ending in .json")
    if out.exists() and not args.force:
        raise InvalidInput(f"{out} already exists; pass --force to overwrite it")
    if not out.parent.is_dir():
        raise InvalidInput(f"the folder {out.parent} does not exist; create it first")

    document = _document(args, out)
    text = compact_inner_lists(json.dumps(document, indent=2)) + "\n"
    try:
        scenario = parse_scenario(text, source=str(out), base_dir=out.parent)
    except ScenarioError as error:
        raise ScenarioError(str(out), [_with_option(problem) for problem in error.problems]) from None
    try:
        atomic_write_bytes(out, text.encode("utf-8"))
    except OSError as error:
        print_error(f"cannot write {out}: {error.strerror or error}")
        return 2
    for note in clipping_notes(scenario, "--{tensor}-{param}"):
        print_warning(note)
    print(f"Created {out}. Open it with:\n  qdebug {_shell_quote(str(out))}")
    return EXIT_OK


def _document(args: argparse.Namespace, out: Path) -> dict:
    layer: dict = {"kind": args.layer}
    if LAYER_KINDS[args.layer]:
        layer.update(
            stride=_int_or_list(args.stride, "--stride"),
            padding=_int_or_list(args.padding, "--padding"),
            dilation=_int_or_list(args.dilation, "--dilation"),
            groups=_number(args.groups, "--groups"),
        )
    layer["relu"] = args.relu
    document = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "name": args.name or out.stem,
        "layer": layer,
        "input": _tensor(args, "input", "quint8", out),
        "weight": _tensor(args, "weight", "qint8", out),
        "bias": None if args.bias is None else _file_reference(Path(args.bias), None, out, "--bias", bias=True),
        "output": {
            "dtype": args.output_dtype,
            "scale": _number(args.output_scale, "--output-scale"),
            "zero_point": _number(args.output_zero_point, "--output-zero-point"),
        },
        "engine": args.engine,
    }
    return document


def _tensor(args: argparse.Namespace, name: str, dtype: str, out: Path) -> dict:
    option = name.replace("_", "-")
    shape_text = getattr(args, f"{name}_shape")
    shape = list(parse_int_list(shape_text, f"--{option}-shape")) if shape_text else None
    reference = _file_reference(Path(getattr(args, name)), shape, out, f"--{option}", conv=LAYER_KINDS[args.layer] > 0)
    tensor: dict = {
        "dtype": dtype,
        "scale": _number_or_list(getattr(args, f"{name}_scale"), f"--{option}-scale"),
        "zero_point": _number_or_list(getattr(args, f"{name}_zero_point"), f"--{option}-zero-point"),
    }
    tensor["real" if getattr(args, f"{name}_real") else "q"] = reference
    return tensor


def _file_reference(path: Path, shape: list[int] | None, out: Path, option: str, *, conv: bool = False, bias: bool = False) -> dict:
    if not path.is_file():
        raise InvalidInput(f"{option} {str(path)!r}: the file does not exist or is not a file")
    if path.suffix.lower() not in (".csv", ".npy"):
        raise InvalidInput(f"{option} {str(path)!r} is invalid; expected a .csv or .npy file")
    reference: dict = {"file": os.path.relpath(path.resolve(), out.parent.resolve())}
    if shape is None and path.suffix.lower() == ".csv":
        try:
            table = read_csv(path)
        except TensorFileError as error:
            raise InvalidInput(f"{option}: {error}") from None
        rows, columns = table.shape
        if bias:
            shape = [rows * columns]
        else:
            shape = [1, 1, rows, columns] if conv else [rows, columns]
    if shape is not None:
        reference["shape"] = shape
    return reference


def _number(text: str, option: str):
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise InvalidInput(f"{option} {text!r} is invalid; expected a number") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput(f"{option} {text!r} is invalid; expected a number")
    return value


def _number_or_list(text: str, option: str):
    parts = text.split(",")
    values = [_number(part.strip(), option) for part in parts]
    return values if len(values) > 1 else values[0]


def _int_or_list(text: str, option: str):
    values = list(parse_int_list(text, option))
    return values if len(values) > 1 else values[0]


def _with_option(problem: Problem) -> Problem:
    for field, option in _FIELD_OPTIONS.items():
        if problem.path == field or problem.path.startswith(field + ".") or problem.path.startswith(field + "["):
            expected = problem.expected
            if field in ("input", "weight"):
                expected = expected.replace(REAL_VALUES_HINT, f"(add --{field}-real if the file contains real values)")
            return Problem(f"{problem.path} ({option})", problem.value, expected, problem.statement)
    return problem


def _shell_quote(text: str) -> str:
    return shlex.quote(text)
