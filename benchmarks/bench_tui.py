"""Time what an edit costs: the recompute worker's body, and drawing grid lines.

Run with ``python benchmarks/bench_tui.py``; it prints one line per case with the median
of several runs. It writes a 224×224 scenario into a temporary folder. These numbers
depend on the machine; record the CPU next to them when you keep them.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY / "tests"))

from qdebug_tui.app import QDebugApp  # noqa: E402
from qdebug_tui.backends import load_torch_backend  # noqa: E402
from qdebug_tui.backends.cpu import detect_cpu  # noqa: E402
from qdebug_tui.editing import FIELDS_BY_ID, apply_qparam  # noqa: E402
from qdebug_tui.io.scenario_file import load_scenario  # noqa: E402
from qdebug_tui.recompute import compute_results  # noqa: E402
from scenario_factory import large_conv  # noqa: E402

REPEATS = 7


def median_ms(run, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def bench_recompute(path: Path, backend) -> float:
    scenario = load_scenario(path)
    field = FIELDS_BY_ID["output-zero-point"]
    values = iter(range(10, 10 + REPEATS * 2))
    compute_results(scenario, backend)

    def edit_and_recompute():
        edited = apply_qparam(scenario, field, str(next(values)))
        compute_results(edited, backend)

    return median_ms(edit_and_recompute)


async def bench_lines(path: Path) -> tuple[float, float]:
    """Return the time to draw every visible output line with a cold and with a warm cache."""
    app = QDebugApp(path)
    async with app.run_test(size=(120, 40)) as pilot:
        while app.screen.results is None or app.screen.results.evaluation is None:
            await pilot.pause(0.05)
        grid = app.query_one("#output-grid")
        height = grid.scrollable_content_region.height

        def draw():
            for y in range(height):
                grid.render_line(y)

        def cold():
            grid._line_cache.clear()
            draw()

        return median_ms(cold), median_ms(draw)


def main() -> None:
    backend = load_torch_backend()
    print(f"CPU {detect_cpu().model} ({detect_cpu().isa}), torch {backend.version()}")
    seed = REPOSITORY / "sample_data" / "seed_conv2d.json"
    with tempfile.TemporaryDirectory() as folder:
        large = large_conv(Path(folder))
        print(f"seed 1x1x5x5: edit + recompute {bench_recompute(seed, backend):.1f} ms")
        print(f"1x3x224x224, 64 channels: edit + recompute {bench_recompute(large, backend):.1f} ms")
        cold, warm = asyncio.run(bench_lines(large))
        print(f"222x222 output grid, visible lines at 120x40: cold cache {cold:.2f} ms, warm cache {warm:.2f} ms")


if __name__ == "__main__":
    main()
