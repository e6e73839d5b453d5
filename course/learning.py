"""The learner's loop around a grade: which workspace is theirs, what to remember of a grade,
the hint ladder, and the bodies of `course init`, `course reset` and `course progress`."""

from __future__ import annotations

import json
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

import click

from course import state
from course.workspace import (
    Workspace,
    create_workspace,
    default_folder,
    display,
    find_workspace,
    require_workspace,
    reset_exercise,
    state_of_file,
    upgrade_workspace,
)
from courseware.content import PACKAGED, Exercise, Module, load_module
from courseware.errors import EXIT_FAILED, CourseError


def learner_workspace(module: Module) -> Workspace | None:
    """The workspace around the current folder, else the course folder itself when it is a
    clone (COURSE_ROOT, or the checkout of an editable install); never the installed content."""
    found = find_workspace()
    if found is not None:
        return found
    root = module.root
    if (root / "exercises").is_dir() and PACKAGED not in (root, *root.parents):
        return Workspace(root.resolve(), "clone")
    return None


def default_target(module: Module) -> Path:
    workspace = learner_workspace(module)
    if workspace is None:
        require_workspace()  # raises the message that says what to do
    if (problem := workspace.problem()) is not None:
        what = RESTORE_INIT if workspace.kind == "init" else RESTORE_CLONE
        raise CourseError(
            NO_EXERCISES.format(folder=workspace.exercises, problem=problem, what=what)
        )
    return workspace.exercises


def fingerprints(module: Module, workspace: Workspace | None) -> dict[str, str | None]:
    """Each exercise file's fingerprint in `workspace`, taken before grading it."""
    if workspace is None:
        return {}
    return {ex.id: state_of_file(workspace, ex)[1] for ex in module.exercises}


def remember(module: Module, workspace: Workspace | None, target: Path, report, before) -> None:
    """Record the grade of each of the workspace's own files that `report` graded; copies
    elsewhere (solutions/, a batch, a file outside the workspace) are not the learner's."""
    if workspace is None:
        return
    graded = []
    for result in report.exercises:
        ex = module.exercise(result.id)
        if _covers(target, workspace.file(ex)):
            fingerprint, failing = before.get(ex.id), first_failing(result)
            graded.append(
                state.Grade(
                    ex.id, fingerprint, result.state, result.score, result.max_score, failing
                )
            )
    if graded:
        try:
            state.record_grades(workspace.key, graded)
        except CourseError as exc:  # the grade stands; only `course progress` misses it
            click.echo(f"Warning: {exc.format_message()}", err=True)


def _covers(target: Path, file: Path) -> bool:
    target, file = target.resolve(), file.resolve()
    return file == target or target in file.parents


@dataclass(frozen=True)
class Failing:
    """An exercise not yet passing, and the first check it fails (None: none ran, or the
    check is not known)."""

    exercise: str
    check: str | None


def first_failing(result) -> str | None:
    """The name of the first check that `result` fails, without its device (test_x[cpu]);
    None when none failed, or the grader itself failed on one (then the grade may not stand)."""
    from grader.results import ERROR, FAILED

    if any(c.state == ERROR for c in result.checks):
        return None
    failed = (c.name for c in result.checks if c.state == FAILED)
    return next((name.split("[", 1)[0] for name in failed), None)


def failing_of(report, plan: HintPlan | None) -> list[Failing]:
    """The exercises that get hints: those `report` graded and found not passing (and an
    untouched one graded alone), then those whose last grade stands in `plan`."""
    alone = plan.alone if plan else report is not None and len(report.exercises) == 1
    graded = [
        Failing(r.id, first_failing(r))
        for r in (report.exercises if report else ())
        if not r.complete and (r.state == "graded" or alone)
    ]
    failing = graded + (plan.failing() if plan else [])
    if failing:
        return failing
    # Nothing started is failing: the next exercise to start gets its first hint.
    untouched = plan.untouched if plan else [r.id for r in report.exercises if not r.complete]
    return [Failing(untouched[0], None)] if untouched else []


def hints_text(module: Module, workspace: Workspace | None, failing: list, everything: bool) -> str:
    """The next unseen hint of each exercise in `failing` (the whole ladder with
    `everything`): first those of its first failing check, then the rest of the ladder."""
    key = workspace.key if workspace else state.GLOBAL
    blocks = []
    for f in failing:
        ex = module.exercise(f.exercise)
        if everything:
            ladder = [hint_block(ex, i) for i in range(len(ex.hints))]
            blocks.append("\n".join(ladder))
        else:
            blocks.append(next_hint(ex, key, f.check))
    return "\n\n".join(blocks) or NO_HINTS


def next_hint(ex: Exercise, key: str, check: str | None) -> str:
    """The next hint of `ex` not yet seen, for its failing `check`, now marked seen."""
    shown = state.next_hint(key, ex.id, ex.hint_order(check))
    if shown is None:
        return ALL_SEEN.format(id=ex.id, n=len(ex.hints))
    return hint_block(ex, shown)


def hint_block(ex: Exercise, index: int) -> str:
    """Hint `index` (0-based) of the ladder of `ex`, wrapped to the terminal."""
    width = min(shutil.get_terminal_size((100, 24)).columns, 100) - 4
    text = ex.hints[index]
    body = textwrap.fill(text, width, initial_indent="    ", subsequent_indent="    ")
    n, of = index + 1, len(ex.hints)
    last = " (the last one: nearly the answer)" if n == of else ""
    return f"Hint {n} of {of} for {ex.id}{last}:\n{body}"


@dataclass(frozen=True)
class HintPlan:
    """How `course grade --hints` answers in a workspace: grade only the exercises whose file
    changed since their last grade; an unchanged file's last grade stands, and so does the
    failing check that its hint follows."""

    module: Module
    workspace: Workspace
    target: Path
    grade: tuple[str, ...]  # exercise ids to grade now
    standing: tuple[state.Grade, ...]  # unchanged since their last grade
    untouched: tuple[str, ...]  # still the starter (or missing), not graded alone
    alone: bool  # one exercise asked for: an untouched one gets its first hint

    def failing(self) -> list[Failing]:
        """The exercises that stand without a grade now and get hints."""
        return [Failing(g.exercise, g.failing) for g in self.standing if not g.complete]

    def all_passed(self) -> bool:
        return not self.untouched and all(g.complete for g in self.standing)


def hint_plan(path: Path | None, wanted: tuple[str, ...]) -> HintPlan | None:
    """The plan for `course grade [PATH] --hints`, or None where last grades cannot help:
    no workspace, a PATH that is not its exercises/ (or one exercise's folder or file of
    it), or progress that cannot be read."""
    module = load_module()
    workspace = learner_workspace(module)
    if workspace is None:
        return None
    target = path or default_target(module)
    covered = _covered(module, workspace, target, wanted)
    if not covered:
        return None
    try:
        grades = state.last_grades(workspace.key, {ex.id: ex.points for ex in module.exercises})
    except CourseError:  # the grade goes on, and the hints say why they wait
        return None
    alone = len(covered) == 1
    grade, standing, untouched = [], [], []
    for ex in covered:
        kind, fingerprint = state_of_file(workspace, ex)
        last = grades.get(ex.id)
        if kind in ("starter", "missing") and not alone:
            untouched.append(ex.id)
        elif kind == "edited" and _stands(last, fingerprint):
            standing.append(last)
        else:
            grade.append(ex.id)
    return HintPlan(
        module, workspace, target, tuple(grade), tuple(standing), tuple(untouched), alone
    )


def _covered(
    module: Module, workspace: Workspace, target: Path, wanted: tuple[str, ...]
) -> list[Exercise]:
    """The exercises `target` names in `workspace` (its exercises/, or one exercise's folder
    or file), of those `wanted`; none for any other target."""
    try:
        real = target.resolve()
        folders = {workspace.exercises.resolve(): None}
        for ex in module.exercises:
            folders[workspace.file(ex).parent.resolve()] = ex
            folders[workspace.file(ex).resolve()] = ex
    except (OSError, RuntimeError):
        return []
    if real not in folders:
        return []
    named = [module.exercise(e).id for e in wanted]
    only = folders[real]
    return [
        ex
        for ex in module.exercises
        if (only is None or ex is only) and (not named or ex.id in named)
    ]


def _stands(last: state.Grade | None, fingerprint: str | None) -> bool:
    """Whether the last grade is of the file as it is, and says enough for a hint."""
    if last is None or last.state != "graded" or last.fingerprint != fingerprint:
        return False
    return last.complete or last.failing is not None


def standing_text(plan: HintPlan) -> str:
    """The exercises not graded again, in the module's order, each with why (empty when
    every exercise was graded)."""
    said = {g.exercise: _standing(g) for g in plan.standing}
    said |= {ex_id: "not attempted" for ex_id in plan.untouched}
    lines = [f"  {ex.id:<26} {said[ex.id]}" for ex in plan.module.exercises if ex.id in said]
    return "\n".join([STANDING, *lines]) if lines else ""


def plan_total(plan: HintPlan, report) -> str:
    """The total line of `course grade --hints` where some exercises were not graded again:
    what was graded now, plus the last grade of each unchanged file (an untouched one is 0)."""
    score = (report.score if report else 0) + sum(g.score for g in plan.standing)
    ids = {*plan.grade, *(g.exercise for g in plan.standing), *plan.untouched}
    top = sum(ex.points for ex in plan.module.exercises if ex.id in ids)
    return f"Total: {score:g}/{top:g}   (unchanged files count their last grade)"


def _standing(grade: state.Grade) -> str:
    done = ", done" if grade.complete else ""
    return f"{grade.score:g}/{grade.max_score:g}{done}: unchanged since its last grade"


def init(folder: Path | None, upgrade: bool) -> str:
    module = load_module()
    if upgrade:
        if folder is not None:
            raise click.UsageError("--upgrade works on the workspace you are in; give no FOLDER.")
        workspace = require_workspace()
        done = upgrade_workspace(module, workspace)
        changed = [line for line in done if line.startswith(("added", "updated"))]
        skipped = [line for line in done if line.startswith("skipped")]
        summary = f"{len(changed)} file(s) added or updated" if changed else "Nothing to update"
        where = "this workspace" if display(workspace.root) == "." else display(workspace.root)
        text = "\n".join([*done, f"{summary} in {where}."])
        if skipped:  # the upgrade is not complete: say so, and exit 1
            click.echo(text)
            click.echo(SKIPPED.format(n=len(skipped)), err=True)
            raise SystemExit(EXIT_FAILED)
        return text
    folder = folder or default_folder()
    try:
        outer = _outer_workspace(folder)
        if outer is not None:
            then = NESTED_INIT if outer.kind == "init" else NESTED_CLONE
            raise CourseError(NESTED.format(folder=folder, outer=outer.root, then=then))
        existed = folder.is_dir()
    except OSError as exc:
        raise CourseError(cannot_write(exc, folder)) from None
    try:
        workspace = create_workspace(module, folder)
    except OSError as exc:  # take back the half-made workspace: every file in it is ours
        _take_back(folder, existed)
        raise CourseError(cannot_write(exc, folder)) from None
    first = module.exercises[0]
    return INIT_DONE.format(
        folder=shell_word(display(workspace.root)),
        count=len(module.exercises),
        statement=f"exercises/{first.id}/README.md",
    )


def _outer_workspace(folder: Path) -> Workspace | None:
    """The workspace that `folder` would be inside, if any (a workspace in a workspace makes
    `course grade` there find every exercise file twice)."""
    parent = folder.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return find_workspace(parent)


def _take_back(folder: Path, existed: bool) -> None:
    """Remove what a failed `course init` wrote into `folder` (missing or empty before it)."""
    import contextlib

    with contextlib.suppress(OSError):
        if not existed:
            shutil.rmtree(folder)
            return
        for child in folder.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()


def cannot_write(exc: OSError, path: Path) -> str:
    """The message of a write that failed, with what to do about it."""
    from course.oserror import os_error

    return f"cannot write {os_error(exc, exc.filename or path)} Nothing of yours was lost."


def shell_word(text: str) -> str:
    """`text` as one word a shell takes back (quoted when it must be), with no control
    characters that a terminal would act on."""
    import shlex

    return shlex.quote("".join(c if c.isprintable() else "?" for c in text))


def reset(exercise_id: str, yes: bool) -> str:
    module = load_module()
    workspace = learner_workspace(module) or require_workspace()
    ex = module.exercise(exercise_id)
    path = workspace.file(ex)
    try:
        workspace.confined(path)  # before any question: never through a link out of it
    except OSError as exc:
        raise CourseError(cannot_write(exc, path)) from None
    kind, _ = state_of_file(workspace, ex)
    if kind == "starter":
        return f"{display(path)} is already the starter; nothing to do."
    if not yes:
        question = f"Put the starter back in place of {display(path)}?"
        try:
            agreed = click.confirm(question)
        except click.Abort:  # the input ended (closed, or not a terminal) before an answer
            raise CourseError(NO_ANSWER.format(id=ex.id)) from None
        if not agreed:
            click.echo(DECLINED.format(path=display(path)), err=True)
            raise SystemExit(EXIT_FAILED)
    try:
        backup = reset_exercise(workspace, ex, state.backups_dir(workspace.key))
    except OSError as exc:
        raise CourseError(cannot_write(exc, path)) from None
    kept = f" Your version is kept in {backup}." if backup else ""
    return f"{display(path)} is the starter again.{kept}"


def show_progress(as_json: bool) -> str:
    from course.progress import as_json as to_json
    from course.progress import progress, table

    module = load_module()
    workspace = learner_workspace(module) or require_workspace()
    p = progress(module, workspace)
    return json.dumps(to_json(p), indent=2) if as_json else table(p)


STANDING = "Not graded again (`course grade` grades every exercise and shows every check):"
ALL_SEEN = (
    "You have seen all {n} hints of {id}; `course grade --all-hints` shows them again, and "
    "the statement's README.md says more."
)
NESTED = (
    "{folder} would be inside the workspace {outer}, where `course grade` would find each "
    "exercise file twice.\nMake the new workspace elsewhere (`course init ~/my-workspace`); {then}"
)
NESTED_INIT = "to bring the one you are in up to date, run `course init --upgrade` in it."
NESTED_CLONE = "or, in this clone of the course, work in its own exercises/ folder."
NO_EXERCISES = "{folder} {problem}, so there are no exercises to grade: {what}."
RESTORE_INIT = (
    "move away what is in its place, if anything, then `course init --upgrade` lays the "
    "exercises out again (and keeps every file you edited)"
)
RESTORE_CLONE = (
    "move away what is in its place, if anything, then `git checkout -- exercises` in your "
    "clone brings them back"
)
NO_ANSWER = (
    "no answer to the question (the input is not a terminal, or it ended), so nothing was "
    "changed. Run `course reset {id} --yes` to reset without being asked."
)
DECLINED = "{path} was left as it is."
SKIPPED = (
    "{n} file(s) could not be read and were left as they are (see above): make each a regular "
    "file you can read, or move it away, then run `course init --upgrade` again."
)
NO_HINTS = "No hint to show: every exercise graded here passes."
INIT_DONE = """\
Made a workspace with {count} exercises in {folder}.
Next:
    cd {folder}
    course build        # the lesson, then open _site/index.html
    course watch        # grades each exercise again every time you save
Start with {statement}."""
