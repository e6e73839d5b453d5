"""check() in a Jupyter kernel against `python -c "import torch"`, in one run.

Run:  .venv/bin/python benchmarks/notebook.py [--runs N]
Each run starts a fresh kernel (ipykernel, through jupyter_client), imports the notebook API
as the notebooks' first cell does, runs exercise 1's reference under %%exercise, then times:
the first check() (right after the exercise cell, whose run starts the grader's process), the
exercise cell and that first check together, and a second check() in the same, warm kernel.
Prints the medians and their ratios to the baseline (goals: the first check at most 2.0x, the
second at most 0.3x).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parents[1]
EXERCISE = "01_lstm_network"
CHECK = f'check("{EXERCISE}")'


def import_torch() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], check=True)
    return time.perf_counter() - start


def run(client, code: str) -> tuple[float, str]:
    """Execute `code` in the kernel; its wall time and what it showed as text."""
    shown: list[str] = []

    def keep(message: dict) -> None:
        content = message["content"]
        shown.append(content.get("text", "") + content.get("data", {}).get("text/plain", ""))

    start = time.perf_counter()
    reply = client.execute_interactive(code, timeout=600, output_hook=keep)
    seconds = time.perf_counter() - start
    if reply["content"]["status"] != "ok":
        sys.exit(f"the kernel failed on {code[:40]!r}: {reply['content']}")
    return seconds, "\n".join(shown)


def one_kernel(reference: str) -> tuple[float, float, float]:
    """(first check, exercise cell + first check, second check) in a fresh kernel."""
    manager, client = start_new_kernel(cwd=tempfile.gettempdir())
    try:
        run(client, "from course.notebook import check, hint, quiz")
        cell, _ = run(client, f"%%exercise {EXERCISE}\n{reference}")
        first, shown = run(client, CHECK)
        if "Score: 10/10" not in shown:
            sys.exit(f"the reference did not score full marks:\n{shown}")
        second, _ = run(client, CHECK)
        return first, cell + first, second
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    os.environ.setdefault("COURSE_ROOT", str(ROOT))
    reference = (ROOT / "solutions" / EXERCISE / "lstm_network.py").read_text()
    times, baselines = [], []
    for _ in range(runs):  # interleaved, so that a busy moment weighs on both alike
        baselines.append(import_torch())
        times.append(one_kernel(reference))
    baseline = statistics.median(baselines)
    rows = [
        ("python -c 'import torch' (baseline)", baseline, None),
        ("first check() in a fresh kernel", statistics.median(t[0] for t in times), 2.0),
        ("exercise cell + first check()", statistics.median(t[1] for t in times), None),
        ("second check() in a warm kernel", statistics.median(t[2] for t in times), 0.3),
    ]
    print(f"{'what':<40} {'median':>8} {'ratio':>6}  goal")
    for what, seconds, goal in rows:
        target = f"<= {goal}x" if goal else ""
        print(f"{what:<40} {seconds:>7.2f}s {seconds / baseline:>5.2f}x  {target}")


if __name__ == "__main__":
    main()
