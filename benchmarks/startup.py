"""Start-up time of `course` commands against `python -c "import click"`, in the same run.

Run:  .venv/bin/python benchmarks/startup.py [--runs N]
Prints the median wall time of each command and its ratio to the baseline.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

PY = sys.executable
BASELINE = ("python -c 'import click'", [PY, "-c", "import click"])
COMMANDS = [
    ("course --help", [PY, "-m", "course", "--help"]),
    ("course --version", [PY, "-m", "course", "--version"]),
    (  # a scripted quiz; its history goes to /tmp, not the user's data folder
        "course quiz --count 2 --answers 'b;c'",
        [
            "env",
            "COURSE_DATA_DIR=/tmp/course-benchmark",
            PY,
            "-m",
            "course",
            "quiz",
            "--no-shuffle",
            "--count",
            "2",
            "--answers",
            "b;c",
        ],
    ),
]


def median_seconds(argv: list[str], runs: int) -> float:
    """Median wall time of `runs` runs of argv (after one warm-up run)."""
    subprocess.run(argv, capture_output=True, check=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    base = median_seconds(BASELINE[1], runs)
    print(f"{'command':<40} {'median':>9} {'ratio':>7}")
    print(f"{BASELINE[0]:<40} {base * 1000:>7.0f}ms {1:>7.2f}")
    for name, argv in COMMANDS:
        t = median_seconds(argv, runs)
        print(f"{name:<40} {t * 1000:>7.0f}ms {t / base:>7.2f}")


if __name__ == "__main__":
    main()
