"""The engine knows no LSTM: no file of course/, courseware/ or the engine part of grader/ names
this module (LSTM, its package name), an exercise (an id such as NN_name, of any module) or
torch.nn.LSTM. A module's own content lives in its files; grader/checks/ (its checks, and the
meanings.py that explains torch's errors in its words) and a probes/ folder are this module's,
so they may. A new hit fails, listed as file:line; nothing is allowed."""

from __future__ import annotations

import re
from pathlib import Path

from tests.helpers import REPO

ENGINE = ("course", "courseware", "grader")
MODULE_SIDE = {"checks", "probes"}  # folders under grader/ that hold the module's own code
NAMES = re.compile(r"lstm|\b\d\d_[a-z]", re.IGNORECASE)  # the module, or any exercise id


def engine_files() -> list[Path]:
    """Every Python file of the engine, the module's own checks and probes left out."""
    files = [p for folder in ENGINE for p in sorted((REPO / folder).rglob("*.py"))]
    return [p for p in files if not MODULE_SIDE & set(p.relative_to(REPO).parts[1:-1])]


def hits(files: list[Path]) -> list[tuple[str, int, str]]:
    """(file, line number, line) for each line naming the module."""
    return [
        (path.relative_to(REPO).as_posix(), number, line.strip())
        for path in files
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if NAMES.search(line)
    ]


def test_no_engine_file_names_the_module() -> None:
    found = hits(engine_files())
    assert not found, "the engine names this module:\n" + "\n".join(
        f"{file}:{number}: {line}" for file, number, line in found
    )


def test_the_guard_finds_a_name_and_says_where(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(f"{__name__}.REPO", tmp_path)
    engine = tmp_path / "course" / "workspace.py"
    engine.parent.mkdir()
    engine.write_text(
        '"""Made for you."""\nFIRST = "exercises/01_lstm_network"\nX = 3\nY = "08_gru"\n'
    )
    side = tmp_path / "grader" / "checks" / "check_x.py"
    side.parent.mkdir(parents=True)
    side.write_text("import torch.nn.LSTM\n")
    assert hits(engine_files()) == [
        ("course/workspace.py", 2, 'FIRST = "exercises/01_lstm_network"'),
        ("course/workspace.py", 4, 'Y = "08_gru"'),
    ]
