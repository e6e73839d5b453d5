"""What one runner may use, whichever backend confines it (grader/backend.py): plain data,
importable on every system (the checker side never imports the Linux sandbox for it)."""

from __future__ import annotations

from dataclasses import dataclass

GiB = 1 << 30
MiB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """What one runner may use. Every figure is configurable from `course grade`."""

    memory_bytes: int = 4 * GiB  # address space on CPU; resident set on CUDA (polled)
    cpu_seconds: int = 300
    file_bytes: int = 64 * MiB  # largest file it may write (stdout included)
    tmp_bytes: int = 128 * MiB  # size of its private /tmp, where it works (/var/tmp, /dev/shm: 1/8)
    open_files: int = 256
    processes: int = 64  # threads count too; for its whole tree where a resource group holds it
    cpus: float = 1.0  # CPUs its whole tree may use at once (its resource group's quota)
    request_seconds: float = 10.0  # one call into the learner's code (per request)
    exercise_seconds: float = 120.0  # all calls of one exercise together
