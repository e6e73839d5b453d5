"""The two ways this project touches files it does not trust or must not lose: every write of a
result goes through `write_atomically`, every read of a learner's file through `read_learner_file`.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

MAX_LEARNER_FILE = 1 << 20  # 1 MiB: far more than any exercise needs
MAX_LEARNER_ENTRIES = 10_000  # files and folders in one learner's folder
MAX_HASHED_BYTES = 100 << 20  # of one submission, for its digest


def write_atomically(path: Path, data: str | bytes) -> None:
    """Replace `path` with `data` in one step, flushed to disk first: a crash at any moment
    leaves the old file or the new one, never half of either."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        if hasattr(os, "fchmod"):  # not on Windows before Python 3.13
            os.fchmod(fd, _mode_for(path))
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _mode_for(path: Path) -> int:
    """The replaced file's permissions, else what a plain open() would give (0666 - umask)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def read_learner_file(path: Path | str | bytes, limit: int = MAX_LEARNER_FILE) -> bytes:
    """A learner's file, read by trusted code: a regular file only (never a link, which could
    point at any file the grader may read, nor a FIFO or device, which could block or never
    end), opened without blocking, and at most `limit` bytes. Raises OSError otherwise."""
    fd = _open_learner_file(path)
    try:
        if os.fstat(fd).st_size > limit:
            raise OSError(errno.EFBIG, f"larger than {limit >> 10} KiB")
        data = b"".join(_chunks(fd, limit + 1))
        if len(data) > limit:
            raise OSError(errno.EFBIG, f"larger than {limit >> 10} KiB")
        return data
    finally:
        os.close(fd)


def learner_files(folder: Path | str | bytes) -> list[bytes]:
    """The regular files under a learner's folder, as sorted paths relative to it, in bytes
    (a learner's file names need not be UTF-8). Links are neither followed nor listed, nor
    FIFOs or devices; past MAX_LEARNER_ENTRIES files and folders, OSError."""
    return sorted(name for name, e in learner_entries(folder) if e.is_file(follow_symlinks=False))


def learner_entries(folder: Path | str | bytes) -> Iterator[tuple[bytes, os.DirEntry]]:
    """Every entry under a learner's folder (links, FIFOs and devices included, never
    followed), with its path relative to the folder, in bytes; past MAX_LEARNER_ENTRIES
    files and folders, OSError."""
    root, pending, seen = os.fsencode(folder), [b""], 0
    while pending:
        relative = pending.pop()
        with os.scandir(os.path.join(root, relative) if relative else root) as entries:
            for entry in entries:
                seen += 1
                if seen > MAX_LEARNER_ENTRIES:
                    raise OSError(errno.EFBIG, f"more than {MAX_LEARNER_ENTRIES} files")
                name = os.path.join(relative, entry.name) if relative else entry.name
                if entry.is_dir(follow_symlinks=False):
                    pending.append(name)
                yield name, entry


def learner_digest(path: Path | str | bytes, limit: int = MAX_HASHED_BYTES) -> str:
    """SHA-256 of a learner's submission (a folder, or one file such as a .zip): the names
    and bytes of its regular files, read as `read_learner_file` reads, at most `limit` bytes
    in all (then the names alone). A changed submission has a new digest."""
    digest, budget = hashlib.sha256(), limit
    root = os.fsencode(path)
    folder = stat.S_ISDIR(os.lstat(root).st_mode)  # a link at the top too is refused below
    for name in learner_files(root) if folder else [b""]:
        digest.update(len(name).to_bytes(4, "big") + name)
        fd = _open_learner_file(os.path.join(root, name) if folder else root)
        try:
            for chunk in _chunks(fd, budget):
                digest.update(chunk)
                budget -= len(chunk)
        finally:
            os.close(fd)
    return digest.hexdigest()


def _open_learner_file(path: Path | str | bytes) -> int:
    """A descriptor of a regular file, opened without following a link or blocking."""
    mode = os.lstat(path).st_mode
    if stat.S_ISLNK(mode):
        raise OSError(errno.ELOOP, "a symbolic link")
    if not stat.S_ISREG(mode):  # no open() of a FIFO or a device at all
        raise OSError(errno.EINVAL, NOT_REGULAR)
    fd = os.open(path, _READ_FLAGS)
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced since lstat
        os.close(fd)
        raise OSError(errno.EINVAL, NOT_REGULAR)
    return fd


def _chunks(fd: int, limit: int):
    """The file's bytes in chunks, at most `limit` of them."""
    left = limit
    while left > 0 and (chunk := os.read(fd, min(1 << 16, left))):
        left -= len(chunk)
        yield chunk


NOT_REGULAR = "not a regular file"
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
_READ_FLAGS |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
