"""Batch grading on Dask (`--scheduler`) against the local batch (`--jobs 2`), in one run.

Run:  .venv/bin/python benchmarks/cluster.py [--learners 24] [--workers 1,2,3] [--rounds 3]
Makes a class of synthetic submissions (benchmarks/batch.py's), then times, alternating and
taking the median of the rounds:
- `--batch --jobs 2`, the baseline, against `--scheduler local:2` (a LocalCluster started and
  stopped by the command: what an instructor on one machine runs);
- `--scheduler local:W` for each W of --workers: how throughput grows with workers;
- `--scheduler tcp://...` to a scheduler and W workers already running (`dask scheduler`,
  `dask worker`): what a standing cluster costs per class, its workers' start excluded.
Then the cost per learner: the seconds a worker spends on one (the gradebook's `seconds`,
median and 90th percentile, in the alternating runs of local:2 and of the baseline), to size a
cluster: learners × seconds / workers.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path

from batch import EXERCISES, ROOT, make_class  # benchmarks/batch.py
from grade import measure  # benchmarks/grade.py

sys.path.insert(0, str(ROOT))
from tests.helpers import dask_cluster  # the tests' scheduler and workers

PY = sys.executable


def grade(folder: Path, book: Path, *how: str) -> list[str]:
    return [PY, "-m", "course", "grade", str(folder), "--batch", "--regrade",
            "--gradebook", str(book), "--device", "cpu",
            *(f"--exercise={e}" for e in EXERCISES), *how]  # fmt: skip


def timed(folder: Path, book: Path, rounds: int, scheduler: str) -> float:
    """The median wall time of `rounds` runs on `scheduler` (exit 1: some lost points)."""
    argv = grade(folder, book, "--scheduler", scheduler)
    return statistics.median(measure(argv, ok=(0, 1)) for _ in range(rounds))


def per_learner(book: Path) -> tuple[float, float]:
    """The median and 90th percentile of the seconds a worker spent on one learner."""
    with sqlite3.connect(book) as db:
        seconds = sorted(s for (s,) in db.execute("SELECT seconds FROM learners"))
    return statistics.median(seconds), seconds[int(0.9 * (len(seconds) - 1))]


def row(label: str, seconds: float, n: int, base: float) -> None:
    print(f"{label:<40} {seconds:>8.1f} {60 * n / seconds:>11.1f} {base / seconds:>7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=24)
    parser.add_argument("--workers", default="1,2,3")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    n, workers = args.learners, [int(w) for w in args.workers.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "class"
        make_class(folder, n)
        book, local = Path(tmp) / "book.sqlite", Path(tmp) / "local.sqlite"
        pairs = [  # alternating: a machine that slows down slows both
            (
                measure(grade(folder, local, "--jobs", "2"), ok=(0, 1)),
                measure(grade(folder, book, "--scheduler", "local:2"), ok=(0, 1)),
            )
            for _ in range(args.rounds)
        ]
        base = statistics.median(p[0] for p in pairs)
        ratios = sorted(round(a / b, 2) for a, b in pairs)
        print(f"{n} submissions of exercises 1-2, median of {args.rounds} run(s)")
        print(f"local:2 against --jobs 2, round by round: {ratios} (load {_load()})")
        print(f"{'mode':<40} {'seconds':>8} {'per minute':>11} {'ratio':>7}")
        row("--batch --jobs 2 (baseline)", base, n, base)
        row("--scheduler local:2", statistics.median(p[1] for p in pairs), n, base)
        for w in (w for w in workers if w != 2):
            seconds = timed(folder, Path(tmp) / "other.sqlite", args.rounds, f"local:{w}")
            row(f"--scheduler local:{w}", seconds, n, base)
        for w in workers:
            with dask_cluster(Path(tmp) / f"dask{w}", workers=w) as cluster:
                seconds = timed(folder, Path(tmp) / "running.sqlite", args.rounds, cluster.address)
            row(f"--scheduler tcp://… ({w} running workers)", seconds, n, base)
        for where, path in (("a Dask worker (local:2)", book), ("a job of --jobs 2", local)):
            median, p90 = per_learner(path)
            print(f"per learner on {where}: median {median:.2f} s, 90th percentile {p90:.2f} s "
                  f"({3600 / median:.0f} learners an hour)")  # fmt: skip
        print(f"load average at the end: {_load()}")


def _load() -> str:
    """The machine's load average (1, 5, 15 minutes): what else ran beside the benchmark."""
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
