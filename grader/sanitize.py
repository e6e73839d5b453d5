"""One sanitiser at the boundary: every string that comes from a learner (what their code
printed, exception messages, file and folder names, ids) is made safe once, where it enters the
trusted side, so that no writer (terminal, JSON, JUnit, CSV, SQLite, Gradescope) needs a defence
of its own.

Safe means: valid Unicode (no lone surrogates, which crash every UTF-8 writer), no terminal
escape sequences and no control characters but newline and tab (no cleared screen, window
title, clipboard write or rewritten line), nothing XML 1.0 forbids, and no bidirectional
overrides that reorder what is shown. Learner ids are also normalised to NFC, and `id_flags`
says which ids a person could mistake for others (`csv_cell` keeps spreadsheets inert).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from functools import cache

REPLACEMENT = "\ufffd"
# ESC sequences, whole: OSC (window title, clipboard, hyperlinks) and the other string
# commands up to their terminator, CSI (colours, cursor moves, clear screen), any other
# two-character escape. What is left of a broken one loses its ESC below and is inert text.
ESCAPES = re.compile(r"\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b\[[0-?]*[ -/]*[@-~]|\x1b[ -~]?")
# Control characters but \t and \n, XML 1.0's forbidden non-characters, and the bidirectional
# embeddings, overrides and isolates.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff\u202a-\u202e\u2066-\u2069]")
# What a person cannot see: format characters (zero-width spaces and joiners, BOM, soft
# hyphen), separators and spaces other than the ASCII one, and these blanks and joiners.
INVISIBLE_KINDS = {"Cf", "Zl", "Zp", "Zs"}
BLANKS = re.compile("[\u034f\u115f\u1160\u3164\uffa0\ufe00-\ufe0f\U000e0100-\U000e01ef]")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "|", "%")
UNNAMED = "(unnamed)"


def clean(text: str) -> str:
    """`text` made safe for every writer: valid Unicode, no escapes, no control characters
    but newline and tab (a carriage return becomes a newline)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: keep real pairs, replace the rest
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return UNSAFE.sub("", ESCAPES.sub("", text))


def clean_id(name: str) -> str:
    """A learner id from a file or folder name: clean, and in NFC so that the same name typed
    on macOS (NFD) and on Linux (NFC) is one id."""
    return unicodedata.normalize("NFC", clean(name).replace("\n", " ").strip()) or UNNAMED


def csv_cell(text: str) -> str:
    """A CSV cell a spreadsheet shows as text: one that would start a formula gets a quote."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def invisible(text: str) -> list[str]:
    """The characters of `text` a person cannot see, as U+XXXX."""
    return [f"U+{ord(c):04X}" for c in dict.fromkeys(text) if _is_invisible(c)]


def _is_invisible(c: str) -> bool:
    return c != " " and (unicodedata.category(c) in INVISIBLE_KINDS or bool(BLANKS.match(c)))


def shown(learner_id: str) -> str:
    """An id as an instructor should see it when it may hide something: every character that
    is not printable ASCII written as an escape."""
    return ascii(learner_id)


def id_flags(raw_names: dict[str, Iterable[str]]) -> dict[str, list[str]]:
    """For each id (mapped to the names it came from), what an instructor should check:
    invisible characters, mixed scripts, a name changed by NFC, and ids that look alike."""
    flags: dict[str, list[str]] = {}
    by_skeleton = defaultdict(list)
    for learner_id, names in raw_names.items():
        found = []
        if hidden := invisible(learner_id):
            found.append(f"invisible characters {', '.join(hidden)}")
        if len(scripts := _scripts(learner_id)) > 1:
            found.append(f"mixes scripts ({', '.join(sorted(scripts))})")
        if not all(unicodedata.is_normalized("NFC", clean(n)) for n in names):
            found.append("name normalised to NFC")
        flags[learner_id] = found
        by_skeleton[skeleton(learner_id)].append(learner_id)
    for group in by_skeleton.values():
        for learner_id in group:
            others = [shown(o) for o in group if o != learner_id]
            if others:
                flags[learner_id].append(f"looks like {', '.join(others)}")
    return {i: f for i, f in flags.items() if f}


def skeleton(learner_id: str) -> str:
    """What an id looks like: compatibility forms folded, invisible characters dropped,
    case folded, and each letter that imitates an ASCII one replaced by it (Unicode's
    confusables data)."""
    text = unicodedata.normalize("NFKC", learner_id)
    visible = "".join(c for c in text if not _is_invisible(c))
    return "".join(_prototype(c) for c in unicodedata.normalize("NFKC", visible.casefold()))


def _prototype(c: str) -> str:
    if c.isascii():
        return c
    twins = [g["c"] for g in _confusables().get(c, ()) if len(g["c"]) == 1 and g["c"].isascii()]
    return min(twins).casefold() if twins else c


def _scripts(text: str) -> set[str]:
    from confusable_homoglyphs import categories

    return {categories.alias(c) for c in text if c.isalpha()} - {"COMMON"}


@cache
def _confusables() -> dict:
    from confusable_homoglyphs import confusables

    return confusables.confusables_data


class Sanitised:
    """A base for result records: every string assigned to a field, at construction or later,
    passes through `clean`, so every writer of the record is safe by construction."""

    def __setattr__(self, name: str, value: object) -> None:
        super().__setattr__(name, clean(value) if isinstance(value, str) else value)
