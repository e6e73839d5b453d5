"""The runner's view of the filesystem is an allowlist. A hostile submission tries to read what a
deployed course holds beside it (the course folder's .git, a _site built with solutions, the
references and checks wherever they are installed, a classmate's work, the gradebook) and to
write anywhere on the host; all through the real runner. `plan_view` is tested on its own too."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from grader.confined.sandbox import Limits, Mount, plan_view, runner_paths
from tests.helpers import EX1, REPO, failed_messages, python_world_readable

# Learner code: try each (path, how) of TARGETS, then report what happened, in its message.
ATTEMPTS = """
import json, os
def attempt(path, how):
    try:
        if how == "read":
            with open(path, "rb") as f:
                f.read(16)
        elif how == "list":
            os.listdir(path)
        elif how == "write":  # opened for writing, nothing written: an existing file is kept
            with open(path, "r+b" if os.path.exists(path) else "wb"):
                pass
        return "ok"
    except OSError as exc:
        return type(exc).__name__
SEEN = {path: attempt(path, how) for path, how in TARGETS}
raise RuntimeError("SEEN:" + json.dumps(SEEN))
"""
PRIVATE = ("/tmp/work/mine", "/dev/shm/mine", "/var/tmp/mine")  # the runner's own tmpfs


def seen(messages: str) -> dict[str, str]:
    """What the submission's attempts gave, read back from its error message."""
    found = re.search(r"SEEN:(\{.*?\})", messages.replace("\n    ", ""))
    assert found, messages
    return json.loads(found.group(1))


def attacker(targets: list[tuple[str, str]]) -> str:
    return f"TARGETS = {targets!r}\n" + textwrap.dedent(ATTEMPTS)


@pytest.fixture
def view(zygote):
    """Skip where this machine cannot build the runner's view (batch grading refuses there)."""
    missing = zygote.isolation(Limits())["missing"]
    if missing:
        pytest.skip(f"the runner's view cannot be built here: it lacks {', '.join(missing)}")


@pytest.fixture
def deployed():
    """A course deployed outside /tmp as instructors do: a copy of this course with its .git
    and a _site built with solutions, a class's submissions and the gradebook beside them."""
    base = Path(tempfile.mkdtemp(prefix="course-view-", dir=_outside_tmp()))
    course = base / "course"
    ignore = shutil.ignore_patterns(".git", ".venv", "_site*", "*cache*", "*.egg-info")
    shutil.copytree(REPO, course, ignore=ignore)
    (course / ".git" / "objects").mkdir(parents=True)
    (course / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (course / "_site" / "exercises").mkdir(parents=True)
    (course / "_site" / "exercises" / "solution.html").write_text("REFERENCE")
    for learner in ("alice", "bob"):
        (base / "submissions" / learner).mkdir(parents=True)
    (base / "submissions" / "alice" / "lstm_network.py").write_text("ALICE'S WORK")
    (base / "submissions.gradebook.sqlite").write_text("GRADEBOOK")
    yield base
    shutil.rmtree(base, ignore_errors=True)


def _outside_tmp() -> str:
    return next((d for d in ("/var/lib", "/srv", "/opt") if os.access(d, os.W_OK)), None)


def targets_in(base: Path) -> list[tuple[str, str]]:
    """Everything of a deployed course that the runner must neither read nor write."""
    course, subs = base / "course", base / "submissions"
    secrets = [
        course / ".git" / "HEAD",
        course / "_site" / "exercises" / "solution.html",
        course / "solutions" / EX1 / "lstm_network.py",
        course / "grader" / "checks" / f"check_{EX1}.py",
        course / "course.yaml",
        subs / "alice" / "lstm_network.py",
        base / "submissions.gradebook.sqlite",
        REPO / ".git" / "HEAD",
        REPO / "solutions" / EX1 / "lstm_network.py",
    ]
    installed = [Path(p) / "courseware" / "data" / "solutions" for p in sys.path if p]
    writes = [*secrets[:7], course / "grader" / "new.py", subs / "alice" / "new.py"]
    writes += [Path(p) for p in ("/run/lock/course-pwned", "/var/lock/course-pwned")]
    writes += [REPO / "grader" / "confined" / "runner.py", Path(sys.prefix) / "pwned"]
    return [
        *((str(p), "read") for p in secrets),
        *((str(p), "list") for p in (course, subs, course / "tests" / "corpus", *installed)),
        *((str(p), "write") for p in writes),
        *((p, "write") for p in PRIVATE),
    ]


def snapshot(base: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in base.rglob("*") if p.is_file()}


def grade_as(deployed: Path, user: int | None = None) -> dict:
    """`course grade` of bob's submission in a process of its own (as `user`), with the
    deployed course as COURSE_ROOT; its JSON report."""
    out = deployed / "report.json"
    argv = [sys.executable, "-m", "course", "grade", str(deployed / "submissions" / "bob")]
    argv += ["--json", str(out)]
    if user is not None:
        argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *argv]
    env = {**os.environ, "HOME": str(deployed), "COURSE_ROOT": str(deployed / "course")}
    run = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=env)
    assert out.exists(), run.stdout + run.stderr
    report = json.loads(out.read_text())
    out.unlink()
    return report


def test_a_submission_sees_nothing_of_the_course_the_class_or_the_host(view, deployed):
    targets = targets_in(deployed)
    (deployed / "submissions" / "bob" / "lstm_network.py").write_text(attacker(targets))
    before = snapshot(deployed)
    report = grade_as(deployed)
    outcome = seen(" ".join(t["output"] for t in report["tests"]))
    assert {p: outcome[p] for p in PRIVATE} == dict.fromkeys(PRIVATE, "ok")  # it did run
    assert {p: r for p, r in outcome.items() if r == "ok" and p not in PRIVATE} == {}
    assert snapshot(deployed) == before
    for place in ("/run/lock/course-pwned", "/var/lock/course-pwned", *PRIVATE[1:]):
        assert not os.path.exists(place)


def test_the_root_holds_only_what_the_runner_needs(view, grade_source):
    """Listed from inside: the system's folders, /proc, /dev, private /tmp and /var/tmp, and
    the folders on the way to Python and the grader; nothing else of the host."""
    source = (
        "import os\nSEEN = {p: sorted(os.listdir(p)) for p in ('/', '/dev', '/etc', '/tmp')}\n"
        'raise RuntimeError("SEEN:" + __import__("json").dumps(SEEN))\n'
    )
    listed = seen(failed_messages(grade_source(EX1, source)))
    ways = {Path(p).parts[1] for p in runner_paths()}
    assert set(listed["/"]) <= {*ways, "usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32",
                                "etc", "dev", "proc", "tmp", "var"}  # fmt: skip
    assert set(listed["/etc"]) <= {"ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime"}
    assert set(listed["/dev"]) <= {"null", "zero", "full", "random", "urandom", "shm", "fd",
                                   "stdin", "stdout", "stderr"}  # fmt: skip
    under_tmp = {Path(p).parts[2] for p in runner_paths() if p.startswith("/tmp/")}
    assert "work" in listed["/tmp"] and set(listed["/tmp"]) <= {"work", *under_tmp}


def test_references_installed_in_site_packages_stay_hidden(view, tmp_path):
    """A wheel puts the references and checks in site-packages/courseware/data, a folder the
    runner must see (it holds torch): they are hidden there, the rest of it is not."""
    venv = Path(tempfile.mkdtemp(prefix="course-venv-", dir=_outside_tmp()))
    try:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        (site,) = venv.glob("lib/python*/site-packages")
        torch_site = Path(__import__("torch").__file__).parents[1]
        (site / "deps.pth").write_text(f"{torch_site}\n{REPO}\n")
        data = site / "courseware" / "data"
        shutil.copytree(REPO / "solutions", data / "solutions")
        shutil.copytree(REPO / "grader" / "checks", data / "grader" / "checks")
        installed = data / "solutions" / EX1 / "lstm_network.py"
        check = data / "grader" / "checks" / f"check_{EX1}.py"
        targets = [(str(installed), "read"), (str(check), "read"), (str(site / "deps.pth"), "read")]
        learner = tmp_path / "lstm_network.py"
        learner.write_text(attacker(targets))
        out = tmp_path / "report.json"
        argv = [str(venv / "bin" / "python"), "-m", "course", "grade", str(learner)]
        argv += ["--json", str(out)]
        run = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        assert out.exists(), run.stdout + run.stderr
        report = json.loads(out.read_text())
    finally:
        shutil.rmtree(venv, ignore_errors=True)
    outcome = seen(" ".join(t["output"] for t in report["tests"]))
    assert outcome == {str(installed): "FileNotFoundError", str(check): "FileNotFoundError",
                       str(site / "deps.pth"): "ok"}  # fmt: skip


@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv") or not python_world_readable(),
    reason="needs root to switch to an ordinary user, and a Python that user can read (on "
    "these machines it lives under /root, mode 700; run once by hand with /root at 711)",
)
def test_as_an_ordinary_user_nothing_the_user_may_write_is_writable(deployed):
    """An instructor without root: the runner is that user (in a user namespace, without
    capabilities), so the files that user owns (the course, the class, the gradebook) are
    protected by the view alone: nothing of them shown, everything shown read-only."""
    nobody = 65534
    (deployed / "submissions" / "bob" / "lstm_network.py").write_text(
        attacker(targets_in(deployed))
    )
    for path in [deployed, *deployed.rglob("*")]:
        os.chown(path, nobody, nobody)
    before = snapshot(deployed)
    report = grade_as(deployed, user=nobody)
    assert report["isolation"]["user_namespace"] and report["isolation"]["missing"] == []
    outcome = seen(" ".join(t["output"] for t in report["tests"]))
    assert {p: r for p, r in outcome.items() if r == "ok" and p not in PRIVATE} == {}
    assert snapshot(deployed) == before


# ------------------------------------------------------------------ the plan, on its own


def steps_at(steps: list[Mount]) -> dict[str, str]:
    return {m.path: m.kind for m in steps}


def test_the_course_folder_on_sys_path_is_hidden_and_python_inside_it_shown_again(tmp_path):
    """An editable install puts the course folder itself on sys.path, with a .venv inside."""
    course = tmp_path / "course"
    site = course / ".venv" / "lib" / "site-packages"
    runner = course / "grader" / "confined" / "runner.py"
    site.mkdir(parents=True)
    runner.parent.mkdir(parents=True)
    runner.write_text("")
    (course / ".git").mkdir()
    steps = steps_at(plan_view([str(course), str(site), str(runner)], [str(course)], False))
    assert str(course) not in steps  # neither bound nor needing a hide
    assert steps[str(site)] == steps[str(runner)] == "bind"
    assert not any(p.startswith(str(course / ".git")) for p in steps)


def test_the_content_package_is_hidden_wherever_a_shown_folder_holds_it(tmp_path):
    site = tmp_path / "site-packages"
    (site / "courseware" / "data" / "solutions").mkdir(parents=True)
    (site / "torch").mkdir()
    steps = steps_at(plan_view([str(site)], [], False))
    assert steps[str(site)] == "bind" and steps[str(site / "courseware")] == "hide"


def test_a_hidden_folder_reached_through_a_link_is_hidden_where_it_shows(tmp_path):
    real = tmp_path / "real"
    (real / "secret").mkdir(parents=True)
    shown = tmp_path / "shown"
    shown.symlink_to(real)
    steps = steps_at(plan_view([str(shown)], [str(real / "secret")], False))
    assert steps[str(shown)] == "bind" and steps[str(shown / "secret")] == "hide"


def test_python_under_tmp_is_shown_above_the_private_tmp():
    """A CI clone under /tmp: its .venv is bound again on top of the runner's own /tmp, on a
    read-only scaffold (the runner may not write beside its Python)."""
    steps = plan_view(["/tmp/ci/.venv/lib/site-packages"], [], False)
    order = [m.path for m in steps]
    assert order.index("/tmp") < order.index("/tmp/ci") < order.index(order[-1])
    assert order[-1] == "/tmp/ci/.venv/lib/site-packages"
    assert steps_at(steps)["/tmp"] == "tmpfs" and steps_at(steps)["/tmp/ci"] == "scaffold"


def test_a_solution_graded_with_isolation_required_gets_full_marks(view, module, zygote):
    """Batch grading requires every level: where the view can be built, nothing is refused."""
    from grader.grade import GradeOptions, grade

    options = GradeOptions(require_isolation=True)
    (graded,) = grade(module, module.exercise(EX1).solution, options, zygote=zygote).exercises
    assert graded.complete and graded.isolation["missing"] == []


def test_batch_grading_stops_where_a_level_is_missing(zygote):
    """Where the kernel refuses namespaces (simulated: a runner asked for none), a class is
    not graded: exit 2, naming what is missing and the flag that grades anyway."""
    from grader.grade import IsolationMissing, require_isolation

    isolation = zygote.isolation(Limits(), namespaces=False)
    with pytest.raises(IsolationMissing) as refused:
        require_isolation(isolation)
    assert refused.value.exit_code == 2
    for words in ("a network namespace", "the allowlist filesystem view", "--unsafe-no-isolation"):
        assert words in refused.value.message
