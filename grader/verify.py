"""`course verify`: prove that the exercises, solutions, checks and corpus agree.

Every solution scores full marks; every starter is "not attempted", and graded as an attempt
scores zero; every mistake in tests/corpus is caught by the check it names, with a message
that names its cause; every correct-but-unusual solution there scores full marks.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from courseware.authoring import content_problems
from courseware.content import Module, edited_starters
from courseware.notebooks import FOLDER as NOTEBOOKS
from courseware.notebooks import file_name, stale
from grader.grade import GradeOptions, grade
from grader.results import NOT_ATTEMPTED, NOT_RUN, PASSED
from grader.zygote import Zygote

DRIFT = (
    "It differs from starters.lock. An author who changed it: run "
    "`course verify --approve-starters`. A learner working in a clone: that is your work, and "
    "verify (an authors' command) reports it; `course reset` puts the starter back."
)
UNLOCKED = (
    "starters.lock has no entry for it yet: once the starter is ready, run `course verify "
    "--approve-starters --exercise {id}`."
)
NOTEBOOK_DRIFT = (
    "{why}. Authors: run `course notebooks --force` and commit notebooks/ (delete a notebook "
    "that no exercise makes)."
)
HEADER = re.compile(r"^# (corpus|catches|says|must not say|expects|needs): (.*)$", re.MULTILINE)
# What a corpus case may need: `# needs: cuda` (or mps), a mistake seen only on that GPU.
NEEDS = {"cuda": "CUDA", "mps": "MPS (an Apple GPU)"}
NOT_HERE = "not checked: it needs {device}, and this machine has none"
NO_CUDA = NOT_HERE.format(device=NEEDS["cuda"])
FULL_MARKS = "full marks"  # the one value of `# expects:`


@dataclass(frozen=True)
class Finding:
    """One verified claim and whether it held."""

    subject: str
    claim: str
    ok: bool
    detail: str = ""
    skipped: str = ""  # why the claim could not be checked on this machine ("": it was)


@dataclass(frozen=True)
class CorpusCase:
    """A file of tests/corpus and what its header says grading it must give."""

    path: Path
    exercise: str
    about: str
    catches: str | None  # the check that must fail (None: a correct solution)
    says: str | None  # a phrase the failure message must contain
    needs: str | None = None  # "cuda" or "mps": the claim holds only where that GPU runs
    must_not_say: tuple[str, ...] = ()  # plausible wrong diagnoses no message may contain
    expects: str | None = None  # "full marks": what a correct case claims, said outright


def corpus(module: Module) -> list[CorpusCase]:
    """Every case of tests/corpus, in order."""
    return [
        read_case(path, ex.id)
        for ex in module.exercises
        for path in sorted(
            case
            for folder in (ex.parts.correct, ex.parts.mistakes)
            for case in (module.root / folder).glob(f"*/{ex.file}")
        )
    ]


def read_case(path: Path, exercise: str) -> CorpusCase:
    """A corpus file and what its header says; `# must not say:` may repeat."""
    found = HEADER.findall(path.read_text("utf-8"))
    fields = dict(found)
    return CorpusCase(
        path,
        exercise,
        fields.get("corpus", ""),
        fields.get("catches"),
        fields.get("says"),
        fields.get("needs"),
        tuple(value.strip() for key, value in found if key == "must not say"),
        fields.get("expects"),
    )


def verify(module: Module, only: tuple[str, ...] = ()) -> Iterator[Finding]:
    """Yield every finding, in order, as it is established; `only` names the exercises to
    prove (all when empty)."""
    yield from validate_findings(module)  # the whole module, whichever exercises are proved
    if only:
        module = replace(module, exercises=tuple(module.exercise(e) for e in only))
    zygote = Zygote.start()
    try:
        yield from starter_findings(module)
        yield from notebook_findings(module, strays=not only)
        yield from _solutions(module, zygote)
        with tempfile.TemporaryDirectory(prefix="course-starters-") as tmp:
            yield from _starters(module, _lay_out_starters(module, Path(tmp)), zygote)
        for case in corpus(module):
            yield check_case(module, case, zygote)
    finally:
        zygote.close()


def validate_findings(module: Module) -> Iterator[Finding]:
    """What `course validate` finds, one finding each: verify is never "All verified" while
    the module is not whole."""
    for problem in content_problems(module):
        where = f"{problem.path}:{problem.line}"
        yield Finding(where, "passes course validate", False, problem.message)


def _solutions(module: Module, zygote: Zygote) -> Iterator[Finding]:
    report = grade(module, module.root / "solutions", zygote=zygote)
    for ex in report.exercises:
        failed = [c.title for c in ex.checks if c.state != PASSED and c.max_score]
        yield Finding(f"solutions/{ex.id}", "scores full marks", ex.complete, "; ".join(failed))


def starter_findings(module: Module) -> Iterator[Finding]:
    """The starters in exercises/ are the approved ones of starters.lock."""
    edited = set(edited_starters(module))
    for ex in module.exercises:
        why = DRIFT if ex.starter.text else UNLOCKED.format(id=ex.id)
        yield Finding(
            f"exercises/{ex.id}/{ex.file}", "is the approved starter", ex not in edited, why
        )


def notebook_findings(module: Module, strays: bool = True) -> Iterator[Finding]:
    """The notebooks committed in notebooks/ (where there is such a folder) are what the
    content makes now; with `strays`, a notebook no exercise makes is reported too."""
    folder = module.root / NOTEBOOKS
    if not folder.is_dir():
        return
    problems = stale(module, folder)
    names = [file_name(ex) for ex in module.exercises]
    names += sorted(set(problems) - set(names)) if strays else []
    for name in names:
        why = problems.get(name, "")
        detail = NOTEBOOK_DRIFT.format(why=why[:1].upper() + why[1:])
        yield Finding(f"{NOTEBOOKS}/{name}", "is current with the content", not why, detail)


def _lay_out_starters(module: Module, folder: Path) -> Path:
    """The approved starters, as a learner gets them, in `folder`."""
    for ex in module.exercises:
        (folder / ex.id).mkdir()
        (folder / ex.id / ex.file).write_text(ex.starter.text, encoding="utf-8")
    return folder


def _starters(module: Module, folder: Path, zygote: Zygote) -> Iterator[Finding]:
    report = grade(module, folder, zygote=zygote)
    for ex in report.exercises:
        yield Finding(f"starter {ex.id}", "is not attempted as shipped", ex.state == NOT_ATTEMPTED)
    attempted = grade(module, folder, GradeOptions(treat_starters_as_attempts=True), zygote)
    for ex in attempted.exercises:
        yield Finding(
            f"starter {ex.id}", "scores zero when graded", ex.score == 0, f"scored {ex.score:g}"
        )


def check_case(module: Module, case: CorpusCase, zygote: Zygote) -> Finding:
    """Grade one corpus file and check its header's claim."""
    subject = str(case.path.relative_to(module.root))
    if problem := _header_problem(case):
        return Finding(subject, "has a header verify can prove", False, problem)
    if case.needs is not None and not _present(case.needs):
        skipped = NOT_HERE.format(device=NEEDS[case.needs])
        return Finding(subject, skipped, True, skipped=skipped)
    report = grade(module, case.path, zygote=zygote)
    (ex,) = report.exercises
    if problem := _message_problem(case, ex.checks):
        return Finding(subject, "gives messages that are short and not misleading", False, problem)
    if case.catches is None:
        wrong = [f"{c.title}: {c.message}" for c in ex.checks if c.state != PASSED and c.max_score]
        return Finding(subject, "scores full marks", ex.complete, "\n".join(wrong))
    target = [c for c in ex.checks if c.name.split("[")[0] == case.catches and c.state != NOT_RUN]
    caught = [c for c in target if c.state != PASSED]
    claim = f"is caught by {case.catches} saying '{case.says}'"
    if not caught:
        return Finding(subject, claim, False, f"{case.catches} passed or did not run")
    says = all(case.says.lower() in c.message.lower() for c in caught)
    advice = all(c.max_score == 0 for c in target)  # a check worth no points: advice only
    return Finding(subject, claim, says and (advice or not ex.complete), caught[0].message)


def _header_problem(case: CorpusCase) -> str:
    """What in a case's header cannot be proved as written ("" if nothing)."""
    if case.needs is not None and case.needs not in NEEDS:
        return f"`# needs:` takes one of {tuple(NEEDS)}"
    if case.expects is not None and (case.expects != FULL_MARKS or case.catches is not None):
        return f"`# expects:` takes only '{FULL_MARKS}', in a case with no `# catches:`"
    if case.catches is not None and not case.says:
        return "`# catches:` needs a `# says:` line: a phrase its message must contain"
    if (case.catches is None) != (case.path.parent.parent.name == "correct"):
        return "a case in mistakes/ has a `# catches:` line; a case in correct/ has none"
    return ""


def _message_problem(case: CorpusCase, checks) -> str:
    """A message longer than the cap, or one that says what the case's header says it must
    not; "" if there is none."""
    from grader.checking import MESSAGE_CAP, MORE  # imports torch: only where grading ran

    for c in checks:
        if len(c.message) > MESSAGE_CAP or c.message.endswith(MORE):
            return f"{c.title}: a message longer than {MESSAGE_CAP} characters:\n{c.message}"
        for phrase in case.must_not_say:
            if phrase.lower() in c.message.lower():
                return f"{c.title} says '{phrase}':\n{c.message}"
    return ""


def _present(device: str) -> bool:
    """Whether this machine has the GPU `device` ("cuda" or "mps")."""
    return _cuda_available() if device == "cuda" else _mps_available()


def _mps_available() -> bool:
    import torch  # here, not at the top: `course --help` never imports torch

    from grader.grade import available_accelerators

    return "mps" in available_accelerators(torch)


def _cuda_available() -> bool:
    import torch  # here, not at the top: `course --help` never imports torch

    return torch.cuda.is_available()
