"""What every runner imports before it meets a learner's file, once: the Linux zygote before
its first fork, each portable runner while it waits in the pool. Runner side, so that the
portable runner (grader/confined/portable_runner.py) needs nothing of the checker's."""

from __future__ import annotations

import contextlib
import importlib
import pkgutil

# torch._dynamo only when a learner compiles (grader/confined/lazy_dynamo).
PRELOAD = ("torch", "torch.nn", "torch.optim", "grader.confined.runner")
OPTIONAL = ("pyseccomp",)  # the syscall filter's library: without it, the report says so


def preload() -> None:
    """Import what every runner needs, and every probe; run no torch op (a forked child of a
    process that ran OpenMP work can hang)."""
    import grader.confined.probes
    from grader.confined import lazy_dynamo

    for name in PRELOAD:
        importlib.import_module(name)
    for name in OPTIONAL:
        with contextlib.suppress(ImportError, OSError, RuntimeError):
            importlib.import_module(name)
    lazy_dynamo.install()
    for probe in pkgutil.iter_modules(grader.confined.probes.__path__, "grader.confined.probes."):
        importlib.import_module(probe.name)
