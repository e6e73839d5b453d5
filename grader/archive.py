"""Opening a learner's .zip safely: refused early by its size and by the entry count and
directory size that every end record Python's zipfile may read declares (before anything
parses the directory), read without following a link, no name that leaves the archive's
folder, links listed and never read, and a cap on the bytes read of each member (declared
sizes can lie). Nothing is written to disk: the grader takes the members it needs as bytes."""

from __future__ import annotations

import errno
import io
import stat
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from courseware.files import read_learner_file

MAX_FILES = 500
MAX_ARCHIVE_BYTES = 50 << 20  # the .zip itself
MAX_DIRECTORY_BYTES = 1 << 20  # its central directory: room for thousands of entries
CHUNK = 1 << 16
END = struct.Struct("<4s4H2LH")  # end of central directory record
END_SIGNATURE = b"PK\x05\x06"
END_SEARCH = (1 << 16) + END.size  # zipfile looks this far back for a record with a comment
ZIP64_LOCATOR = struct.Struct("<4sLQL")
LOCATOR_SIGNATURE = b"PK\x06\x07"
ZIP64_END = struct.Struct("<4sQ2H2L4Q")
ZIP64_SIGNATURE = b"PK\x06\x06"
TOO_MANY = (
    "{entries} entries in a directory of {directory} bytes; at most {limit} entries and "
    "{kib} KiB are accepted"
)


class ArchiveError(Exception):
    """The archive cannot be opened safely; the message says why, for the instructor."""


@dataclass(frozen=True)
class Members:
    """What a zip holds, by name (POSIX, relative to the archive): its files (each mapped to
    its entry's own name, to read it by), and its links apart."""

    files: dict[str, str]
    links: tuple[str, ...]


def open_zip(archive: Path) -> zipfile.ZipFile:
    """The learner's .zip, read safely into memory and checked before its directory is parsed.
    Raises ArchiveError when it cannot be opened safely."""
    try:
        data = read_learner_file(archive, limit=MAX_ARCHIVE_BYTES)
        entries, directory = declared(data)
        if entries > MAX_FILES or directory > MAX_DIRECTORY_BYTES:
            raise ArchiveError(
                TOO_MANY.format(entries=entries, directory=directory, limit=MAX_FILES,
                                kib=MAX_DIRECTORY_BYTES >> 10)
            )  # fmt: skip
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ArchiveError(f"not a valid zip archive ({exc})") from None
    except (OSError, RuntimeError, NotImplementedError, EOFError, ValueError) as exc:
        raise ArchiveError(f"the archive cannot be read ({type(exc).__name__}: {exc})") from None
    if len(zf.infolist()) > MAX_FILES:  # the record understated them
        raise ArchiveError(f"{len(zf.infolist())} entries; at most {MAX_FILES} are accepted")
    return zf


def declared(data: bytes) -> tuple[int, int]:
    """The most entries and the largest central directory declared by any end record that
    Python's zipfile may read: the classic record it finds, and a zip64 record wherever a
    zip64 locator puts one (zipfile reads it just before the locator, or where the locator
    says). Read without parsing a single entry."""
    at = _end_record(data)
    *_, entries, directory, _, _ = END.unpack_from(data, at)
    found = _zip64_records(data, at)
    zip64 = bool(found)  # then 0xFFFF and 0xFFFFFFFF below mean "see the zip64 record"
    if entries != 0xFFFF or not zip64:
        found.append((entries, 0))
    if directory != 0xFFFFFFFF or not zip64:
        found.append((0, directory))
    return max(e for e, _ in found), max(d for _, d in found)


def _zip64_records(data: bytes, end: int) -> list[tuple[int, int]]:
    """(entries, directory size) of each zip64 end record the locator before `end` leads to."""
    locator, found = end - ZIP64_LOCATOR.size, []
    if locator < 0:
        return found
    signature, _, offset, _ = ZIP64_LOCATOR.unpack_from(data, locator)
    if signature != LOCATOR_SIGNATURE:
        return found
    for record in {locator - ZIP64_END.size, offset}:
        if 0 <= record <= len(data) - ZIP64_END.size:
            fields = ZIP64_END.unpack_from(data, record)
            if fields[0] == ZIP64_SIGNATURE:
                found.append((max(fields[6], fields[7]), fields[8]))
    return found


def _end_record(data: bytes) -> int:
    """Where zipfile finds the end record: the archive's last bytes when they are a record
    without a comment, else the last signature in the final 64 KiB."""
    tail = len(data) - END.size
    if tail >= 0 and data[tail : tail + 4] == END_SIGNATURE and data[-2:] == b"\0\0":
        return tail
    at = data.rfind(END_SIGNATURE, max(0, len(data) - END_SEARCH))
    if at < 0 or at + END.size > len(data):
        raise ArchiveError("not a valid zip archive (no end of central directory record)")
    return at


def members(zf: zipfile.ZipFile) -> Members:
    """The archive's files and links by name; ArchiveError for a name that would leave the
    archive's folder (an absolute path, `..`, a drive)."""
    files, links = {}, []
    for info in zf.infolist():
        name = info.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        if name.startswith("/") or ".." in parts or (parts and ":" in parts[0]):
            raise ArchiveError(f"entry {info.filename!r} points outside the archive's folder")
        if stat.S_ISLNK(info.external_attr >> 16):
            links.append(name)
        elif not info.is_dir():
            files[name] = info.filename
    return Members(files, tuple(links))


def read_member(zf: zipfile.ZipFile, entry: str, limit: int) -> bytes:
    """The bytes of the member named `entry`, at most `limit` of them once unpacked (declared
    sizes can lie). Raises OSError (larger than `limit`) or ArchiveError (it cannot be
    unpacked)."""
    try:
        with zf.open(entry) as source:
            data = source.read(limit + 1)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, ValueError) as exc:
        raise ArchiveError(f"{entry} cannot be unpacked ({type(exc).__name__}: {exc})") from None
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"larger than {limit >> 10} KiB once unpacked")
    return data
