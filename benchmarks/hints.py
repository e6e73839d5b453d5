"""`course grade --hints` against `course grade` (every exercise), in one run.

Run:  .venv/bin/python benchmarks/hints.py [--runs N]
In a fresh `course init` workspace whose six exercise files are all edited (three solutions,
three that fail), times `course grade` (the baseline: it grades all six), then `course grade
--hints` with no file changed since (the last grades stand: nothing is graded), then with one
file changed (only that one is graded). Prints the medians and the ratios to the baseline.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from courseware.content import load_module  # noqa: E402

PY = sys.executable
FAILING = "def nothing_here():\n    return None\n"


def timed(argv: list[str], cwd: Path, env: dict) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        sys.exit(f"{' '.join(argv)} exited with {proc.returncode}:\n{proc.stderr}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    module = load_module(ROOT)
    course = [PY, "-m", "course", "grade"]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "COURSE_DATA_DIR": f"{tmp}/data", "COURSE_ROOT": str(ROOT)}
        subprocess.run([PY, "-m", "course", "init"], cwd=tmp, env=env, check=True,
                       capture_output=True)  # fmt: skip
        ws = Path(tmp) / "lstm-course"
        files = [ws / "exercises" / ex.id / ex.file for ex in module.exercises]
        for i, (ex, path) in enumerate(zip(module.exercises, files, strict=True)):
            path.write_text(ex.solution.read_text() if i % 2 == 0 else FAILING)
        rows = [("course grade (all six, baseline)", [], None)]
        rows += [("course grade --hints, nothing changed", ["--hints"], None)]
        rows += [("course grade --hints, one file changed", ["--hints"], files[1])]
        medians = []
        for _, extra, touch in rows:
            times = []
            for n in range(runs):
                timed(course, ws, env)  # every exercise graded, its grade remembered
                if touch is not None:
                    touch.write_text(f"{FAILING}# change {n}\n")
                times.append(timed(course + extra, ws, env))
            medians.append(statistics.median(times))
    print(f"{'what':<44} {'median':>7}  ratio")
    for (name, _, _), seconds in zip(rows, medians, strict=True):
        print(f"{name:<44} {seconds:6.2f}s  {seconds / medians[0]:.2f}")


if __name__ == "__main__":
    main()
