"""Batch grading throughput against one `course grade` process per submission, in one run.

Run:  .venv/bin/python benchmarks/batch.py [--learners N]
Makes N synthetic submissions (copies of the solutions and of the visible mistake corpus for
exercises 1-2), then reports submissions per minute for the baseline (a `course grade` process
per submission, one at a time) and for `course grade --batch` with 1 and 2 jobs, the speed-up
over the baseline, and the peak memory (PSS, which counts shared pages once) per worker process.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grade import measure, peak_memory  # benchmarks/grade.py

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
EXERCISES = ("01_lstm_network", "02_training_step")


def make_class(folder: Path, count: int) -> list[Path]:
    """`count` learners, each a solution or a corpus case of each exercise."""
    pools = []
    for ex in EXERCISES:
        files = sorted((ROOT / "tests/corpus" / ex).glob("*/*/*.py"))
        files += sorted((ROOT / "solutions" / ex).glob("*.py"))
        pools.append(itertools.cycle(files))
    learners = []
    for i in range(count):
        learner = folder / f"learner{i:03d}"
        learner.mkdir(parents=True)
        for pool in pools:
            source = next(pool)
            shutil.copy(source, learner / source.name)
        learners.append(learner)
    return learners


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=12)
    n = parser.parse_args().learners
    with tempfile.TemporaryDirectory() as tmp:
        learners = make_class(Path(tmp) / "class", n)
        start = time.perf_counter()
        for learner in learners:
            argv = [PY, "-m", "course", "grade", str(learner), "--device", "cpu"]
            subprocess.run(
                argv + [f"--exercise={e}" for e in EXERCISES], cwd=ROOT, capture_output=True
            )
        base = time.perf_counter() - start
        print(f"{n} submissions of exercises 1-2")
        print(f"{'mode':<34} {'seconds':>8} {'per minute':>11} {'speed-up':>9} {'peak PSS':>10}")
        print(
            f"{'one course grade per submission':<34} {base:>8.1f} {60 * n / base:>11.1f} {1:>9.2f}"
        )
        for jobs in (1, 2):

            def batch(book: str, jobs: int = jobs) -> list[str]:
                return [PY, "-m", "course", "grade", str(Path(tmp) / "class"), "--batch",
                        "--jobs", str(jobs), "--gradebook", str(Path(tmp) / book),
                        "--device", "cpu", *(f"--exercise={e}" for e in EXERCISES)]  # fmt: skip

            seconds = measure(batch(f"timed{jobs}.sqlite"), ok=(0, 1))  # 1: some lost points
            peak = peak_memory(batch(f"sampled{jobs}.sqlite"))
            label = f"--batch --jobs {jobs}"
            print(f"{label:<34} {seconds:>8.1f} {60 * n / seconds:>11.1f} {base / seconds:>9.2f} "
                  f"{peak / 2**20:>7.0f} MiB ({peak / jobs / 2**20:.0f} MiB per job)")  # fmt: skip


if __name__ == "__main__":
    main()
