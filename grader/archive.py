"""Opening a learner's .zip safely: no path escapes the target folder, no links, and limits on
the number of files and on the bytes actually written (declared sizes can lie)."""

from __future__ import annotations

import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

MAX_FILES = 500
MAX_TOTAL_BYTES = 50 << 20
CHUNK = 1 << 16


class ArchiveError(Exception):
    """The archive cannot be opened safely; the message says why, for the instructor."""


def extract(archive: Path, target: Path) -> None:
    """Extract `archive` into the (empty) folder `target`, refusing anything unsafe."""
    try:
        with zipfile.ZipFile(archive) as zf:
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
    except zipfile.BadZipFile as exc:
        raise ArchiveError(f"not a valid zip archive ({exc})") from None
    except (OSError, RuntimeError, NotImplementedError, EOFError, ValueError) as exc:
        raise ArchiveError(f"the archive cannot be read ({type(exc).__name__}: {exc})") from None


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
