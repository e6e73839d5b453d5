"""`course watch`: time from saving exercise 1's solution to its full-marks line, against
`python -c "import torch"`, in one run.

Run:  .venv/bin/python benchmarks/watch.py [--saves N]
Starts one `course watch` in a fresh `course init` workspace, then N times: saves the starter
(a "not attempted" line), then the solution, and times the solution's save to its line.
Prints the median latency, the baseline and their ratio (goal: at most 0.3).
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
from courseware.starters import normal  # noqa: E402

PY = sys.executable


def import_torch() -> float:
    start = time.perf_counter()
    subprocess.run([PY, "-c", "import torch"], check=True)
    return time.perf_counter() - start


def save(path: Path, text: str) -> float:
    """An editor's save (a new file renamed over the old one); returns when it was done."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return time.perf_counter()


def wait_for(proc: subprocess.Popen, line: str) -> float:
    while True:
        got = proc.stdout.readline()
        if not got:
            sys.exit(f"course watch ended before printing {line!r}")
        if got.strip() == line:
            return time.perf_counter()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=7)
    saves = parser.parse_args().saves
    ex = load_module(ROOT).exercise("01_lstm_network")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "COURSE_DATA_DIR": f"{tmp}/data", "COURSE_ROOT": str(ROOT)}
        subprocess.run([PY, "-m", "course", "init"], cwd=tmp, env=env, check=True,
                       capture_output=True)  # fmt: skip
        workspace = Path(tmp) / "lstm-course"
        path = workspace / "exercises" / ex.id / ex.file
        watch = [PY, "-m", "course", "watch", ex.id]
        proc = subprocess.Popen(watch, cwd=workspace, env=env, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)  # fmt: skip
        try:
            wait_for(proc, f"{ex.id}  not attempted (0/10)")
            latencies = []
            for _ in range(saves + 1):  # the first save warms the checker's imports
                saved = save(path, ex.solution.read_text())
                latencies.append(wait_for(proc, f"{ex.id}  10/10") - saved)
                save(path, normal(ex.starter.text))
                wait_for(proc, f"{ex.id}  not attempted (0/10)")
        finally:
            proc.kill()
            proc.wait()
    baseline = statistics.median(import_torch() for _ in range(5))
    latency = statistics.median(latencies[1:])
    print(f"{'what':<44} {'median':>8} {'ratio':>6}")
    print(f"{'python -c import torch (baseline)':<44} {baseline:>7.2f}s {1:>6.2f}")
    ratio = latency / baseline
    print(f"{'save -> full-marks line (course watch)':<44} {latency:>7.2f}s {ratio:>6.2f}")
    print(f"first save after start: {latencies[0]:.2f}s; every save: "
          + ", ".join(f"{s:.2f}" for s in latencies))  # fmt: skip


if __name__ == "__main__":
    main()
