"""The runner: the only process where learner code runs. It confines itself, says hello,
then answers the checker's requests (load the learner's file; run a probe on it).

Everything it sends is plain data; the checker trusts none of it beyond its type.
"""

from __future__ import annotations

import contextlib
import inspect
import linecache
import os
import signal
import socket
import sys
import traceback
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from grader.confined import channel, syscalls
from grader.confined.cgroups import ResourceGroup

if TYPE_CHECKING:
    from grader.confined.sandbox import Isolation

MAX_TEXT = 4000  # characters of any message or traceback sent back
MAX_NAME = 200  # characters of an exception's type name or a quoted line
MAX_NAMES = 1000  # names of the learner's module listed after the load
EXIT_SETUP_FAILED = 70  # EX_SOFTWARE: the runner could not confine itself
EXIT_CHANNEL_LOST = 71  # learner code closed or replaced the channel's file descriptor
EXIT_INTERRUPTED = 72  # something of the learner's raised between two requests (a thread)
EXIT_ORPHANED = 73  # its supervisor died during its setup: nobody is left to answer
# Blocked whenever the runner's own code runs (between requests, sending a reply): a learner's
# timer or signal handler fires inside the learner's calls only. SIGKILL and SIGSTOP cannot be
# blocked, and the faults of a crash (SIGSEGV, SIGBUS...) are delivered all the same.
# Windows has neither those two nor a signal mask (grader/portable.py runs there).
UNBLOCKABLE = {getattr(signal, name, None) for name in ("SIGKILL", "SIGSTOP")}
ALL_SIGNALS = signal.valid_signals() - UNBLOCKABLE


def main(spec: dict, chan_fd: int, out_fd: int, iso: Isolation, lifeline: int) -> None:
    """Confine this process, then serve requests until the checker hangs up. `lifeline` is
    the read end of a pipe whose writer is the supervisor. Never returns."""
    try:
        chan = _confine(spec, chan_fd, out_fd, iso, lifeline)
    except BaseException:  # the grader's own failure: leave its traceback for the checker
        os.write(2 if out_fd < 0 else out_fd, traceback.format_exc().encode()[-MAX_TEXT:])
        os._exit(EXIT_SETUP_FAILED)
    answer(chan, iso.as_dict())


def answer(
    chan: socket.socket, hello: dict, before_exit: Callable[[], None] = lambda: None
) -> None:
    """Say `hello` (the isolation in force), then serve requests until the checker hangs up;
    shared by every backend's runner (`before_exit`: the portable one's own cleanup, where
    no PID namespace ends what it started). Never returns."""
    code = 0
    try:
        _mask(block=True)
        _set_aside_handlers()  # SIGINT's KeyboardInterrupt too: the learner's alone
        probes = probe_registry()
        channel.send(chan, {"hello": hello})
        _serve(chan, probes)
    except OSError:  # the channel's descriptor is gone or is no socket now
        code = EXIT_CHANNEL_LOST
    except BaseException:  # what a learner's thread injected (interrupt_main, async raise)
        code = EXIT_INTERRUPTED
    finally:
        before_exit()
        os._exit(code)  # never run the learner's atexit hooks


def _mask(block: bool) -> None:
    """Block (or unblock) every signal for this thread; Windows has no signal mask."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK if block else signal.SIG_UNBLOCK, ALL_SIGNALS)


def _confine(spec: dict, chan_fd: int, out_fd: int, iso: Isolation, lifeline: int) -> socket.socket:
    """Everything before the first learner byte: confinement, output, threads, sys.path."""
    from grader.confined.sandbox import (
        Limits,
        apply_limits,
        die_with_parent,
        drop_privileges,
        exposed_secrets,
        join_session_keyring,
        parent_alive,
        private_filesystem,
        scrub_environment,
    )

    die_with_parent()
    limits = Limits(**spec["limits"])
    group = _join_group(spec, iso)  # first: the view hides the cgroup files
    work = private_filesystem(iso, list(spec["hidden"]), limits.tmp_bytes, spec["cuda"])
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    os.close(out_fd)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    os.chdir(work)
    scrub_environment(iso, work)
    drop_privileges(iso, work, spec["uid"])
    join_session_keyring(iso)
    die_with_parent()  # again: the uid switch cleared it
    if not parent_alive(lifeline):  # the supervisor died before that: nobody will kill us
        os._exit(EXIT_ORPHANED)
    os.close(lifeline)
    exposed_secrets(iso, spec["secrets"])
    backstop = limits.processes if group and group.place("pids") else 0  # pids.max comes first
    apply_limits(iso, limits, cuda=spec["cuda"], processes=spec["processes"] + backstop)
    import torch

    torch.set_num_threads(1)
    sys.path[:] = [p for p in sys.path if p not in ("", work)]
    _filter_syscalls(spec, iso)
    return socket.socket(fileno=chan_fd)


def _join_group(spec: dict, iso: Isolation) -> ResourceGroup | None:
    """Enter the resource group the zygote made for this runner (everything it starts will
    be in it too), and say what it holds; None where there is none."""
    if spec["group"] is None:
        iso.resource_group = f"no ({spec['group_why']})"
        return None
    group = ResourceGroup.from_json(spec["group"])
    try:
        group.join()
    except OSError as exc:
        iso.resource_group = f"no (the group could not be joined: {exc.strerror})"
        return None
    described = group.describe()
    iso.resource_group = described if group.complete() else f"no, only {described}"
    return group


def _filter_syscalls(spec: dict, iso: Isolation) -> None:
    """The last step: the calls learner code never needs now fail with EPERM."""
    if not spec["syscall_filter"]:
        iso.syscall_filter = "no (not asked for)"
        return
    try:
        iso.syscall_filter = syscalls.install()
    except (ImportError, OSError, RuntimeError) as exc:  # no libseccomp, or a kernel without
        iso.syscall_filter = f"no ({type(exc).__name__}: {exc})"


def _serve(chan: socket.socket, probes: dict[str, Callable[..., Any]]) -> None:
    learner: types.ModuleType | None = None
    while True:
        try:
            request = channel.recv(chan)
        except channel.ChannelClosed:
            return
        except channel.BadFrame:  # the checker sends none: learner code wrote on the channel
            raise OSError("a frame the checker did not send") from None
        op = request.get("op") if type(request) is dict else None
        number = request.get("id") if type(request) is dict else None
        if op == "load":
            learner, reply = _load(request["source"], request["filename"], request["module"])
        elif op == "probe" and learner is not None:
            reply = _probe(probes, learner, request["name"], request.get("args", {}))
        else:
            reply = grader_error(f"unexpected request {op!r}")
        _reply(chan, number, reply)


def _reply(chan: socket.socket, number: Any, reply: dict) -> None:
    """Send `reply` to request `number`, encoded (copied) at once: nothing the learner's code
    can still reach or change is sent. The envelope names the request it answers, so the
    checker can tell a reply from a frame learner code wrote on the channel. A reply that is
    not plain data is the grader's error (a probe must reply with copies of plain values),
    not the learner's."""
    try:
        data = channel.encode({"id": number, "reply": reply})
    except Exception as exc:
        error = grader_error(f"the reply could not be sent: {_safe_text(exc)}")
        data = channel.encode({"id": number, "reply": error})
    channel.send_frame(chan, data)


def grader_error(message: str) -> dict:
    """A reply that says the grader (a probe, a request) is at fault, not the learner."""
    return {"grader_error": message[:MAX_TEXT]}


def probe_registry() -> dict[str, Callable[..., Any]]:
    """Every public function of the probe modules imported so far, by "module.function". Built
    before any learner code runs, so that patching importlib cannot change what a name runs."""
    prefix = "grader.confined.probes."
    found = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith(prefix) or module is None:
            continue
        for attr, value in vars(module).items():
            public = not attr.startswith("_") and type(value) is types.FunctionType
            if public and value.__module__ == name:
                found[f"{name.removeprefix(prefix)}.{attr}"] = value
    return found


def _load(source: str, filename: str, name: str) -> tuple[types.ModuleType | None, dict]:
    """Execute the learner's source as module `name`, reporting errors with their line."""
    module = types.ModuleType(name)
    module.__file__ = filename
    sys.modules[name] = module
    try:
        with learner_signals():
            code = compile(source, filename, "exec")
            # The file itself is hidden from the runner: let tracebacks quote its lines anyway.
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            exec(code, module.__dict__)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt included
        return None, {"error": describe(exc, filename)}
    names = [n for n in list(vars(module)) if type(n) is str and not n.startswith("_")]
    return module, {"ok": True, "names": [n for n in names if len(n) <= MAX_NAME][:MAX_NAMES]}


def _probe(
    probes: dict[str, Callable[..., Any]], learner: types.ModuleType, name: Any, args: Any
) -> dict:
    """Run the probe `name` on the learner's module. A probe that does not exist, or that does
    not take these arguments, is the grader's error; what the probe raises is the learner's."""
    probe = probes.get(name) if type(name) is str else None
    if probe is None:
        return grader_error(f"no probe named {name!r}")
    try:
        inspect.signature(probe).bind(learner, **args)
    except TypeError as exc:
        return grader_error(f"probe {name} called wrongly: {exc}")
    try:
        with learner_signals():
            return probe(learner, **args)
    except BaseException as exc:
        return {"error": describe(exc, learner.__file__)}


_learner_handlers: dict[int, Any] = {}  # the learner's Python handlers, set aside meanwhile


@contextlib.contextmanager
def learner_signals():
    """Signals reach the runner's main thread only inside this block, where the learner's code
    runs: a timer or handler of the learner's that raises does so in the learner's call (its
    error). Blocking them again runs every handler whose signal came meanwhile, still inside.
    Outside, the learner's Python handlers are set aside (a signal that a thread of the
    learner's takes, or interrupt_main, is dropped), and put back on the way in."""
    for number, handler in _learner_handlers.items():
        signal.signal(number, handler)
    _learner_handlers.clear()
    _mask(block=False)
    try:
        yield
    finally:
        try:
            _mask(block=True)  # may raise: the learner's
        finally:
            _set_aside_handlers()


def _set_aside_handlers() -> None:
    """Put the learner's handlers aside; a handler that a learner's thread set off meanwhile
    may raise here once per handler still in place, so try again (they end, being set aside)."""
    for _ in range(len(ALL_SIGNALS) + 2):
        try:
            for number in ALL_SIGNALS:
                handler = signal.getsignal(number)
                if callable(handler) and handler is not _dropped:
                    _learner_handlers[number] = handler
                    signal.signal(number, _dropped)
            return
        except BaseException:  # the learner's exception, out of its call
            continue


def _dropped(number: int, frame: Any) -> None:
    """A learner's signal that came while the runner's own code ran: nothing happens."""


def describe(exc: BaseException, filename: str) -> dict[str, Any]:
    """An exception as plain data: its type, message, the learner's line, the traceback.
    Whatever the exception holds (a SyntaxError's fields are the learner's to set), this is
    a dict of short strings and one small int, and it never raises."""
    try:
        return _described(exc, filename)
    except BaseException:
        return {"type": "Exception", "message": "(the exception could not be described)"}


def _described(exc: BaseException, filename: str) -> dict[str, Any]:
    info: dict[str, Any] = {"type": _safe(lambda: type(exc).__name__, "Exception")[:MAX_NAME]}
    info["message"] = _safe(lambda: str(exc), "(the exception could not be printed)")[:MAX_TEXT]
    line, text = None, ""
    if isinstance(exc, SyntaxError) and _safe(lambda: exc.filename, "") == filename:
        line, text = exc.lineno, _safe(lambda: (exc.text or "").strip(), "")
        info["message"] = _safe(lambda: exc.msg, info["message"])[:MAX_TEXT]
    else:
        for frame in traceback.extract_tb(exc.__traceback__):
            if frame.filename == filename:
                line, text = frame.lineno, (frame.line or "").strip()
    if type(line) is int and 0 < line < 1 << 31:
        info["line"] = line
        info["code"] = text[:MAX_NAME]
    tb = _safe(lambda: "".join(traceback.format_exception(exc)), "")
    info["traceback"] = tb[-MAX_TEXT:]
    return info


def _safe_text(exc: BaseException) -> str:
    return _safe(lambda: f"{type(exc).__name__}: {exc}", type(exc).__name__)


def _safe(get, default: str) -> str:
    try:
        value = get()
        return value if type(value) is str else default
    except BaseException:
        return default
