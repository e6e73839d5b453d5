"""The two ways this project touches files it does not trust or must not lose: every write of a
result goes through `write_atomically`, every read of a learner's file through `read_learner_file`.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

MAX_LEARNER_FILE = 1 << 20  # 1 MiB: far more than any exercise needs


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
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        if info.st_size > limit:
            raise OSError(errno.EFBIG, f"larger than {limit >> 10} KiB")
        chunks, size = [], 0
        while chunk := os.read(fd, min(1 << 16, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise OSError(errno.EFBIG, f"larger than {limit >> 10} KiB")
        return b"".join(chunks)
    finally:
        os.close(fd)
