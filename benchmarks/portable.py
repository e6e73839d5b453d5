"""The portable runner backend against the Linux one and `python -c "import torch"`, in one run:
a cold `course grade` of exercises 1-2 (goal, portable: at most 2.5x import torch), then the
warm regrade of `course watch` under COURSE_SANDBOX=portable (goal: at most 0.5x).

Run:  .venv/bin/python benchmarks/portable.py [--runs N] [--saves N]
The cold grades of both backends are interleaved with the baseline, so the machine's load
falls on all three alike; the regrade is benchmarks/watch.py's, run with the portable backend.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
GRADE = [PY, "-m", "course", "grade", str(ROOT / "solutions")]
GRADE += ["--exercise", "01_lstm_network", "--exercise", "02_training_step", "--device", "cpu"]
RUNS = {
    "python -c import torch (baseline)": ([PY, "-c", "import torch"], None),
    "course grade 1-2, linux backend": (GRADE, "linux"),
    "course grade 1-2, portable backend": (GRADE, "portable"),
}


def seconds(argv: list[str], backend: str | None) -> float:
    env = {**os.environ, "COURSE_ROOT": str(ROOT)}
    if backend:
        env["COURSE_SANDBOX"] = backend
    start = time.perf_counter()
    subprocess.run(argv, env=env, capture_output=True, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--saves", type=int, default=5)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in RUNS}
    for argv, backend in RUNS.values():  # warm-up: the page cache, not the figures
        seconds(argv, backend)
    for _ in range(args.runs):
        for name, (argv, backend) in RUNS.items():
            times[name].append(seconds(argv, backend))
    base = statistics.median(times["python -c import torch (baseline)"])
    print(f"{'what':<44} {'median':>8} {'ratio':>6}")
    for name, observed in times.items():
        median = statistics.median(observed)
        print(f"{name:<44} {median:>7.2f}s {median / base:>6.2f}")
    print("\ncourse watch, portable backend (benchmarks/watch.py):", flush=True)
    env = {**os.environ, "COURSE_SANDBOX": "portable"}
    watch = [PY, str(ROOT / "benchmarks" / "watch.py"), "--saves", str(args.saves)]
    subprocess.run(watch, env=env, check=True)


if __name__ == "__main__":
    main()
