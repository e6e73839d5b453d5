"""The grader as a process of its own that a notebook's kernel keeps for its checks.

`python -m grader.service ROOT` loads the module at ROOT, starts one zygote and imports torch
and pytest once; then it grades each request exactly as `course grade` grades the exercise's
file: the source is written as that file into a private folder and passed to `grader.grade`.
So the learner's code never runs in the process that makes verdicts (nor in the kernel's), and
a second check in the same kernel costs only the checks themselves.

Requests, one JSON object per line on stdin: {"exercise": ID, "source": TEXT, "device":
"auto" | "cpu" | "cuda" | "mps"}. Replies, one line each on the original stdout: the report as
`course grade --json` writes it, or {"error": MESSAGE}. Whatever else is printed (a check's
output, a warning) goes to stderr. The service dies with the kernel that started it.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from courseware.content import Module, load_module
from courseware.errors import CourseError
from grader.formats import as_json
from grader.grade import GradeOptions, Grader

DEVICES = ("auto", "cpu", "cuda", "mps")
MALFORMED = "a malformed request: one JSON object with the exercise, its source and a device"
GRADER_FAILED = (
    "The grader itself failed; this is not your fault ({why}). Run the check again; if it "
    "fails the same way, restart the kernel."
)


def answer(module: Module, grader: Grader, line: str) -> dict:
    """The JSON report of one request line, or {"error": ...} that says what went wrong."""
    try:
        request = json.loads(line)
    except ValueError:
        request = None
    if not isinstance(request, dict):
        return {"error": MALFORMED}
    source, device = request.get("source"), request.get("device", "auto")
    if not isinstance(source, str) or device not in DEVICES:
        return {"error": MALFORMED}
    ex = module.exercise(str(request.get("exercise")))
    with tempfile.TemporaryDirectory(prefix="course-check-") as folder:
        path = Path(folder) / ex.id / ex.file
        path.parent.mkdir()
        path.write_text(source, encoding="utf-8", errors="surrogatepass")  # the reader says so
        options = GradeOptions(exercises=(ex.id,), device=device)
        return as_json(grader.grade(module, path, options))


def serve(module: Module, requests: TextIO, replies: TextIO) -> None:
    """Answer every request line until the input ends; a grader failure restarts the zygote
    and is that request's error, never the end of the service."""
    grader = Grader().start()
    try:
        for line in requests:
            try:
                reply = answer(module, grader, line)
            except CourseError as exc:
                reply = {"error": exc.message}
            except Exception as exc:  # the grader's own failure: a fresh zygote for the next
                reply = {"error": GRADER_FAILED.format(why=f"{type(exc).__name__}: {exc}")}
                grader.close()
                grader.start()
            replies.write(json.dumps(reply) + "\n")
            replies.flush()
    finally:
        grader.close()


def main() -> None:
    """Serve the module at sys.argv[1] on stdin and stdout, printing nothing else there."""
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # prints cannot reach the replies
    if sys.platform.startswith("linux"):
        from grader.confined.sandbox import die_with_parent  # Linux only: prctl

        die_with_parent()
    module = load_module(Path(sys.argv[1]))
    serve(module, sys.stdin, replies)
    replies.flush()
    os._exit(0)  # no teardown of torch: every runner is already gone


if __name__ == "__main__":
    main()
