"""The runner: the only process where learner code runs. It confines itself, says hello,
then answers the checker's requests (load the learner's file; run a probe on it).

Everything it sends is plain data; the checker trusts none of it beyond its type.
"""

from __future__ import annotations

import importlib
import linecache
import os
import socket
import sys
import traceback
import types
from typing import Any

from grader import channel
from grader.sandbox import (
    Isolation,
    Limits,
    apply_limits,
    die_with_parent,
    drop_privileges,
    private_filesystem,
    scrub_environment,
)

MAX_TEXT = 4000  # characters of any message or traceback sent back
EXIT_SETUP_FAILED = 70  # EX_SOFTWARE: the runner could not confine itself


def main(spec: dict, chan_fd: int, out_fd: int, iso: Isolation) -> None:
    """Confine this process, then serve requests until the checker hangs up. Never returns."""
    try:
        chan = _confine(spec, chan_fd, out_fd, iso)
    except BaseException:  # the grader's own failure: leave its traceback for the checker
        os.write(2 if out_fd < 0 else out_fd, traceback.format_exc().encode()[-MAX_TEXT:])
        os._exit(EXIT_SETUP_FAILED)
    try:
        channel.send(chan, {"hello": iso.as_dict()})
        _serve(chan)
    finally:
        os._exit(0)  # never run the learner's atexit hooks


def _confine(spec: dict, chan_fd: int, out_fd: int, iso: Isolation) -> socket.socket:
    """Everything before the first learner byte: confinement, output, threads, sys.path."""
    die_with_parent()
    limits = Limits(**spec["limits"])
    work = private_filesystem(iso, list(spec["hidden"]), limits.tmp_bytes)
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    os.close(out_fd)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    os.chdir(work)
    scrub_environment(iso, work)
    drop_privileges(iso, work, spec["uid"])
    apply_limits(iso, limits, cuda=spec["cuda"], processes=spec["processes"])
    import torch

    torch.set_num_threads(1)
    sys.path[:] = [p for p in sys.path if p not in ("", work)]
    return socket.socket(fileno=chan_fd)


def _serve(chan: socket.socket) -> None:
    learner: types.ModuleType | None = None
    while True:
        try:
            request = channel.recv(chan)
        except (channel.ChannelClosed, channel.BadFrame):
            return
        op = request.get("op")
        if op == "load":
            learner, reply = _load(request["source"], request["filename"], request["module"])
        elif op == "probe" and learner is not None:
            reply = _probe(learner, request["name"], request.get("args", {}))
        else:
            reply = {"error": {"type": "GraderError", "message": f"unexpected request {op!r}"}}
        try:
            channel.send(chan, reply)
        except Exception as exc:  # the reply held something that is not plain data
            message = f"the reply could not be sent: {type(exc).__name__}"
            channel.send(chan, {"error": {"type": "GraderError", "message": message}})


def _load(source: str, filename: str, name: str) -> tuple[types.ModuleType | None, dict]:
    """Execute the learner's source as module `name`, reporting errors with their line."""
    module = types.ModuleType(name)
    module.__file__ = filename
    sys.modules[name] = module
    try:
        code = compile(source, filename, "exec")
        # The file itself is hidden from the runner: let tracebacks quote its lines anyway.
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(code, module.__dict__)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt included
        return None, {"error": describe(exc, filename)}
    names = [n for n in vars(module) if not n.startswith("_")]
    return module, {"ok": True, "names": names}


def _probe(learner: types.ModuleType, name: str, args: dict) -> dict:
    """Run the probe `module.function` of grader.probes on the learner's module."""
    module_name, _, function = name.rpartition(".")
    probe = getattr(importlib.import_module(f"grader.probes.{module_name}"), function)
    try:
        return probe(learner, **args)
    except BaseException as exc:
        return {"error": describe(exc, learner.__file__)}


def describe(exc: BaseException, filename: str) -> dict[str, Any]:
    """An exception as plain data: its type, message, the learner's line, the traceback."""
    info: dict[str, Any] = {"type": _safe(lambda: type(exc).__name__, "Exception")}
    info["message"] = _safe(lambda: str(exc), "(the exception could not be printed)")[:MAX_TEXT]
    line, text = None, ""
    if isinstance(exc, SyntaxError) and exc.filename == filename:
        line, text = exc.lineno, (exc.text or "").strip()
        info["message"] = exc.msg
    else:
        for frame in traceback.extract_tb(exc.__traceback__):
            if frame.filename == filename:
                line, text = frame.lineno, (frame.line or "").strip()
    if line is not None:
        info["line"] = int(line)
        info["code"] = text[:200]
    tb = _safe(lambda: "".join(traceback.format_exception(exc)), "")
    info["traceback"] = tb[-MAX_TEXT:]
    return info


def _safe(get, default: str) -> str:
    try:
        value = get()
        return value if type(value) is str else default
    except BaseException:
        return default
