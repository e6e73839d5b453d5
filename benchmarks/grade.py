"""`course grade solutions/` (exercises 1-2) against `python -c "import torch"`, in one run.

Run:  .venv/bin/python benchmarks/grade.py [--runs N]
Prints the median wall time of each, their ratio (goal: within 2x) and the peak memory of the
whole grading process tree (checker, zygote and runners together, sampled every 20 ms).
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
BASELINE = ("python -c 'import torch'", [PY, "-c", "import torch"])
EXERCISES = ["--exercise", "01_lstm_network", "--exercise", "02_training_step"]
GRADE = (
    "course grade solutions/ (ex. 1-2)",
    [PY, "-m", "course", "grade", "solutions", "--device", "cpu", *EXERCISES],
)


def tree_pss(root_pid: int) -> int:
    """Proportional memory (PSS: shared pages counted once) of a process and all its
    descendants, in bytes."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                rollup = Path(f"/proc/{entry}/smaps_rollup").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
            pss = next((line for line in rollup.splitlines() if line.startswith("Pss:")), "Pss: 0")
            rss[int(entry)] = int(pss.split()[1]) * 1024
    family, grew = {root_pid}, True
    while grew:
        children = {pid for pid, ppid in parents.items() if ppid in family} - family
        grew = bool(children)
        family |= children
    return sum(rss.get(pid, 0) for pid in family)


def measure(argv: list[str], ok: tuple[int, ...] = (0,)) -> float:
    """Wall time of one run; exits if the command fails (its exit code not in `ok`): a
    failing command would be timed meaninglessly."""
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if proc.returncode not in ok:
        sys.exit(f"{' '.join(argv)} exited with {proc.returncode}; fix that before timing it")
    return time.perf_counter() - start


def peak_memory(argv: list[str]) -> int:
    """Peak PSS of the command's process tree, sampled every 20 ms in a run of its own (the
    sampling costs CPU, so timed runs do without it)."""
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_pss(proc.pid))
        time.sleep(0.02)
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    measure(GRADE[1])  # warm the file cache
    rows = []
    for name, argv in (BASELINE, GRADE):
        seconds = statistics.median(measure(argv) for _ in range(runs))
        rows.append((name, seconds, peak_memory(argv)))
    base = rows[0][1]
    print(f"{'command':<36} {'median':>8} {'ratio':>6} {'peak memory':>12}")
    for name, seconds, peak in rows:
        print(f"{name:<36} {seconds:>7.2f}s {seconds / base:>6.2f} {peak / 2**20:>9.0f} MiB")


if __name__ == "__main__":
    main()
