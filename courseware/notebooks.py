"""One Jupyter notebook per exercise, generated from the content model (the same statement,
starter and ids as the site and the grader: no second copy to keep in sync).

Each notebook: a cell that installs the course where it is missing (Colab) and imports the
notebook API; the statement as markdown (its `$...$` math is Jupyter's); the starter in one
code cell tagged `exercise` whose first line is `%%exercise NN_slug`; a check cell and a hint
cell. The same content always gives the same bytes (fixed cell ids, sorted keys), so committed
notebooks can be compared with the content (`course verify`). nbformat is imported only here.
"""

from __future__ import annotations

from pathlib import Path

from courseware import __version__, distribution
from courseware.content import Exercise, Module
from courseware.exercise_cells import MAGIC, SUFFIX, TAG
from courseware.starters import Starter, is_starter, normal

FOLDER = "notebooks"  # where a clone keeps its generated notebooks
IMPORT = "from course.notebook import check, hint, quiz"
KERNEL = {"display_name": "Python 3", "language": "python", "name": "python3"}


def file_name(ex: Exercise) -> str:
    return f"{ex.id}{SUFFIX}"


def requirement(module: Module) -> str:
    """What the first cell installs: this version, from the repository course.yaml names
    (its tag v<version>), else from the package index."""
    extra = f"{distribution.name()}[notebook]"
    if module.repository:
        return f"{extra} @ git+{module.repository}@v{__version__}"
    return f"{extra}=={__version__}"


def colab_url(module: Module, ex: Exercise) -> str | None:
    """The "Open in Colab" link of the committed notebook, when the repository is on GitHub."""
    prefix = "https://github.com/"
    if not (module.repository or "").startswith(prefix):
        return None
    repo = module.repository.removeprefix(prefix).removesuffix(".git").strip("/")
    return f"https://colab.research.google.com/github/{repo}/blob/v{__version__}/{FOLDER}/{file_name(ex)}"


def render(module: Module, ex: Exercise) -> str:
    """The notebook of `ex`, as the text of its .ipynb file."""
    import nbformat

    return nbformat.writes(notebook(module, ex))


def notebook(module: Module, ex: Exercise):
    """The notebook of `ex` (an nbformat NotebookNode, valid under nbformat.validate)."""
    from nbformat import v4

    cells = [
        v4.new_code_cell(INSTALL.format(requirement=requirement(module), imports=IMPORT)),
        v4.new_markdown_cell(in_notebook(ex.statement.read_text("utf-8").strip(), ex)),
        v4.new_markdown_cell(YOUR_CODE.format(id=ex.id, file=ex.file)),
        v4.new_code_cell(
            f"{MAGIC} {ex.id}\n{in_notebook(ex.starter.text.strip(), ex)}",
            metadata={"tags": [TAG]},
        ),
        v4.new_markdown_cell(CHECK),
        v4.new_code_cell(f'check("{ex.id}")'),
        v4.new_markdown_cell(HINT),
        v4.new_code_cell(f'hint("{ex.id}")'),
    ]
    for cell, name in zip(cells, CELL_IDS, strict=True):
        cell["id"] = name
    metadata = {"kernelspec": KERNEL, "language_info": {"name": "python"}}
    metadata["course"] = {"module": module.info.slug, "exercise": ex.id, "version": __version__}
    return v4.new_notebook(cells=cells, metadata=metadata)


def in_notebook(text: str, ex: Exercise) -> str:
    """A statement or starter as it reads in the notebook: the file and the terminal commands
    it names become the exercise cell and the notebook's own calls (line count unchanged, so
    that a message's line numbers stay those of the cell)."""
    for file_words, cell_words in (
        ("Read README.md beside this file first.", "Read the statement above first."),
        (f"Grade it with:  course grade exercises/{ex.id}", f'Check it with:  check("{ex.id}")'),
        (f"`course grade exercises/{ex.id}`", f'`check("{ex.id}")`'),
        ("`course grade --hints`", f'`hint("{ex.id}")`'),
        (f"In `{ex.file}`,", "In the exercise cell below,"),
        (f"in `{ex.file}`", "in the exercise cell below"),
    ):
        text = text.replace(file_words, cell_words)
    return text


def untouched(data: bytes, ex: Exercise) -> bool:
    """True when `data` is the exercise's starter, as its file or as its notebook cell reads."""
    cell = Starter(ex.starter.file, normal(in_notebook(ex.starter.text, ex)))
    return is_starter(data, ex.starter) or is_starter(data, cell)


def stale(module: Module, folder: Path) -> dict[str, str]:
    """What differs between the notebooks in `folder` and the content: file name -> why
    ("" for none). Missing notebooks, old ones and files no exercise makes all count."""
    problems = {}
    wanted = {file_name(ex): ex for ex in module.exercises}
    for name, ex in wanted.items():
        path = folder / name
        if not path.is_file():
            problems[name] = "missing"
        elif path.read_text("utf-8") != render(module, ex):
            problems[name] = "differs from what the content gives"
    for path in sorted(folder.glob(f"*{SUFFIX}")):
        if path.name not in wanted:
            problems[path.name] = "belongs to no exercise of course.yaml"
    return problems


CELL_IDS = ("install", "statement", "your-code", "exercise", "check-intro", "check", "hint-intro")
CELL_IDS += ("hint",)
INSTALL = """\
# Run this cell first. It installs the course where it is missing (on Colab) and does
# nothing where it is installed (your own Jupyter, after `pip install`).
import importlib
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("course") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "{requirement}"], check=True)
    importlib.invalidate_caches()
{imports}"""
YOUR_CODE = """\
## Your code

Write your solution in the next cell, in place of the `TODO`s, and run it (Shift+Enter). Its
first line, `%%exercise {id}`, runs the cell as usual and hands its code to `check` below; keep
that line. This cell is what `course grade` reads in a saved notebook: the same code as
`{file}`."""
CHECK = """\
## Check it

The check runs your code in a separate, confined process (never in this notebook's kernel),
with the same checks as `course grade`. Run the exercise cell again after every change, then
this one."""
HINT = """\
Stuck? Each run of the next cell shows one more hint (the same ladder as
`course grade --hints`); the last one is nearly the answer."""
