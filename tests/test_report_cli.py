"""``qdebug report`` as a user runs it: tables, JSON, slices, exit codes."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios

from conftest import AVX2, ROOT, SAMPLES, run_qdebug, write_scenario

SEED = SAMPLES / "seed_conv2d.json"


def test_text_report_shows_the_case():
    result = run_qdebug("report", str(SEED), "--engine", "fbgemm", env_extra=AVX2)
    assert result.returncode == 0
    text = result.stdout
    assert "Forum case" in text
    assert "input [1, 1, 5, 5] quint8" in text
    assert "weight [1, 1, 5, 5] qint8" in text
    assert "-128" in text
    assert "-125" in text
    assert "7*" in text  # the differing cell is marked without colour
    assert "mismatched 1 / 1 cells" in text
    assert "FBGEMM_ENABLE_INSTRUCTIONS=AVX2" in text


def test_json_has_every_documented_key():
    result = run_qdebug("report", str(SEED), "--json")
    document = json.loads(result.stdout)
    for key in ("engine", "torch", "cpu", "output_shape", "float_path", "quantized_path", "reference", "mismatches", "summary"):
        assert key in document
    assert document["cpu"]["isa"]
    assert set(document["summary"]) >= {"cells", "mismatched", "max_abs_diff", "sqnr_db"}
    assert document["output_shape"] == [1, 1, 1, 1]
    assert document["float_path"]["real"][0][0][0][0] < 0


def test_json_reports_kernel_error():
    document = json.loads(run_qdebug("report", str(SEED), "--json", "--engine", "onednn").stdout)
    assert "symmetric" in document["quantized_path"]["error"]
    assert document["summary"]["sqnr_db"] is None


def test_fail_on_mismatch_exit_status():
    assert run_qdebug("report", str(SEED), "--fail-on-mismatch").returncode == 0
    assert run_qdebug("report", str(SEED), "--fail-on-mismatch", env_extra=AVX2).returncode == 1


def test_slice_picks_output_channel():
    result = run_qdebug("report", str(SAMPLES / "per_channel_conv2d.json"), "--slice", "0,2,1")
    assert result.returncode == 0
    assert "weight oc=2 of 4 ic=1 of 3" in result.stdout
    assert "input n=0 c=1 of 3" in result.stdout
    assert "output n=0 c=2 of 4" in result.stdout
    assert "(channel 2)" in result.stdout


def test_slice_out_of_range_is_invalid_input():
    result = run_qdebug("report", str(SAMPLES / "per_channel_conv2d.json"), "--slice", "0,9")
    assert result.returncode == 2
    assert "out_channel 9 is out of range; expected 0 to 3" in result.stderr
    assert "Traceback" not in result.stderr


def test_slice_not_numbers():
    result = run_qdebug("report", str(SEED), "--slice", "a,b")
    assert result.returncode == 2
    assert "--slice 'a,b' is invalid" in result.stderr


def test_csv_scenario_reports():
    result = run_qdebug("report", str(SAMPLES / "forum_csv_32x32.json"), "--json")
    document = json.loads(result.stdout)
    assert document["output_shape"] == [1, 1, 28, 28]


def test_unknown_engine_option_rejected():
    result = run_qdebug("report", str(SEED), "--engine", "cuda")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_report_notes_clipped_values(seed_document, tmp_path):
    seed_document["input"] = {"dtype": "quint8", "scale": 0.01, "zero_point": 0, "real": [[[[-1.0, 0.5, 3.0, 2.0, 0.1]] * 5]]}
    path = write_scenario(tmp_path, seed_document)
    result = run_qdebug("report", str(path))
    assert result.returncode == 0, result.stderr
    note = (
        "10 of 25 input values fell outside 0..255 after quantization and were clipped; "
        "input.scale 0.0118 or larger keeps the positive ones; negative values need input.zero_point above 0"
    )
    assert note in " ".join(result.stdout.split())
    document = json.loads(run_qdebug("report", str(path), "--json").stdout)
    assert note in document["notes"]


def test_report_integers_no_clip_note():
    document = json.loads(run_qdebug("report", str(SEED), "--json").stdout)
    assert not any("clipped" in note for note in document["notes"])


def test_rejected_layer_is_not_a_pass():
    result = run_qdebug("report", str(SEED), "--engine", "onednn", "--fail-on-mismatch")
    text = " ".join(result.stdout.split())
    assert result.returncode == 1
    assert "ONEDNN only supports symmetric quantization of weight" in text
    assert "Fix: set weight.zero_point to 0, or run engine x86, fbgemm or qnnpack (--engine)." in text
    assert "not compared: the quantized path failed" in text
    assert "mismatched 0" not in text


def test_rejected_layer_exits_0_by_default():
    result = run_qdebug("report", str(SEED), "--engine", "onednn")
    assert result.returncode == 0


def test_json_of_rejected_layer():
    document = json.loads(run_qdebug("report", str(SEED), "--json", "--engine", "onednn").stdout)
    assert document["summary"]["compared"] is False
    assert document["summary"]["mismatched"] is None
    assert document["summary"]["max_abs_diff"] is None
    assert "set weight.zero_point to 0" in document["quantized_path"]["failure"]


def run_report(*args: str, columns: int = 80) -> str:
    """Run ``qdebug report`` with its output in a pipe, as ``qdebug report ... | less`` does."""
    env = dict(os.environ, COLUMNS=str(columns))
    for name in ("FBGEMM_ENABLE_INSTRUCTIONS", "ONEDNN_MAX_CPU_ISA"):
        env.pop(name, None)
    result = subprocess.run([sys.executable, "-m", "qdebug_tui", "report", *args], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def run_report_in_terminal(*args: str, columns: int) -> str:
    """Run ``qdebug report`` on a pseudo-terminal ``columns`` wide and return what it printed."""
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES", "FBGEMM_ENABLE_INSTRUCTIONS")}
    env.update(NO_COLOR="1", TERM="xterm")
    command = [sys.executable, "-m", "qdebug_tui", "report", *args]
    process = subprocess.Popen(command, stdin=secondary, stdout=secondary, stderr=secondary, env=env, cwd=ROOT)
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(primary, 65536)
        except OSError:  # EIO once the process has closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(primary)
    assert process.wait(timeout=300) == 0
    text = b"".join(chunks).decode("utf-8")
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).replace("\r", "")


def test_piped_report_keeps_every_number():
    text = run_report(str(SAMPLES / "forum_csv_32x32.json"))
    assert "…" not in text
    assert " 0  120  141  164  199  213  200  233  214  211  218  198  222  201  194  166  142" in text
    assert "rows 0–23 of 32, columns 0–15 of 32" in text


def test_piped_mismatch_table_is_complete():
    text = run_report(str(SAMPLES / "per_channel_conv2d.json"))
    assert "…" not in text
    assert "index    float q  quant q  Δ LSB  exact q  float value  cause" in text
    assert "0,2,3,0      136      135     -1      135        1.775  requantization-rounding" in text


def test_terminal_80_columns_cuts_no_number():
    text = run_report_in_terminal(str(SAMPLES / "forum_csv_32x32.json"), columns=80)
    assert "…" not in text
    assert all(len(line) <= 80 for line in text.splitlines())
    assert " 0  120  141  164  199  213  200  233  214  211  218  198  222  201  194  166\n" in text
    assert "columns 0–14 of 32; a wider terminal shows more columns" in text


def test_terminal_80_columns_mismatch_table():
    text = run_report_in_terminal(str(SEED), "--isa", "avx2", columns=80)
    assert "…" not in text
    assert "0,0,0,0        0        7     +7        0    -0.515155  int16-saturation" in text
    assert "1 cell with clipped pairs" in " ".join(text.split())
    assert "* after a value: the float path and the quantized path differ in that cell" in text


def test_narrow_terminal_lists_mismatches_as_lines():
    text = run_report_in_terminal(str(SAMPLES / "per_channel_conv2d.json"), columns=50)
    assert "…" not in text
    assert all(len(line) <= 50 for line in text.splitlines())
    joined = " ".join(text.split())
    assert "0,2,3,0: float q 136, quant q 135, Δ LSB -1, exact q 135, float value 1.775, cause requantization-rounding" in joined
