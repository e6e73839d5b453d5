"""The package outside the Linux backend stays importable and callable on macOS and Windows:
no module-level import of a POSIX-only module, no unguarded use of a POSIX-only function or
signal (read from the source, so that the first push to a Windows runner is not where we
learn it), and the Windows branch of `course watch`'s keys (msvcrt, faked here)."""

from __future__ import annotations

import ast
import io
import sys
import types
from pathlib import Path

import pytest

from tests.helpers import REPO

# The Linux backend: it runs only where grader/backend.py finds Linux's APIs.
LINUX_BACKEND = {
    "grader/zygote.py",
    "grader/confined/sandbox.py",
    "grader/confined/cgroups.py",
    "grader/confined/syscalls.py",
}
POSIX_MODULES = {"fcntl", "termios", "tty", "pty", "pwd", "grp", "resource", "posix"}
WINDOWS_LACKS = {
    "os": {"fork", "forkpty", "getuid", "geteuid", "getgid", "getegid", "getpgid", "setpgid",
           "setsid", "killpg", "mkfifo", "chown", "lchown", "fchown", "sched_getaffinity",
           "getloadavg", "openpty", "pipe2", "WNOHANG"},
    "signal": {"SIGKILL", "SIGHUP", "SIGQUIT", "SIGALRM", "SIGCHLD", "SIGPIPE", "SIGSTOP",
               "SIGCONT", "SIGUSR1", "SIGUSR2", "alarm", "setitimer", "pthread_sigmask",
               "pthread_kill", "SIG_BLOCK", "SIG_UNBLOCK"},
}  # fmt: skip


def package_files() -> list[Path]:
    files = [p for top in ("course", "courseware", "grader") for p in (REPO / top).rglob("*.py")]
    return [p for p in files if p.relative_to(REPO).as_posix() not in LINUX_BACKEND]


def module_level_posix_imports(tree: ast.Module) -> list[tuple[int, str]]:
    """Imports of POSIX-only modules run when the module is imported (not inside a function)."""
    found = []
    for node in tree.body:
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name.partition(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [(node.module or "").partition(".")[0]]
        found += [(node.lineno, name) for name in names if name in POSIX_MODULES]
    return found


def unguarded_uses(tree: ast.Module, source: str) -> list[tuple[int, str]]:
    """`os.fork`, `signal.SIGKILL`... outside `hasattr`/`getattr` and outside an `if` or
    `try` that names the attribute, asks `hasattr` of its module, or `sys.platform`/`os.name`."""
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
            continue
        if node.attr not in WINDOWS_LACKS.get(node.value.id, ()):
            continue
        if not _guarded(node, node.value.id, parents, source):
            found.append((node.lineno, f"{node.value.id}.{node.attr}"))
    return found


def _guarded(node: ast.Attribute, module: str, parents: dict, source: str) -> bool:
    """Whether a guard that the attribute may be missing encloses it."""
    guards = (node.attr, f"hasattr({module},", "sys.platform", "os.name", "AttributeError")
    at: ast.AST = node
    while at in parents:
        at = parents[at]
        if isinstance(at, ast.If | ast.IfExp | ast.Try | ast.Call | ast.With):
            head = at.test if isinstance(at, ast.If | ast.IfExp) else at
            text = ast.get_source_segment(source, head) or ""
            if isinstance(at, ast.Call) and "hasattr" not in text and "getattr" not in text:
                continue
            if isinstance(at, ast.Try):
                text = " ".join(ast.unparse(h.type) for h in at.handlers if h.type)
            if any(guard in text for guard in guards):
                return True
    return False


def audit() -> list[str]:
    problems = []
    for path in package_files():
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source, str(path))
        rel = path.relative_to(REPO).as_posix()
        for line, name in module_level_posix_imports(tree):
            problems.append(f"{rel}:{line}: imports {name} at module level (Windows has none)")
        for line, name in unguarded_uses(tree, source):
            problems.append(f"{rel}:{line}: {name} unguarded (Windows has none)")
    return problems


def test_no_posix_only_api_outside_the_linux_backend():
    assert audit() == []


def test_the_audit_finds_what_it_looks_for():
    source = (
        "import os, signal\nimport fcntl\n\n"
        "def kill(pid):\n    os.killpg(pid, signal.SIGKILL)\n\n"
        "def careful(pid):\n    if hasattr(os, 'killpg'):\n        os.killpg(pid, 9)\n"
        "    return getattr(signal, 'SIGKILL', signal.SIGTERM)\n"
    )
    tree = ast.parse(source)
    assert module_level_posix_imports(tree) == [(2, "fcntl")]
    assert unguarded_uses(tree, source) == [(5, "os.killpg"), (5, "signal.SIGKILL")]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_watch_reads_keys_with_msvcrt_on_windows(monkeypatch):
    from course import watch

    msvcrt = types.SimpleNamespace(getwch=lambda: "q")
    monkeypatch.setitem(sys.modules, "msvcrt", msvcrt)
    monkeypatch.setitem(sys.modules, "termios", None)  # Windows has none: never imported
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(sys, "stdin", Terminal())
    assert watch._key_reader(sys.stdin)() == "q"
    with watch._keys_without_enter():
        pass


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_watch_reads_a_pipe_line_by_line_everywhere(monkeypatch, platform):
    from course import watch

    monkeypatch.setattr(sys, "platform", platform)
    assert watch._key_reader(io.StringIO("n\nq\n"))() == "n\n"
