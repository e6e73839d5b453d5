"""Reading a learner's files: one safe reader for the starter comparison, hashing, extraction
and discovery. Regular files only, no links followed, nothing that blocks, sizes capped, names
kept as bytes, zips refused by their end record before anything parses their directory."""

from __future__ import annotations

import errno
import io
import os
import zipfile
from pathlib import Path

import pytest

from courseware import files
from courseware.files import learner_digest, learner_files, read_learner_file
from grader import archive
from grader.archive import ArchiveError, members, open_zip, read_member
from tests.helpers import needs_byte_names, needs_fifos


@pytest.fixture
def odd(tmp_path: Path) -> Path:
    """A learner's folder with what a hostile or careless one holds."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "lstm_network.py").write_text("x = 1\n")
    (tmp_path / "a.py").write_text("a\n")
    os.mkfifo(tmp_path / "fifo.py")
    (tmp_path / "zero.py").symlink_to("/dev/zero")
    (tmp_path / "etc").symlink_to("/etc", target_is_directory=True)
    Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9.py")).write_text("c\n")
    return tmp_path


@needs_byte_names
def test_the_reader_refuses_what_is_not_a_regular_file(odd):
    for name, why in (("fifo.py", errno.EINVAL), ("zero.py", errno.ELOOP), ("sub", errno.EINVAL)):
        with pytest.raises(OSError) as refused:
            read_learner_file(odd / name)
        assert refused.value.errno == why, name
    with pytest.raises(OSError, match="not a regular file"):
        read_learner_file("/dev/zero")
    assert read_learner_file(os.fsencode(odd) + b"/caf\xe9.py") == b"c\n"


def test_the_reader_caps_the_size(tmp_path):
    big = tmp_path / "big.py"
    with open(big, "wb") as f:
        f.truncate(2 << 20)  # sparse: 2 MiB declared
    with pytest.raises(OSError, match="larger than 1024 KiB"):
        read_learner_file(big)
    assert len(read_learner_file(big, limit=3 << 20)) == 2 << 20


@needs_byte_names
def test_listing_follows_no_link_and_keeps_names_as_bytes(odd):
    assert learner_files(odd) == [b"a.py", b"caf\xe9.py", b"sub/lstm_network.py"]


def test_listing_stops_past_the_entry_limit(tmp_path, monkeypatch):
    for i in range(5):
        (tmp_path / f"{i}.py").write_text("")
    monkeypatch.setattr(files, "MAX_LEARNER_ENTRIES", 4)
    with pytest.raises(OSError, match="more than 4 files"):
        learner_files(tmp_path)


@needs_byte_names
def test_the_digest_reads_safely_and_changes_with_the_content(odd):
    first = learner_digest(odd)  # a FIFO, a link to /dev/zero, a non-UTF-8 name: no hang
    assert learner_digest(odd) == first
    (odd / "sub" / "lstm_network.py").write_text("x = 2\n")
    assert learner_digest(odd) != first
    renamed = learner_digest(odd)
    (odd / "a.py").rename(odd / "b.py")
    assert learner_digest(odd) != renamed


def test_the_digest_of_a_single_file_and_its_budget(tmp_path):
    one = tmp_path / "one.zip"
    one.write_bytes(b"0123456789")
    assert learner_digest(one) != learner_digest(tmp_path)
    assert learner_digest(one, limit=4) == learner_digest(one, limit=4)
    short = learner_digest(one, limit=4)
    one.write_bytes(b"0123------")  # past the budget: not read
    assert learner_digest(one, limit=4) == short


# ------------------------------------------------------------------ zips


def end_record(entries: int, directory: int, offset: int = 0) -> bytes:
    return archive.END.pack(b"PK\x05\x06", 0, 0, entries & 0xFFFF, entries & 0xFFFF,
                            directory, offset, 0)  # fmt: skip


def test_a_zip_declaring_too_many_entries_is_refused_before_parsing(tmp_path, monkeypatch):
    bomb = tmp_path / "bomb.zip"
    bomb.write_bytes(b"\x00" * 64 + end_record(3_000_000, 46 * 3_000_000))
    monkeypatch.setattr(zipfile, "ZipFile", lambda *a, **k: pytest.fail("the directory was parsed"))
    with pytest.raises(ArchiveError, match="entries"):
        open_zip(bomb)


def test_a_zip64_end_record_is_read_too(tmp_path):
    directory_at = 100
    zip64 = archive.ZIP64_END.pack(b"PK\x06\x06", 44, 45, 45, 0, 0, 10**7, 10**7, 10**9, 0)
    locator = archive.ZIP64_LOCATOR.pack(b"PK\x06\x07", 0, directory_at, 1)
    data = b"\x00" * directory_at + zip64 + locator + end_record(0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    assert archive.declared(data) == (10**7, 10**9)
    with pytest.raises(ArchiveError, match="no end of central directory"):
        archive.declared(b"\x00" * 100)


def test_a_directory_larger_than_its_count_says_is_refused(tmp_path):
    """The count can lie; the directory's size bounds what parsing it can cost."""
    lying = tmp_path / "lying.zip"
    lying.write_bytes(b"\x00" * 64 + end_record(1, 10 << 20))
    with pytest.raises(ArchiveError, match="KiB are accepted"):
        open_zip(lying)


@needs_fifos
def test_a_zip_too_large_a_fifo_or_a_link_is_refused_at_once(tmp_path):
    big = tmp_path / "big.zip"
    with open(big, "wb") as f:
        f.truncate(archive.MAX_ARCHIVE_BYTES + 1)
    os.mkfifo(tmp_path / "fifo.zip")
    (tmp_path / "link.zip").symlink_to(big)
    for name, says in (("big", "larger than"), ("fifo", "not a regular file"), ("link", "link")):
        with pytest.raises(ArchiveError, match=says):
            open_zip(tmp_path / f"{name}.zip")


def test_a_good_zip_is_read(tmp_path):
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as zf:
        zf.writestr("ex/lstm_network.py", "x = 1\n")
    (tmp_path / "good.zip").write_bytes(data.getvalue())
    with open_zip(tmp_path / "good.zip") as zf:
        assert read_member(zf, members(zf).files["ex/lstm_network.py"], 100) == b"x = 1\n"
    assert archive.declared(data.getvalue())[0] == 1
