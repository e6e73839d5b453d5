"""Opening a learner's .zip safely: refused early by its size and by the entry count and
directory size its end record declares (before anything parses the directory), read without
following a link, no path escaping the target folder, no links, and limits on the number of
files and on the bytes actually written (declared sizes can lie)."""

from __future__ import annotations

import io
import shutil
import stat
import struct
import zipfile
from pathlib import Path, PurePosixPath

from courseware.files import read_learner_file

MAX_FILES = 500
MAX_ARCHIVE_BYTES = 50 << 20  # the .zip itself
MAX_DIRECTORY_BYTES = 1 << 20  # its central directory: room for thousands of entries
MAX_TOTAL_BYTES = 50 << 20
CHUNK = 1 << 16
END = struct.Struct("<4s4H2LH")  # end of central directory record
END_SIGNATURE, END_SEARCH = b"PK\x05\x06", END.size + 0xFFFF  # the comment is at most 64 KiB
ZIP64_LOCATOR = struct.Struct("<4sLQL")
ZIP64_END = struct.Struct("<4sQ2H2L4Q")


class ArchiveError(Exception):
    """The archive cannot be opened safely; the message says why, for the instructor."""


def extract(archive: Path, target: Path) -> None:
    """Extract `archive` into the (empty) folder `target`, refusing anything unsafe."""
    try:
        data = read_learner_file(archive, limit=MAX_ARCHIVE_BYTES)
        entries, directory = declared(data)
        if entries > MAX_FILES or directory > MAX_DIRECTORY_BYTES:
            raise ArchiveError(
                f"{entries} entries in a directory of {directory} bytes; at most {MAX_FILES} "
                f"entries and {MAX_DIRECTORY_BYTES >> 10} KiB are accepted"
            )
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            _extract_all(zf, target)
    except zipfile.BadZipFile as exc:
        raise ArchiveError(f"not a valid zip archive ({exc})") from None
    except (OSError, RuntimeError, NotImplementedError, EOFError, ValueError) as exc:
        raise ArchiveError(f"the archive cannot be read ({type(exc).__name__}: {exc})") from None


def declared(data: bytes) -> tuple[int, int]:
    """The number of entries and the size of the central directory that the archive's end
    record (zip64's where there is one) declares: read without parsing any entry."""
    at = data.rfind(END_SIGNATURE, max(0, len(data) - END_SEARCH))
    if at < 0:
        raise ArchiveError("not a valid zip archive (no end of central directory record)")
    try:
        *_, entries, directory, _, _ = END.unpack_from(data, at)
        if entries == 0xFFFF or directory == 0xFFFFFFFF:
            signature, _, offset, _ = ZIP64_LOCATOR.unpack_from(data, at - ZIP64_LOCATOR.size)
            fields = ZIP64_END.unpack_from(data, offset)
            if signature != b"PK\x06\x07" or fields[0] != b"PK\x06\x06":
                raise ArchiveError("not a valid zip archive (a broken zip64 end record)")
            entries, directory = fields[7], fields[8]
    except struct.error:
        raise ArchiveError("not a valid zip archive (a truncated end record)") from None
    return entries, directory


def _extract_all(zf: zipfile.ZipFile, target: Path) -> None:
    members = zf.infolist()
    if len(members) > MAX_FILES:
        raise ArchiveError(f"{len(members)} entries; at most {MAX_FILES} are accepted")
    written = 0
    for info in members:
        destination = _destination(target, info)
        if info.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        written = _copy(zf, info, destination, written)


def _destination(target: Path, info: zipfile.ZipInfo) -> Path:
    name = info.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or ".." in parts or (parts and ":" in parts[0]):
        raise ArchiveError(f"entry {info.filename!r} points outside the archive's folder")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise ArchiveError(f"entry {info.filename!r} is a symbolic link")
    destination = (target / name).resolve()
    if target.resolve() not in destination.parents and destination != target.resolve():
        raise ArchiveError(f"entry {info.filename!r} points outside the archive's folder")
    return destination


def _copy(zf: zipfile.ZipFile, info: zipfile.ZipInfo, destination: Path, written: int) -> int:
    with zf.open(info) as source, open(destination, "wb") as sink:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            if written > MAX_TOTAL_BYTES:
                raise ArchiveError(
                    f"more than {MAX_TOTAL_BYTES >> 20} MiB once unpacked (a zip bomb?)"
                )
            sink.write(chunk)
    return written


def remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
