"""The learner's workspace: the folder that holds their copies of the exercise files.

Two kinds: a clone of the course repository (its own exercises/, edited in place) and a folder
made by `course init` (found by its marker file, like git finds `.git`). The course content
itself always comes from the content layer; a workspace only ever holds the learner's work.
"""

from __future__ import annotations

import errno
import itertools
import json
import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import click

from courseware import distribution
from courseware.content import MANIFEST, Exercise, Module
from courseware.errors import CourseError
from courseware.files import read_learner_file, write_atomically
from courseware.starters import fingerprint, is_starter, normal

MARKER = ".course-workspace"
MARKER_FORMAT = 1
MAX_LOOKED = 1000  # entries of a folder looked at for a workspace inside it
MAX_MARKER = 256 << 10  # a few hundred bytes per exercise: anything larger is not ours
FINGERPRINT = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Workspace:
    """Where a learner works: `root/exercises/ID/FILE` for every exercise."""

    root: Path  # its real path (resolved)
    kind: str  # "clone" (the course repository) or "init" (made by `course init`)

    @property
    def exercises(self) -> Path:
        return self.root / "exercises"

    @property
    def key(self) -> str:
        """How the data folder tells this workspace from others."""
        return str(self.root)

    def file(self, ex: Exercise) -> Path:
        return self.exercises / ex.id / ex.file

    def confined(self, path: Path) -> Path:
        """Where `path` (under this workspace) really is, through any link on the way to it:
        the real folder holding it, joined with its name. A write there replaces the file or
        link named, never what a last link points at. Raises OutsideWorkspace when a link
        leads out of the workspace, and OSError for a loop."""
        if not self._links_on_the_way(path):
            return path
        try:
            folder = path.parent.resolve()
        except RuntimeError:  # a loop of links (Python before 3.13)
            raise OSError(errno.ELOOP, "a loop of links", str(path)) from None
        if folder != self.root and self.root not in folder.parents:
            raise OutsideWorkspace(self._outside(path, folder))
        return folder / path.name

    def _links_on_the_way(self, path: Path) -> bool:
        """Whether a folder between the root and `path` may lead elsewhere (a link, or `..`);
        a few lstat calls, so that watch can ask every tenth of a second."""
        here = str(self.root)
        for part in path.parent.relative_to(self.root).parts:
            here = os.path.join(here, part)
            if part == ".." or os.path.islink(here):
                return True
        return False

    def _outside(self, path: Path, real: Path) -> str:
        """The message for `path`, whose folder is really `real`, outside the workspace."""
        from grader.sanitize import clean

        link = next(
            (p for p in reversed(path.parents) if self.root in p.parents and p.is_symlink()),
            path.parent,
        )
        return clean(OUTSIDE.format(link=display(link), real=real, root=self.root))

    def problem(self) -> str | None:
        """What is wrong with this workspace's exercises/ folder, in a few words, if anything:
        missing, not a folder, or a link out of the workspace."""
        try:
            self.confined(self.exercises / "x")
            if not self.exercises.is_dir():
                return "is a file, not a folder" if self.exercises.exists() else "does not exist"
        except OutsideWorkspace:
            return "is a link to a folder outside this workspace"
        except OSError as exc:
            return f"cannot be read ({exc.strerror or exc})"
        return None


class OutsideWorkspace(CourseError):
    """A path of the workspace leads out of it through a link: nothing is read or written
    there."""


def find_workspace(start: Path | None = None) -> Workspace | None:
    """The nearest workspace at or above `start` (default: the current folder)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MARKER).is_file():
            return Workspace(folder, "init")
        if (folder / MANIFEST).is_file() and (folder / "exercises").is_dir():
            return Workspace(folder, "clone")
    return None


def require_workspace(start: Path | None = None) -> Workspace:
    """The workspace at or above `start`, or an error that says where to go."""
    workspace = find_workspace(start)
    if workspace is None:
        here = (start or Path.cwd()).resolve()
        below = workspaces_below(here)
        if below:
            cd = shlex.quote(below[0])
            raise CourseError(WORKSPACE_BELOW.format(cwd=here, name=cd, all=", ".join(below)))
        raise CourseError(NO_WORKSPACE.format(cwd=here))
    return workspace


def workspaces_below(folder: Path) -> list[str]:
    """The names of the workspaces just inside `folder` (where `course init` put one and the
    learner did not cd into it), sorted; at most MAX_LOOKED entries are looked at."""
    try:
        entries = list(itertools.islice(folder.iterdir(), MAX_LOOKED))
    except OSError:
        return []
    return sorted(e.name for e in entries if _holds_marker(e))


def _holds_marker(folder: Path) -> bool:
    """A folder (not a link) with a workspace marker; one that cannot be read holds none."""
    try:
        return not folder.is_symlink() and (folder / MARKER).is_file()
    except OSError:
        return False


def state_of_file(workspace: Workspace, ex: Exercise) -> tuple[str, str | None]:
    """("missing" | "starter" | "edited" | "unreadable", the file's fingerprint or None)."""
    try:
        data = read_learner_file(workspace.confined(workspace.file(ex)))
    except FileNotFoundError:
        return "missing", None
    except (OSError, OutsideWorkspace):
        return "unreadable", None
    if is_starter(data, ex.starter):
        return "starter", fingerprint(ex.starter.text)
    return "edited", fingerprint(data.decode("utf-8", "replace"))


def check_report_target(path: Path, option: str, suffixes: tuple[str, ...]) -> None:
    """Refuse, before any work, to write a report over a file that is not one: an existing
    file is replaced only when its name ends in one of `suffixes` (so that `--json
    solution.py`, typed for a flag, never turns the learner's code into a report)."""
    try:
        exists = path.exists() or path.is_symlink()
    except OSError:
        return  # the write itself will say what is wrong
    if exists and path.suffix.lower() not in suffixes:
        raise click.BadParameter(
            CLOBBER.format(path=path, suffixes=" or ".join(suffixes), example=suffixes[0]),
            param_hint=f"'{option}'",
        )


# ---------------------------------------------------------------- course init


def create_workspace(module: Module, folder: Path) -> Workspace:
    """Lay out a new workspace in `folder`, which must be missing or empty."""
    if folder.exists() and not folder.is_dir():
        raise CourseError(NOT_A_FOLDER.format(folder=folder))
    if folder.exists() and any(folder.iterdir()):
        raise CourseError(NOT_EMPTY.format(folder=folder))
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for ex in module.exercises:
        written.update(_lay_out(module, folder, ex))
    write_atomically(folder / "README.md", workspace_readme(module))
    write_atomically(folder / ".gitignore", "_site/\n")
    _write_marker(module, folder, written)
    return Workspace(folder.resolve(), "init")


def default_folder() -> Path:
    """Where `course init` makes the workspace without a FOLDER: the course's installed name."""
    return Path(distribution.name())


def workspace_readme(module: Module) -> str:
    """The workspace's README.md, pointing at this module's first exercise."""
    first = module.exercises[0]
    return WORKSPACE_README.format(title=module.info.title, id=first.id, file=first.file)


def upgrade_workspace(module: Module, workspace: Workspace) -> list[str]:
    """Bring new exercises and statements from this package into an `init` workspace; replace
    what the learner never touched; never touch an edited file, nor write through a link out
    of the workspace (then nothing at all is written). A damaged marker is rebuilt, keeping
    every file that differs from this version. Returns what was done."""
    if workspace.kind != "init":
        raise CourseError(UPGRADE_CLONE)
    files = {rel: text for ex in module.exercises for rel, text in _files_of(module, ex).items()}
    try:
        places = {rel: workspace.confined(workspace.root / rel) for rel in files}
    except OSError as exc:
        from course.oserror import os_error

        raise CourseError(CANNOT_REACH.format(error=os_error(exc))) from None
    recorded, damage = _recorded_files(workspace, files)
    done = [REBUILT.format(marker=MARKER, why=damage)] if damage else []
    written = {}
    for rel, text in files.items():
        path, new = places[rel], fingerprint(text)
        current = _fingerprint_of(path)
        if current == new:
            written[rel] = new
        elif current == UNREADABLE_FILE:
            done.append(f"skipped {rel}: {_why_unreadable(path)}; left as it is")
        elif current is not None and current != recorded.get(rel):
            done.append(f"kept {rel}: {KEPT_UNKNOWN if damage else 'you edited it'}")
        else:
            write_atomically(path, text)
            written[rel] = new
            done.append(f"{'added' if current is None else 'updated'} {rel}")
    _write_marker(module, workspace.root, written)
    return done


def _lay_out(module: Module, folder: Path, ex: Exercise) -> dict[str, str]:
    written = {}
    for rel, text in _files_of(module, ex).items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        write_atomically(folder / rel, text)
        written[rel] = fingerprint(text)
    return written


def _files_of(module: Module, ex: Exercise) -> dict[str, str]:
    """A workspace's files of one exercise: the statement and the approved starter."""
    return {
        f"exercises/{ex.id}/README.md": ex.statement.read_text("utf-8"),
        f"exercises/{ex.id}/{ex.file}": normal(ex.starter.text),
    }


UNREADABLE_FILE = "unreadable"


def _fingerprint_of(path: Path) -> str | None:
    try:
        return fingerprint(read_learner_file(path).decode("utf-8", "replace"))
    except FileNotFoundError:
        return None
    except OSError:
        return UNREADABLE_FILE


def _why_unreadable(path: Path) -> str:
    """Why a learner's file cannot be read, in a few words."""
    try:
        read_learner_file(path)
    except OSError as exc:
        return exc.strerror or str(exc)
    return "it changed while being read"


def _write_marker(module: Module, folder: Path, files: dict[str, str]) -> None:
    from courseware import __version__

    marker = {
        "format_version": MARKER_FORMAT,
        "course": module.info.slug,
        "module": module.info.number,
        "version": __version__,
        "files": dict(sorted(files.items())),
    }
    write_atomically(folder / MARKER, json.dumps(marker, indent=2) + "\n")


def _recorded_files(workspace: Workspace, known: Mapping[str, str]) -> tuple[dict, str | None]:
    """The fingerprints the marker recorded for the files `known` ({} when it is damaged),
    and what is wrong with it (None when nothing). Read as a learner's file: a regular
    file, at most MAX_MARKER bytes, never a link."""
    try:
        marker = json.loads(read_learner_file(workspace.root / MARKER, MAX_MARKER))
        files = marker.get("files") if isinstance(marker, dict) else None
        if not isinstance(files, dict):
            raise ValueError('it holds no "files" object')
        if not all(isinstance(v, str) and FINGERPRINT.fullmatch(v) for v in files.values()):
            raise ValueError('its "files" holds a value that is not a fingerprint')
    except OSError as exc:
        return {}, exc.strerror or str(exc)
    except RecursionError:
        return {}, "nested too deeply"
    except ValueError as exc:  # not UTF-8, not JSON, or not what `course init` writes
        return {}, str(exc)
    return {rel: files[rel] for rel in known if rel in files}, None


# ---------------------------------------------------------------- course reset


def reset_exercise(workspace: Workspace, ex: Exercise, backups: Path) -> Path | None:
    """Put the approved starter back in place of the learner's file, first copying that file
    to `backups` (outside exercises/). Returns the backup, or None when there was nothing to
    keep (no file, or already the starter)."""
    path = workspace.confined(workspace.file(ex))
    state, _ = state_of_file(workspace, ex)
    if state == "unreadable":
        raise CourseError(UNREADABLE.format(path=path, why=_why_unreadable(path)))
    backup = None
    if state == "edited":
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        backup = backups / ex.id / f"{stamp}-{ex.file}"
        write_atomically(backup, read_learner_file(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, normal(ex.starter.text))
    return backup


def display(path: Path) -> str:
    """`path` relative to the current folder when that is shorter."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return rel if len(rel) < len(str(path)) else str(path)


CLOBBER = (
    "{path} exists and is not a report (its name does not end in {suffixes}), so it is not "
    "replaced: is it your work? Name a new file, e.g. results{example}."
)
NO_WORKSPACE = (
    "no workspace here: {cwd} is not inside a clone of the course nor a folder made by "
    "`course init`.\nRun `course init` to make one (then cd into the folder it made), or cd "
    "into your clone."
)
WORKSPACE_BELOW = (
    "no workspace here: {cwd} is not inside one, but it holds what `course init` made: {all}.\n"
    "Run `cd {name}` first, then this command again."
)
NOT_A_FOLDER = (
    "{folder} is a file, not a folder, and is left as it is. Name a new folder "
    "(`course init my-workspace`)."
)
NOT_EMPTY = (
    "{folder} already exists and is not empty; `course init` never writes into a folder with "
    "files in it.\nName a new folder (`course init my-workspace`), or run `course init --upgrade` "
    "inside an existing workspace to bring it up to date."
)
UPGRADE_CLONE = (
    "this is a clone of the course repository, not a `course init` workspace: update it with "
    "`git pull` instead."
)
OUTSIDE = (
    "{link} is a link to {real}, outside this workspace ({root}), so nothing was read or "
    "written through it. Make {link} a plain folder inside the workspace (move the link "
    "away; `course init --upgrade` lays out what is missing), then run the command again."
)
UNREADABLE = (
    "{path} is not a regular file that can be read ({why}), so it cannot be kept as a backup "
    "and is left as it is. "
    "Make it a regular file you can read, or move it away, then run `course reset` again."
)
CANNOT_REACH = "cannot reach the files of this workspace: {error} Nothing was written."
KEPT_UNKNOWN = "it differs from this version (see above)"
REBUILT = (
    "rebuilt {marker}: it was damaged ({why}). Without it, a file that differs from this "
    "version cannot be told from one you edited, so each such file was kept as it is; "
    "`course reset ID` puts an exercise's starter in place (and keeps yours as a backup)"
)
WORKSPACE_README = """\
# {title}: your workspace

Made by `course init`. Your work lives in `exercises/`; everything else comes from the
installed course package.

1. Read the lesson: `course build`, then open `_site/index.html`.
2. Take the quiz: `course quiz`.
3. Open `exercises/{id}/README.md`, then edit `{file}` beside it.
4. `course grade` grades every exercise (`course grade exercises/{id}` just one);
   `course grade --hints` shows the next hint of each exercise not yet passing.
5. Or run `course watch`: it grades each exercise again every time you save.
6. `course progress` shows where you are; `course reset ID` puts a starter back (your file is
   kept as a backup).

`course --help` lists every command.
"""
