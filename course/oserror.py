"""An OSError said for a person: the file, what went wrong and what to do about it."""

from __future__ import annotations

import errno

ADVICE = {
    errno.EACCES: "Check the permissions of that file or folder, or choose another.",
    errno.EPERM: "Check the permissions of that file or folder, or choose another.",
    errno.EROFS: "That file system is read-only; choose another place.",
    errno.ENOSPC: "The disk is full; free some space and try again.",
    errno.EDQUOT: "Your disk quota is used up; free some space and try again.",
    errno.ENAMETOOLONG: "Choose a shorter name.",
    errno.ELOOP: "A symbolic link there points in a loop; remove or fix it.",
    errno.ENOENT: "Check the path, or create the folder first.",
    errno.ENOTDIR: "A part of that path is a file, not a folder.",
    errno.EISDIR: "That is a folder; name a file.",
    errno.EEXIST: "Something is already there (a file, or a link to nothing); choose another name.",
}


def os_error(exc: OSError, path: object = None) -> str:
    """'PATH: why. What to do.' for `exc` (its own file name unless `path` is given)."""
    where = path if path is not None else exc.filename
    why = exc.strerror or str(exc) or type(exc).__name__
    advice = ADVICE.get(exc.errno, "")
    return f"{where}: {why}." + (f" {advice}" if advice else "") if where else f"{why}. {advice}"
