"""`course export gradescope|classroom`: check the options, write the export, say what to do
with it. What goes into each export is grader/exports.py's; the Classroom template is a
`course init` workspace, so it is laid out here, in the course layer."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import click

from courseware.content import Module, load_module
from courseware.errors import CourseError


def export_gradescope(output: Path, exercises: tuple[str, ...] = ()) -> str:
    """Write the autograder zip and say what to do with it."""
    from course.oserror import os_error
    from course.workspace import check_report_target
    from grader.exports import gradescope_bundle

    check_report_target(output, "-o", (".zip",))
    module = load_module()
    try:
        names = gradescope_bundle(module, output, _torch_version(), exercises)
    except OSError as exc:
        raise CourseError(f"cannot write the autograder: {os_error(exc, output)}") from None
    return GRADESCOPE_DONE.format(output=output, count=len(names))


def export_classroom(output: Path, grader: str, exercises: tuple[str, ...] = ()) -> str:
    """Write a GitHub Classroom template: a learner's workspace, the lesson and quizzes to
    read, its README and the workflow that grades with the grader installed from `grader`.
    It is built beside `output` and renamed into place: a failed export leaves nothing."""
    from course.oserror import os_error
    from grader.exports import CLASSROOM_WORKFLOW, classroom_readme, classroom_workflow

    if not grader.strip() or any(not c.isprintable() for c in grader):
        raise click.BadParameter(BAD_REQUIREMENT, param_hint="'--grader'")
    if grader.strip().startswith(("-", ".", "/", "~", "file:")) or "\\" in grader:
        raise click.BadParameter(LOCAL_REQUIREMENT, param_hint="'--grader'")
    module = load_module()
    files = {
        CLASSROOM_WORKFLOW: classroom_workflow(module, grader, _torch_version(), exercises),
        "README.md": classroom_readme(module, grader),
    }
    try:
        if output.exists() and (not output.is_dir() or any(output.iterdir())):
            raise CourseError(CLASSROOM_NOT_EMPTY.format(output=output))
        output.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=f".{output.name}.", dir=output.parent) as tmp:
            template = Path(tmp) / "template"
            _lay_out_template(module, template, files)
            if output.exists():
                output.rmdir()  # empty, checked above
            template.rename(output)
    except OSError as exc:
        raise CourseError(f"cannot write the template: {os_error(exc, output)}") from None
    return CLASSROOM_DONE.format(output=output, grader=grader)


def _lay_out_template(module: Module, folder: Path, files: dict[str, str]) -> None:
    """The template's files in `folder`: a workspace, the lesson, the quizzes, `files`."""
    from course.workspace import create_workspace
    from courseware.files import write_atomically

    create_workspace(module, folder)
    for name in ("lesson", "quizzes"):
        shutil.copytree(module.root / name, folder / name)
    for rel, text in files.items():
        write_atomically(folder / rel, text)


def _torch_version() -> str:
    from importlib.metadata import version

    return version("torch").split("+")[0]


GRADESCOPE_DONE = (
    "Wrote {output} ({count} files: setup.sh, run_autograder and the course's wheel). Upload it "
    "as the autograder of the assignment."
)
BAD_REQUIREMENT = (
    "give what pip installs the grader from, on one line: a git URL, a wheel's URL or a "
    "package name (it is written into the workflow)."
)
LOCAL_REQUIREMENT = (
    "give a URL or a package index's name, not a path or an option: the workflow runs on "
    "GitHub's machines, where the only files are the learner's, so a path would install what "
    "the learner put there. E.g. git+https://HOST/COURSE@TAG, a wheel's URL, or NAME==VERSION."
)
CLASSROOM_NOT_EMPTY = (
    "{output} already exists and is not empty, so the template is not written there (nothing "
    "in it was touched). Name a new or empty folder with -o DIR."
)
CLASSROOM_DONE = (
    "Wrote the template to {output}. Push it to a repository of your organisation, mark it a "
    "template, and choose it for the assignment. Its workflow installs the grader from "
    "{grader}: keep that location yours, readable by the workflow, and at the version this "
    "template was exported from."
)
