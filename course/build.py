"""`course build`: the module as a static HTML site, rendered from site/ with Jinja2.

Everything is read through the content model. One function, `get_context`, builds the context
of every page; the templates in site/ extend base.html, and site/static/ is copied as it is.
The pages work from file:// and when served: relative links only, and a Content-Security-Policy
that lets no request leave the site. Equations, highlighting and figures are made here, at build
time, so the pages need JavaScript only for the copy buttons and the quiz.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TypedDict

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from course import __version__, figures, markup
from course.markup import Heading
from courseware import notebooks
from courseware.content import Exercise, Module, ModuleInfo, load_module
from courseware.errors import CourseError
from courseware.quizbank import (
    MultipleChoice,
    Numeric,
    Question,
    QuizBank,
    ShortText,
    SingleChoice,
    normalise,
)

DEFAULT_OUTPUT = "_site"
MARKER = ".course-build"  # marks a folder as a build, which the next build may replace
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'"
)
FIGURES = "site/figures"  # a module's figures: NAME.svg drawn by hand, NAME.json a line chart
NOT_A_BUILD = (
    "{out} is not empty and was not made by `course build` (it has no {marker} file), so it "
    "is left as it is. Choose an empty or new folder with -o DIR."
)
INSIDE_EXERCISES = (
    "{out} is inside {folder}: the site's copies of the starters would be graded with your "
    "files. Build somewhere else (the default, _site/, is beside exercises/)."
)
INSTRUCTIONS = {
    "single": "Choose one answer.",
    "multiple": "Choose every answer that is right.",
    "numeric": "Type a number.",
    "text": "Type a word or a few.",
}
BAD_FIGURE_DATA = (
    "{path} is not a chart's data ({why}): it needs `series` (name -> numbers) and `chart` "
    "(title, x_axis, y_axis, x_column, reading); run {command} to write it again."
)


class Page(TypedDict):
    """One page of the site: its file, its title in the navigation and its template."""

    url: str
    title: str
    template: str
    exercise: str | None  # the exercise id, on an exercise or solution page
    quiz: str | None  # the bank id, on a quiz page


class ExerciseView(TypedDict):
    """What an exercise page (or its solution page) shows."""

    id: str
    number: int
    title: str
    points: int
    objectives: list[dict[str, str]]
    statement: Markup
    file: str
    starter: Markup
    starter_url: str
    notebook_url: str  # the exercise's notebook, to download
    colab_url: str | None  # "Open in Colab", where course.yaml names a GitHub repository
    hints: list[Markup]
    grade: Markup  # the command that grades it, as a code block
    solution: Markup | None
    solution_url: str | None
    solution_page: str | None


class QuestionView(TypedDict):
    """One question as form fields; its answer is only in the quiz's data."""

    id: str
    number: int
    type: str  # single, multiple, numeric or text
    instruction: str
    prompt: Markup
    inline_prompt: bool  # the prompt fits in the <legend>
    choices: list[Markup]


class QuizView(TypedDict):
    """A quiz page: the questions, and their answers as JSON for client-side checking."""

    id: str
    title: str
    questions: list[QuestionView]
    data: Markup


class Context(TypedDict):
    """The context of every template; fields that do not apply to a page are empty."""

    info: ModuleInfo
    version: str
    csp: str
    page: Page
    pages: list[Page]
    previous: Page | None
    next: Page | None
    with_solutions: bool
    objectives: list[dict[str, str]]
    prerequisites: list[str]
    title: str
    body: Markup
    toc: list[Heading]
    exercise: ExerciseView | None
    quiz: QuizView | None


def build(
    output: Path | None = None, with_solutions: bool = False, root: Path | None = None
) -> str:
    """Build the site into `output` (default: _site/ in the learner's workspace, else in the
    current folder; never inside the installed package); say what was done."""
    from course.learning import learner_workspace

    module = load_module(root)
    workspace = learner_workspace(module)
    out = output or (workspace.root if workspace else Path.cwd()) / DEFAULT_OUTPUT
    try:
        out = out.resolve()
    except (OSError, RuntimeError) as exc:  # a symbolic link loop (RuntimeError before 3.13)
        raise CourseError(f"-o {out}: cannot be used as a folder ({exc}).") from None
    for folder in {module.root / "exercises", *([workspace.exercises] if workspace else [])}:
        try:
            inside = out == folder.resolve() or folder.resolve() in out.parents
        except (OSError, RuntimeError):  # a link loop where exercises/ should be: not inside
            inside = False
        if inside:
            raise CourseError(INSIDE_EXERCISES.format(out=out, folder=folder))
    files = render_site(module, with_solutions)
    try:
        _prepare(out)
        marker = files.pop(MARKER)
        (out / MARKER).write_text(marker, encoding="utf-8")  # first: a half build is still one
        for rel, content in files.items():
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, Path):
                shutil.copyfile(content, target)
            else:
                target.write_text(content, encoding="utf-8")
    except OSError as exc:
        from course.oserror import os_error

        raise CourseError(f"cannot build the site: {os_error(exc)}") from None
    pages = sum(1 for rel in files if rel.endswith(".html"))
    kind = "instructor build, with solutions" if with_solutions else "no solutions"
    return f"Built {pages} pages ({kind}) into {out}. Open {out / 'index.html'} in a browser."


def render_site(module: Module, with_solutions: bool) -> dict[str, str | Path]:
    """Every file of the site, by relative path: rendered text, or a file to copy."""
    env = Environment(
        loader=FileSystemLoader(module.root / "site"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["duration"] = _duration
    pages = site_pages(module, with_solutions)
    files: dict[str, str | Path] = {
        page["url"]: env.get_template(page["template"]).render(
            get_context(module, page, pages, with_solutions)
        )
        for page in pages
    }
    static = module.root / "site" / "static"
    for path in sorted(static.rglob("*")):
        if path.is_file():
            files[f"static/{path.relative_to(static).as_posix()}"] = path
    files["static/highlight.css"] = markup.highlight_css()
    for ex in module.exercises:
        files[_starter_url(ex)] = ex.starter.text
        files[_notebook_url(ex)] = notebooks.render(module, ex)
        if with_solutions:
            files[_solution_url(ex)] = ex.solution
    files[MARKER] = f"Made by `course build` {__version__}; the next build replaces this folder.\n"
    return files


def site_pages(module: Module, with_solutions: bool) -> list[Page]:
    """The pages in reading order: overview, lesson, exercises, quizzes, then any solutions."""
    pages = [
        _page("index.html", "Overview", "index.html"),
        _page("lesson.html", "Lesson", "lesson.html"),
    ]
    for ex in module.exercises:
        title = f"Exercise {ex.number}: {ex.title}"
        pages.append(_page(f"exercise-{ex.id}.html", title, "exercise.html", exercise=ex.id))
    for bank in module.quizzes:
        pages.append(
            _page(f"quiz-{bank.id}.html", f"Quiz: {bank.title}", "quiz.html", quiz=bank.id)
        )
    if with_solutions:
        for ex in module.exercises:
            title = f"Solution {ex.number}: {ex.title}"
            pages.append(_page(f"solution-{ex.id}.html", title, "solution.html", exercise=ex.id))
    return pages


def get_context(module: Module, page: Page, pages: list[Page], with_solutions: bool) -> Context:
    """The template context of `page`: the module, the navigation, and the page's own content."""
    at = pages.index(page)
    context = Context(
        info=module.info,
        version=__version__,
        csp=CSP,
        page=page,
        pages=pages,
        previous=pages[at - 1] if at > 0 else None,
        next=pages[at + 1] if at + 1 < len(pages) else None,
        with_solutions=with_solutions,
        objectives=[{"id": o.id, "text": o.text} for o in module.objectives],
        prerequisites=list(module.prerequisites),
        title=page["title"],
        body=Markup(""),
        toc=[],
        exercise=None,
        quiz=None,
    )
    if page["template"] == "lesson.html":
        lesson = markup.render(module.lesson.read_text("utf-8"), _figures(module))
        context.update(title=lesson.title or page["title"], body=lesson.html)
        context["toc"] = list(lesson.headings)
    if page["exercise"]:
        context["exercise"] = _exercise_view(
            module, module.exercise(page["exercise"]), with_solutions
        )
    if page["quiz"]:
        bank = next(b for b in module.quizzes if b.id == page["quiz"])
        context["quiz"] = _quiz_view(bank)
    return context


def _page(
    url: str, title: str, template: str, exercise: str | None = None, quiz: str | None = None
) -> Page:
    return Page(url=url, title=title, template=template, exercise=exercise, quiz=quiz)


def _exercise_view(module: Module, ex: Exercise, with_solutions: bool) -> ExerciseView:
    statement = markup.render(ex.statement.read_text("utf-8"))
    objectives = [{"id": o.id, "text": o.text} for o in module.objectives if o.id in ex.objectives]
    solution = markup.code_block(ex.solution.read_text("utf-8")) if with_solutions else None
    return ExerciseView(
        id=ex.id,
        number=ex.number,
        title=ex.title,
        points=ex.points,
        objectives=objectives,
        statement=statement.html,
        file=ex.file,
        starter=markup.code_block(ex.starter.text),
        starter_url=_starter_url(ex),
        notebook_url=_notebook_url(ex),
        colab_url=notebooks.colab_url(module, ex),
        hints=[markup.inline(hint) for hint in ex.hints],
        grade=markup.code_block(f"course grade exercises/{ex.id}", "shell"),
        solution=solution,
        solution_url=_solution_url(ex) if with_solutions else None,
        solution_page=f"solution-{ex.id}.html" if with_solutions else None,
    )


def _quiz_view(bank: QuizBank) -> QuizView:
    """The questions as form fields, and the data that quiz.js checks answers against."""
    questions = [_question_view(n, q) for n, q in enumerate(bank.questions, start=1)]
    answers = [_answer_data(q) for q in bank.questions]
    data = {"bank": bank.id, "shuffle": bank.shuffle, "questions": answers}  # quiz.js shuffles
    payload = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")  # safe in <script>
    return QuizView(id=bank.id, title=bank.title, questions=questions, data=Markup(payload))


def _question_view(number: int, q: Question) -> QuestionView:
    choices = q.choices if isinstance(q, SingleChoice | MultipleChoice) else []
    inline = _one_paragraph(q.prompt)
    return QuestionView(
        id=q.id,
        number=number,
        type=q.type,
        instruction=INSTRUCTIONS[q.type],
        prompt=markup.inline(q.prompt) if inline else markup.render(q.prompt).html,
        inline_prompt=inline,
        choices=[markup.inline(c.text) for c in choices],
    )


def _answer_data(q: Question) -> dict:
    """What quiz.js needs to score `q` as quizbank.py does, and the feedback it may show."""
    data = {"id": q.id, "type": q.type, "explanation": markup.render(q.explanation).html}
    data["group"] = q.group  # asked together and in order when quiz.js shuffles
    if isinstance(q, SingleChoice | MultipleChoice):
        data["correct"] = sorted(q.correct())
        data["feedback"] = [markup.inline(c.feedback) if c.feedback else None for c in q.choices]
        data["fixed"] = [i for i, c in enumerate(q.choices) if c.fixed]  # kept in place
    if isinstance(q, MultipleChoice):
        data["rule"] = q.partial_credit
    if isinstance(q, Numeric):
        data.update(answer=q.answer, abs_tol=q.abs_tol, rel_tol=q.rel_tol, shown=f"{q.answer:g}")
        data["mistakes"] = [
            {"answer": m.answer, "feedback": markup.inline(m.feedback)} for m in q.mistakes
        ]
    if isinstance(q, ShortText):
        data.update(accepted=sorted(q.accepted()), shown=q.answer)
        data["mistakes"] = [  # compared with the learner's answer after the same normalising
            {"answer": normalise(m.answer), "feedback": markup.inline(m.feedback)}
            for m in q.mistakes
        ]
    return data


def _one_paragraph(text: str) -> bool:
    return "\n\n" not in text.strip() and "```" not in text


def _figures(module: Module) -> dict:
    """The figures the lesson may place with a ```figure NAME``` block, by name: each file of
    the module's site/figures/ (cell_diagram.svg is `cell-diagram`); none without that folder."""
    folder = module.root / FIGURES
    found = sorted(folder.glob("*.svg")) + sorted(folder.glob("*.json")) if folder.is_dir() else []
    return {path.stem.replace("_", "-"): _figure(path) for path in found}


def _figure(path: Path) -> markup.Figure:
    """Draws the figure in `path` around its caption: an SVG as it is, JSON as a line chart."""
    name, text = path.stem.replace("_", "-"), path.read_text("utf-8")
    if path.suffix == ".svg":
        return lambda caption: figures.inline_svg(name, text, caption)
    data = _chart_data(path, text)
    return lambda caption: figures.line_chart(name, data, caption)


def _chart_data(path: Path, text: str) -> dict:
    """A chart's JSON, refused with the file and the command that writes it when malformed."""
    data = None
    try:
        data = json.loads(text)
        if not isinstance(data.get("series"), dict) or not data["series"]:
            raise ValueError("no series")
        missing = {"title", "x_axis", "y_axis", "x_column", "reading"} - set(data["chart"])
        if missing:
            raise ValueError(f"chart lacks {', '.join(sorted(missing))}")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        command = data.get("command", "its script") if isinstance(data, dict) else "its script"
        where = f"{FIGURES}/{path.name}"
        raise CourseError(BAD_FIGURE_DATA.format(path=where, why=exc, command=command)) from None
    return data


def _duration(minutes: int) -> str:
    """90 -> "1 h 30 min", for people."""
    hours, rest = divmod(minutes, 60)
    return " ".join(p for p in (f"{hours} h" if hours else "", f"{rest} min" if rest else "") if p)


def _starter_url(ex: Exercise) -> str:
    return f"files/exercises/{ex.id}/{ex.file}"


def _notebook_url(ex: Exercise) -> str:
    return f"files/notebooks/{notebooks.file_name(ex)}"


def _solution_url(ex: Exercise) -> str:
    return f"files/solutions/{ex.id}/{ex.file}"


def _prepare(out: Path) -> None:
    """Make `out` an empty folder, emptying it only if it holds a previous build."""
    if out.exists() and not out.is_dir():
        raise CourseError(f"{out} is a file, not a folder; choose another with -o DIR.")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise CourseError(NOT_A_BUILD.format(out=out, marker=MARKER))
        for child in out.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    out.mkdir(parents=True, exist_ok=True)
