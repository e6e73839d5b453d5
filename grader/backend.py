"""Where runners live, chosen in this one place: the Linux sandbox (grader/zygote.py: fork,
namespaces, resource groups, seccomp) or the portable backend (grader/portable.py: a clean
`python -I` process per runner, rlimits where they work, memory and the process tree watched
with psutil), for macOS, Windows and any kernel where the Linux sandbox cannot run.

COURSE_SANDBOX=auto|linux|portable chooses (auto: linux wherever it can run);
COURSE_SANDBOX_WITHOUT=namespaces,cgroups,seccomp then leaves levels of the Linux one out.
"""

from __future__ import annotations

import importlib.util
import os
import sys

from courseware.errors import CourseError

VARIABLE = "COURSE_SANDBOX"
CHOICES = ("auto", "linux", "portable")


class UnknownBackend(CourseError):
    """COURSE_SANDBOX names no backend, or one that cannot run on this system."""


def linux_unavailable() -> str:
    """Why the Linux sandbox cannot run here, or "" where it can: it needs Linux, os.fork,
    the resource module, prctl through the C library and /proc."""
    if sys.platform != "linux":
        return f"this system is {sys.platform}, not Linux"
    if not hasattr(os, "fork"):
        return "os.fork is missing"
    if importlib.util.find_spec("resource") is None:
        return "the resource module is missing"
    if not os.path.isdir("/proc/self"):
        return "/proc is not mounted"
    try:
        import ctypes

        ctypes.CDLL(None).prctl  # noqa: B018 (the lookup is the test)
    except (AttributeError, OSError, TypeError):
        return "the C library has no prctl"
    return ""


def chosen() -> str:
    """The backend runners get here: "linux" or "portable" (see the module's docstring)."""
    choice = os.environ.get(VARIABLE, "auto").strip().lower() or "auto"
    if choice not in CHOICES:
        raise UnknownBackend(
            f"{VARIABLE}={os.environ[VARIABLE]}: unknown backend; use one of "
            f"{', '.join(CHOICES)}, or unset it (auto)"
        )
    why = linux_unavailable() if choice != "portable" else ""
    if choice == "linux" and why:
        raise UnknownBackend(
            f"{VARIABLE}=linux: the Linux sandbox cannot run here ({why}); "
            f"set {VARIABLE}=portable or auto, or unset it"
        )
    return "portable" if choice == "portable" or why else "linux"
