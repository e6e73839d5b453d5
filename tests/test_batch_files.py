"""Batch grading reads a class as its learners meant it and as nobody can abuse it: a clearly
misnamed exercise file is graded and flagged (or, with --strict-names, named and not graded),
every other file is named; no link is followed, a learner named like an exercise is a whole
learner; feedback handed back holds nothing of the instructor's machine; no output of the
batch lies where a runner may be shown it; a zip's entries are counted from the record
Python's zipfile reads, before it parses anything."""

from __future__ import annotations

import csv
import io
import json
import os
import struct
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from course.cli import main
from grader import archive
from grader.archive import ArchiveError, members, open_zip, read_member
from grader.batch import OutputInView, batch_outputs
from grader.handback import HostFolders
from grader.names import choose, exercise_for, not_an_exercise_file
from tests.helpers import BATCH, EXERCISES_1_2, MISTAKE_1, REPO, SOLUTIONS, learner, rows, zipped

NETWORK, TRAINING = SOLUTIONS
CLASS_NAME = "zz-distinct-class-7q"  # grepped for in every feedback file
LEAKY = """
import os
import torch
from torch import nn


class LSTMNetwork(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, output_size):
        super().__init__()
        print("cwd", os.getcwd(), "torch", torch.__file__, "me", __file__)
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1, :].T)  # raises inside torch
"""


def misnamed_class(root: Path) -> Path:
    """One learner per way of naming (or linking) a file, and what each must score."""
    subs = root / CLASS_NAME
    learner(subs, "ada", NETWORK, TRAINING, names=("lstm_network (1).py", "Training.py"))
    bob = learner(
        subs, "bob", MISTAKE_1, TRAINING, names=("sub/LSTM_Network.py", "training.py.txt")
    )
    (bob / "notes.txt").write_text("my notes\n")
    (bob / "lstm_network.py").symlink_to(NETWORK)  # the exact name, as a link: never followed
    (bob / "old").mkdir()
    os.mkfifo(bob / "old/training.py")  # opened, it would block the grader
    # The exact name wins over a copy, even where the copy is the better code.
    learner(subs, "cyd", MISTAKE_1, NETWORK, names=("lstm_network.py", "lstm_network (1).py"))
    zipped(subs, "dee", NETWORK, TRAINING, names=("dee/LSTM_Network.py", "dee/training-1.py"))
    learner(subs, "01_lstm_network", NETWORK)  # named like an exercise: a whole learner
    (subs / "eve").symlink_to(NETWORK.parent)  # a hand-in linked to the references
    (subs / "fay").symlink_to(subs / "ada")  # a hand-in linked to a classmate
    (learner(subs, "gil") / "lstm_network.py").write_text(LEAKY)
    return subs


def run_batch(subs: Path, root: Path, *more: str):
    args = ["grade", str(subs), *BATCH, "--jobs", "2", "--gradebook", str(root / "b.sqlite")]
    args += ["--csv", str(root / "class.csv"), "--feedback-dir", str(root / "fb"), *more]
    return CliRunner().invoke(main, [*args, *EXERCISES_1_2])


def test_a_misnamed_file_is_graded_flagged_and_named_and_no_link_is_followed(tmp_path):
    subs = misnamed_class(tmp_path)
    result = run_batch(subs, tmp_path)
    assert result.exit_code == 1, result.output
    scores = dict(rows(tmp_path / "b.sqlite", "SELECT id, score FROM learners"))
    assert {k: scores[k] for k in ("ada", "dee", "01_lstm_network", "eve", "fay")} == {
        "ada": 20, "dee": 20, "01_lstm_network": 10, "eve": 0, "fay": 0,
    }  # fmt: skip
    assert scores["bob"] < 20 and scores["cyd"] < 10  # the links and the copy were not graded
    errors = dict(rows(tmp_path / "b.sqlite", "SELECT id, error FROM learners"))
    for linked in ("eve", "fay"):
        assert errors[linked] == (
            f"'{linked}' cannot be read safely (a symbolic link): submit a folder or a .zip of "
            "plain files."
        )
    with open(tmp_path / "class.csv", newline="") as f:
        flags = {r["learner"]: r["flags"] for r in csv.DictReader(f)}
    assert "lstm_network (1).py: graded as lstm_network.py" in flags["ada"]
    assert (
        "Training.py: graded as training.py (02_training_step): its name differs in case"
        in (flags["ada"])
    )
    assert "sub/LSTM_Network.py: graded as lstm_network.py" in flags["bob"]
    assert (
        "training.py.txt: graded as training.py (02_training_step): a .txt extension"
        in (flags["bob"])
    )
    assert (
        "notes.txt" in flags["bob"]
        and "lstm_network.py: not read: a symbolic link" in (flags["bob"])
    )
    assert "lstm_network (1).py: not graded: lstm_network.py has the exact name" in flags["cyd"]
    assert "dee/training-1.py: graded as training.py" in flags["dee"]
    assert flags["01_lstm_network"] == ""
    assert "learner(s) to look at" in result.output

    feedback = tmp_path / "fb"
    bob = (feedback / "bob.txt").read_text()
    assert "(sub/LSTM_Network.py)" in bob and "(training.py.txt)" in bob
    assert "notes.txt: not graded: not an exercise file" in bob
    assert "lstm_network.py: not read: a symbolic link, never followed" in bob
    assert "old/training.py: not read: a FIFO, never followed" in bob
    assert any(
        "notes.txt" in note for note in json.loads((feedback / "bob.json").read_text())["files"]
    )
    whole = (feedback / "01_lstm_network.txt").read_text()
    assert "no file named training.py" in whole and "Total: 10/20" in whole


def test_feedback_holds_no_path_of_the_instructors_machine(tmp_path):
    subs = misnamed_class(tmp_path)
    run_batch(subs, tmp_path)
    leaks = [CLASS_NAME, str(REPO), "/tmp", "site-packages", "course grade", "--hints", " -v"]
    files = sorted((tmp_path / "fb").iterdir())
    assert len(files) == 2 * 8
    for path in files:
        text = path.read_text()
        assert [leak for leak in leaks if leak in text] == [], (path.name, text)
    gil = json.loads((tmp_path / "fb/gil.json").read_text())
    told = json.dumps(gil)
    assert "lstm_network.py" in told and "torch/nn/modules" in told  # told, by their own names
    assert "hints for each exercise are in its statement" in (tmp_path / "fb/gil.txt").read_text()


def test_strict_names_names_and_flags_a_misnamed_file_without_grading_it(tmp_path):
    subs = tmp_path / "subs"
    learner(subs, "ada", NETWORK, TRAINING, names=("lstm_network (1).py", "training.py"))
    result = run_batch(subs, tmp_path, "--strict-names")
    assert rows(tmp_path / "b.sqlite", "SELECT score FROM learners") == [(10.0,)], result.output
    (flags,) = rows(tmp_path / "b.sqlite", "SELECT file_flags FROM learners")[0]
    assert "lstm_network (1).py: not graded: its name is not exactly lstm_network.py" in flags
    text = (tmp_path / "fb/ada.txt").read_text()
    assert "no file named lstm_network.py" in text and "its name is not exactly" in text
    again = run_batch(subs, tmp_path)  # another way of reading names: graded again
    assert "Graded 1 learner(s)" in again.output
    assert rows(tmp_path / "b.sqlite", "SELECT score FROM learners") == [(20.0,)]


# ------------------------------------------------------------------ names


@pytest.mark.parametrize(
    ("name", "file", "changes"),
    [
        ("lstm_network.py", "lstm_network.py", ()),
        ("lstm_network (1).py", "lstm_network.py", ("a copy's suffix ' (1)'",)),
        ("lstm_network(2).py", "lstm_network.py", ("a copy's suffix '(2)'",)),
        ("LSTM_Network.py", "lstm_network.py", ("its name differs in case",)),
        ("training.py.txt", "training.py", ("a .txt extension",)),
        ("training.txt", "training.py", ("a .txt extension",)),
        ("training-1.py", "training.py", ("a copy's suffix '-1'",)),
        ("training_copy.py", "training.py", ("a copy's suffix '_copy'",)),
        ("training - Copy.py", "training.py", ("a copy's suffix ' - Copy'",)),
        ("training copy 2.py", "training.py", ("a copy's suffix ' copy 2'",)),
        ("notes.txt", None, ()),
        ("lstm.py", None, ()),
        ("(1).py", None, ()),
        ("training.py.bak", None, ()),
        ("my_training.py", None, ()),
    ],
)
def test_a_name_is_read_as_an_exercise_files_only_where_it_clearly_is(module, name, file, changes):
    match = exercise_for(module, name)
    assert (match.exercise.file, match.changes) == (file, changes) if file else match is None


def test_the_best_candidate_is_graded_and_a_tie_grades_none(module):
    paths = ["a/training.py", "Training.py", "x (1).py", "lstm_network (1).py"]
    paths += ["lstm_network (2).py", "gradients.py", "deep/gradients.py", ".git/config"]
    choice = choose(module, paths)
    assert {ex: c.path for ex, c in choice.graded.items()} == {
        "02_training_step": "a/training.py", "05_vanishing_gradients": "gradients.py",
    }  # fmt: skip
    notes = "\n".join(choice.notes)
    assert "Training.py: not graded: a/training.py has the exact name" in notes
    assert "lstm_network (1).py, lstm_network (2).py could each be lstm_network.py" in notes
    assert "deep/gradients.py: not graded: gradients.py, as close a match" in notes
    assert "x (1).py: not graded: not an exercise file" in notes and ".git/: not graded" in notes
    assert "1 file(s) not an exercise's: x (1).py" in choice.flags


def test_many_other_files_are_named_up_to_a_count_statements_and_hidden_ones_unflagged(module):
    paths = [f"data/{i:02}.csv" for i in range(25)] + ["README.md", ".DS_Store"]
    choice = choose(module, paths)
    assert len(choice.notes) == 22 and choice.notes[-2].startswith("… and 6 more file(s)")
    assert choice.notes[-1] == ".DS_Store: not graded: files your operating system adds"
    assert choice.flags == [f"25 file(s) not an exercise's: {', '.join(paths[:20])}…"]


def test_files_an_operating_system_adds_are_said_once_as_the_systems(module):
    paths = ["lstm_network.py", ".DS_Store", "w/._lstm_network.py", "w/Thumbs.db", "notes.py"]
    choice = choose(module, paths)
    system = ".DS_Store, w/._lstm_network.py, w/Thumbs.db: not graded: files your operating system"
    assert [n for n in choice.notes if "operating system" in n] == [system + " adds"]
    assert [n for n in choice.notes if "not an exercise file" in n] == [
        "notes.py: not graded: not an exercise file (exercise files are named "
        + ", ".join(ex.file for ex in module.exercises)
        + ")"
    ]
    assert choice.flags == ["1 file(s) not an exercise's: notes.py"]


def test_the_exercises_counted_may_be_named_as_every_command_takes_them(module):
    paths = ["Training.py", "lstm_network.py"]
    for spelling in ("02_training_step", "training_step", "training.py"):
        assert list(choose(module, paths, exercises=[spelling]).graded) == ["02_training_step"]


def test_grading_a_folder_names_the_misnamed_file_it_did_not_grade(module, tmp_path):
    from grader.grade import GradeOptions, grade

    (tmp_path / "ex" / ".git").mkdir(parents=True)
    (tmp_path / "ex/Training.py").write_bytes(TRAINING.read_bytes())
    (tmp_path / "ex/.git/training (1).py").write_bytes(TRAINING.read_bytes())  # a tool's
    options = GradeOptions(exercises=("02_training_step",))
    (result,) = grade(module, tmp_path, options).exercises
    assert result.state == "not_attempted"
    assert result.message.endswith(
        "ex/Training.py looks like it (its name differs in case): rename it to training.py to "
        "have it graded."
    )
    assert "(1)" not in result.message


def test_grading_one_misnamed_file_says_what_to_name_it(module):
    said = not_an_exercise_file(module, "Training.py")
    assert said.startswith("Training.py is not an exercise file")
    assert "rename it to training.py" in said
    assert "rename" not in not_an_exercise_file(module, "notes.txt")


# ------------------------------------------------------------------ outputs


@pytest.mark.parametrize(
    ("option", "where", "says"),
    [
        ("--gradebook", "subs/book.sqlite", "--gradebook"),
        ("--csv", "subs/ada/class.csv", "--csv"),
        ("--feedback-dir", "subs/feedback", "--feedback-dir"),
        ("--feedback-dir", "REPO/feedback", "the course folder"),
    ],
)
def test_an_output_where_a_runner_may_see_it_is_refused(tmp_path, option, where, says):
    subs = tmp_path / "subs"
    learner(subs, "ada", NETWORK)
    place = Path(where.replace("REPO", str(REPO))) if "REPO" in where else tmp_path / where
    args = ["grade", str(subs), *BATCH, option, str(place), "--gradebook", str(tmp_path / "b")]
    result = CliRunner().invoke(main, args if option != "--gradebook" else args[:-2])
    assert result.exit_code == 2, result.output
    assert says in result.output and "learners' code may be shown" in result.output
    assert not place.exists() and not (tmp_path / "b").exists()


def test_the_default_gradebook_lies_beside_the_class_folder_however_it_is_named(
    module, tmp_path, monkeypatch
):
    subs = tmp_path / "subs"
    learner(subs, "ada", NETWORK)
    monkeypatch.chdir(subs)
    assert batch_outputs(module, Path(".")).gradebook == tmp_path / "subs.gradebook.sqlite"
    monkeypatch.chdir(subs / "ada")
    assert batch_outputs(module, Path("..")).gradebook == tmp_path / "subs.gradebook.sqlite"
    inside = REPO / "submissions"  # a class kept in the clone: its default gradebook too
    with pytest.raises(OutputInView, match=r"the default gradebook .* Pass --gradebook FILE"):
        batch_outputs(module, inside)


# ------------------------------------------------------------------ zips

END = struct.Struct("<4s4H2LH")


def end_records(entries64: int, entries: int = 1, directory: int = 46) -> bytes:
    """A zip64 end record declaring `entries64` entries, its locator, and a classic end
    record declaring `entries` (what a forger shows a reader that trusts it)."""
    at = 64
    record = archive.ZIP64_END.pack(
        b"PK\x06\x06", 44, 45, 45, 0, 0, entries64, entries64, 46 * entries64, 0
    )
    locator = archive.ZIP64_LOCATOR.pack(b"PK\x06\x07", 0, at, 1)
    classic = END.pack(b"PK\x05\x06", 0, 0, entries, entries, directory, 0, 0)
    return b"\0" * at + record + locator + classic


def test_a_zip64_record_declaring_a_million_entries_is_refused_before_parsing(
    tmp_path, monkeypatch
):
    data = end_records(1_000_000)
    found = zipfile._EndRecData(io.BytesIO(data))  # what zipfile itself would use
    assert found[zipfile._ECD_ENTRIES_TOTAL] == 1_000_000
    assert archive.declared(data) == (1_000_000, 46_000_000)
    (tmp_path / "bomb.zip").write_bytes(data)
    monkeypatch.setattr(zipfile, "ZipFile", lambda *a, **k: pytest.fail("the directory was parsed"))
    with pytest.raises(ArchiveError, match="1000000 entries"):
        open_zip(tmp_path / "bomb.zip")


def test_every_end_record_zipfile_may_read_is_counted(tmp_path):
    """A real archive of 600 entries whose records understate them in each way a reader may
    be fooled: the count of whichever record zipfile reads is the one that is bounded."""
    real = io.BytesIO()
    with zipfile.ZipFile(real, "w") as zf:
        for i in range(600):
            zf.writestr(f"f{i}.py", b"")
    data = real.getvalue()
    classic_at = len(data) - END.size
    fields = list(END.unpack_from(data, classic_at))
    fields[3] = fields[4] = 1  # the classic record says one entry
    lying = data[:classic_at] + END.pack(*fields)
    assert zipfile._EndRecData(io.BytesIO(lying))[zipfile._ECD_ENTRIES_TOTAL] == 1
    (tmp_path / "lying.zip").write_bytes(lying)
    with pytest.raises(ArchiveError, match="600 entries"):  # counted once parsed, within bounds
        open_zip(tmp_path / "lying.zip")
    fields[5] = 2 << 20  # a directory larger than the bound: refused before parsing
    (tmp_path / "large.zip").write_bytes(data[:classic_at] + END.pack(*fields))
    with pytest.raises(ArchiveError, match="KiB are accepted"):
        open_zip(tmp_path / "large.zip")


@pytest.mark.parametrize("name", ["../escape.py", "/abs/escape.py", "a/../../escape.py", "C:x.py"])
def test_a_zip_entry_that_leaves_its_folder_is_refused(tmp_path, name):
    with zipfile.ZipFile(tmp_path / "sub.zip", "w") as zf:
        zf.writestr(name, b"x")
    with open_zip(tmp_path / "sub.zip") as zf, pytest.raises(ArchiveError, match="outside"):
        members(zf)


def test_a_zips_links_are_listed_never_read_and_a_bomb_stops_at_the_cap(tmp_path):
    with zipfile.ZipFile(tmp_path / "sub.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        link = zipfile.ZipInfo("me/training.py")
        link.external_attr = 0o120777 << 16
        zf.writestr(link, "/etc/passwd")
        zf.writestr("me/lstm_network.py", b"\0" * (4 << 20))  # 4 MiB, a few KiB packed
    with open_zip(tmp_path / "sub.zip") as zf:
        found = members(zf)
        assert found.links == ("me/training.py",) and list(found.files) == ["me/lstm_network.py"]
        with pytest.raises(OSError, match="larger than 1024 KiB"):
            read_member(zf, "me/lstm_network.py", 1 << 20)


# ------------------------------------------------------------------ paths in feedback


def test_host_folders_are_told_by_what_they_are(module, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    hosts = HostFolders.of(module.root, Path("class"))  # as the instructor typed it
    venv = os.path.dirname(zipfile.__file__)
    text = hosts.scrub(
        f'File "{REPO}/grader/x.py", line 3\n'
        f'File "{venv}/site-packages/torch/nn/functional.py"\n'
        f"{tmp_path}/class/ada/training.py and /srv/other/place/file.txt, "
        "see https://pytorch.org/docs/stable/nn.html, 1/2 and (a/b) in classes"
    )
    assert text == (
        'File "<course>/grader/x.py", line 3\n'
        'File "torch/nn/functional.py"\n'
        "ada/training.py and file.txt, see https://pytorch.org/docs/stable/nn.html, 1/2 and (a/b)"
        " in classes"
    )


def test_ids_that_differ_only_in_case_get_feedback_files_of_their_own(tmp_path):
    """'Ada' and 'ada' are two learners; on a file system that ignores case (macOS, Windows)
    'Ada.txt' and 'ada.txt' would be one file, so both names take a digest. Others keep theirs."""
    subs = tmp_path / "subs"
    for name in ("Ada", "ada", "bob"):
        learner(subs, name, SOLUTIONS[0])
    run_batch(subs, tmp_path)
    texts = sorted(p.stem for p in (tmp_path / "fb").glob("*.txt"))
    folded = {stem.casefold() for stem in texts}
    assert len(texts) == len(folded) == 3 and "bob" in texts, texts
    assert all(stem.startswith(("Ada-", "ada-")) for stem in texts if stem != "bob"), texts


def test_the_summary_writes_an_id_as_it_is_and_escapes_only_one_that_may_hide_something(
    tmp_path,
):
    """'émile' and 'bob' are ordinary names, shown as written; the Cyrillic 'аda' and the
    'ada' it imitates are shown escaped, so the instructor sees which is which."""
    subs = tmp_path / "subs"
    for name in ("émile", "bob", "\u0430da", "ada"):
        (learner(subs, name) / "notes.txt").write_text("my notes\n")
    result = run_batch(subs, tmp_path)
    listed = result.output.split("learner(s) to look at", 1)[1].split("learner id(s)")[0]
    assert "\n  émile: 1 file(s) not an exercise's: notes.txt" in listed, result.output
    assert "\n  bob: 1 file(s)" in listed and "\n  'ada': 1 file(s)" in listed
    assert "\n  '\\u0430da': 1 file(s)" in listed and "\\xe9mile" not in result.output
