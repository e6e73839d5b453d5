"""`course grade solutions/` against `python -c "import torch"`, in the same run.

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
GRADE = ("course grade solutions/", [PY, "-m", "course", "grade", "solutions", "--device", "cpu"])


def tree_rss(root_pid: int) -> int:
    """Resident memory of a process and all its descendants, in bytes."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                statm = Path(f"/proc/{entry}/statm").read_text().split()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(statm[1]) * os.sysconf("SC_PAGE_SIZE")
    family, grew = {root_pid}, True
    while grew:
        children = {pid for pid, ppid in parents.items() if ppid in family} - family
        grew = bool(children)
        family |= children
    return sum(rss.get(pid, 0) for pid in family)


def measure(argv: list[str]) -> tuple[float, int]:
    """Wall time and peak tree memory of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(0.02)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} exited with {proc.returncode}; fix that before timing it")
    return time.perf_counter() - start, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    measure(GRADE[1])  # warm the file cache
    rows = []
    for name, argv in (BASELINE, GRADE):
        samples = [measure(argv) for _ in range(runs)]
        rows.append((name, statistics.median(t for t, _ in samples), max(m for _, m in samples)))
    base = rows[0][1]
    print(f"{'command':<28} {'median':>8} {'ratio':>6} {'peak memory':>12}")
    for name, seconds, peak in rows:
        print(f"{name:<28} {seconds:>7.2f}s {seconds / base:>6.2f} {peak / 2**20:>9.0f} MiB")


if __name__ == "__main__":
    main()
