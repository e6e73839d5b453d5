"""The learner's loop around a grade: which workspace is theirs, what to remember of a grade,
the hint ladder, and the bodies of `course init`, `course reset` and `course progress`."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import click

from course import state
from course.workspace import (
    DEFAULT_FOLDER,
    Workspace,
    create_workspace,
    display,
    find_workspace,
    require_workspace,
    reset_exercise,
    state_of_file,
    upgrade_workspace,
)
from courseware.content import PACKAGED, Module, load_module
from courseware.errors import EXIT_FAILED, CourseError


def learner_workspace(module: Module) -> Workspace | None:
    """The workspace around the current folder, else the course folder itself when it is a
    clone (COURSE_ROOT, or the checkout of an editable install); never the installed content."""
    found = find_workspace()
    if found is not None:
        return found
    root = module.root
    if (root / "exercises").is_dir() and PACKAGED not in (root, *root.parents):
        return Workspace(root, "clone")
    return None


def default_target(module: Module) -> Path:
    workspace = learner_workspace(module)
    if workspace is None:
        require_workspace()  # raises the message that says what to do
    if not workspace.exercises.is_dir():
        raise CourseError(NO_EXERCISES.format(folder=workspace.exercises, what=_restore(workspace)))
    return workspace.exercises


def _restore(workspace: Workspace) -> str:
    if workspace.kind == "init":
        return "`course init --upgrade` lays them out again (and keeps every file you edited)"
    return "`git checkout -- exercises` in your clone brings them back"


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
            graded.append(
                state.Grade(ex.id, before.get(ex.id), result.state, result.score, result.max_score)
            )
    if graded:
        try:
            state.record_grades(workspace.key, graded)
        except CourseError as exc:  # the grade stands; only `course progress` misses it
            click.echo(f"Warning: {exc.format_message()}", err=True)


def _covers(target: Path, file: Path) -> bool:
    target, file = target.resolve(), file.resolve()
    return file == target or target in file.parents


def hints_text(module: Module, workspace: Workspace | None, report, everything: bool) -> str:
    """The next unseen hint of each exercise not yet passing (the whole ladder with
    `everything`). Untouched exercises get hints only when graded alone."""
    key = workspace.key if workspace else state.GLOBAL
    alone = len(report.exercises) == 1
    blocks = []
    for result in report.exercises:
        if result.complete or (result.state != "graded" and not alone):
            continue
        hints = module.exercise(result.id).hints
        if everything:
            ladder = [hint_block(result.id, n, len(hints), h) for n, h in enumerate(hints, 1)]
            blocks.append("\n".join(ladder))
        elif (shown := state.next_hint(key, result.id, hints)) is not None:
            blocks.append(hint_block(result.id, shown[0], len(hints), shown[1]))
        else:
            blocks.append(ALL_SEEN.format(id=result.id, n=len(hints)))
    return "\n\n".join(blocks) or NO_HINTS


def hint_block(exercise: str, n: int, of: int, text: str) -> str:
    width = min(shutil.get_terminal_size((100, 24)).columns, 100) - 4
    body = textwrap.fill(text, width, initial_indent="    ", subsequent_indent="    ")
    last = " (the last one: nearly the answer)" if n == of else ""
    return f"Hint {n} of {of} for {exercise}{last}:\n{body}"


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
    folder = folder or Path(DEFAULT_FOLDER)
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


ALL_SEEN = (
    "You have seen all {n} hints of {id}; `course grade --all-hints` shows them again, and "
    "the statement's README.md says more."
)
NESTED = (
    "{folder} would be inside the workspace {outer}, where `course grade` would find each "
    "exercise file twice.\nMake the new workspace elsewhere (`course init ~/lstm-course`); {then}"
)
NESTED_INIT = "to bring the one you are in up to date, run `course init --upgrade` in it."
NESTED_CLONE = "or, in this clone of the course, work in its own exercises/ folder."
NO_EXERCISES = "{folder} does not exist, so there is nothing to grade: {what}."
NO_ANSWER = (
    "no answer to the question (the input is not a terminal, or it ended), so nothing was "
    "changed. Run `course reset {id} --yes` to reset without being asked."
)
DECLINED = "{path} was left as it is."
SKIPPED = (
    "{n} file(s) could not be read and were left as they are (see above): make each a regular "
    "file you can read, or move it away, then run `course init --upgrade` again."
)
NO_HINTS = (
    "No hint to show: every exercise graded passes. An exercise you have not started gets its "
    "hints when you grade it alone: `course grade exercises/ID --hints`."
)
INIT_DONE = """\
Made a workspace with {count} exercises in {folder}.
Next:
    cd {folder}
    course build        # the lesson, then open _site/index.html
    course watch        # grades each exercise again every time you save
Start with {statement}."""
