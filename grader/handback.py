"""Feedback handed back to a learner after batch grading (`--feedback-dir`): their report, with
their own paths only (nothing of the instructor's machine: the course folder, the class folder,
temporary folders, Python's installation) and advice they can follow where they read it (no
command-line option, no command to run on the instructor's copy)."""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from courseware.files import write_atomically
from grader.results import Outcome

ADVICE = (
    "The hints for each exercise are in its statement and on the course site. Fix what is "
    "listed above, then hand your work in again."
)
YOUR_FILES = "Your files:"
# Advice for the command line inside messages, and what a learner reading the file reads instead.
RETOLD = (
    ("the output of `course grade -v`", "this feedback file"),
    (" (more with -v)", " (cut short)"),
)
LIBRARIES = re.compile(r"[^\s'\"()<>,;=`]*[/\\](?:site|dist)-packages[/\\]")
# An absolute path of two parts or more, not inside a word, a URL or a path already told.
ABSOLUTE = re.compile(r"(?<![\w.~:/<>\\-])/(?:[^\s/'\"()<>:,;=`]+/)+[^\s/'\"()<>:,;=`]*")


@dataclass(frozen=True)
class HostFolders:
    """Folders of the instructor's machine a text may name, each with what the learner reads
    instead, longest first (one may hold another)."""

    pairs: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, course: Path, class_folder: Path) -> HostFolders:
        """The course folder, the class folder, Python's folders, the home and temp folders."""
        named = [(class_folder, "<class>"), (course, "<course>"), (Path.home(), "~")]
        named += [(Path(tempfile.gettempdir()), "<tmp>")]
        named += [(Path(p), "<python>") for p in {sys.prefix, sys.base_prefix, sys.exec_prefix}]
        forms = [class_folder.absolute(), class_folder.resolve()]
        pairs = {(f"{form}{os.sep}", "") for form in forms}
        for folder, told in named:
            pairs |= {(str(form), told) for form in (folder.absolute(), folder.resolve())}
        kept = [(path, told) for path, told in pairs if len(Path(path).parts) > 1]
        return cls(tuple(sorted(kept, key=lambda pair: len(pair[0]), reverse=True)))

    def scrub(self, text: str) -> str:
        """`text` as the learner may read it: Python's libraries named from their package,
        the host's folders by what they are, any other absolute path by its last part."""
        text = LIBRARIES.sub("", text)
        for path, told in self.pairs:
            text = text.replace(path, told)
        text = ABSOLUTE.sub(lambda m: m.group().rstrip("/").rsplit("/", 1)[-1], text)
        for said, told in RETOLD:
            text = text.replace(said, told)
        return text


def feedback_text(outcome: Outcome, hosts: HostFolders) -> str:
    """What `course grade` would print, with advice for where it is read, and a line for
    every file of the submission that was not graded as it was named."""
    from grader.report import terminal

    text = terminal(outcome.report, colour=False, advice=ADVICE)
    if outcome.notes:
        text += "\n\n" + "\n".join([YOUR_FILES, *(f"  {note}" for note in outcome.notes)])
    return hosts.scrub(text) + "\n"


def feedback_json(outcome: Outcome, hosts: HostFolders) -> dict:
    """Our JSON report (Gradescope's key names), with `files`: the notes on the files."""
    from grader.formats import as_json

    return _scrubbed({**as_json(outcome.report), "files": outcome.notes}, hosts)


def _scrubbed(value, hosts: HostFolders):
    if isinstance(value, str):
        return hosts.scrub(value)
    if isinstance(value, dict):
        return {key: _scrubbed(item, hosts) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrubbed(item, hosts) for item in value]
    return value


def write_feedback(folder: Path, name: str, outcome: Outcome, hosts: HostFolders) -> None:
    """Write `name`.txt and `name`.json into `folder`, each whole or not at all."""
    write_atomically(folder / f"{name}.txt", feedback_text(outcome, hosts))
    data = json.dumps(feedback_json(outcome, hosts), indent=2) + "\n"
    write_atomically(folder / f"{name}.json", data)
