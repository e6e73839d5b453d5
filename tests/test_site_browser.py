"""The built site in headless Chromium (Debian's `chromium`, driven by Playwright).

No console errors, no request that leaves the site (served over HTTP and from file://), a quiz
answered with the keyboard alone, client-side scoring identical to course/quizbank.py, an
axe-core scan in light and dark mode, and screenshots at desktop and phone width written to
_site_screenshots/ for a person to look at. Skipped, with the reason, where Chromium or the
Python packages are missing; `.ci/run` installs Chromium so that CI runs them.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from itertools import combinations
from pathlib import Path

import pytest

from course.build import build
from courseware.content import load_module
from courseware.quizbank import MultipleChoice, Numeric, ShortText, SingleChoice

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "_site_screenshots"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
BLOCKING = ("serious", "critical")
AXE_OPTIONS = {"resultTypes": ["violations"], "preload": False}  # preload fetches CSS: CSP says no

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip(
        "Chromium is not installed (apt-get install chromium; .ci/run does it)",
        allow_module_level=True,
    )

MODULE = load_module(ROOT)
BANK = MODULE.quizzes[0]
QUIZ_PAGE = f"quiz-{BANK.id}.html"
PAGES = ["index.html", "lesson.html", f"exercise-{MODULE.exercises[0].id}.html", QUIZ_PAGE]


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "_site"
    build(out, root=ROOT)
    return out


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    """The site served on a free local port; yields its base URL."""
    handler = functools.partial(Quiet, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Watched:
    """A page whose console errors and requests are recorded; requests outside are blocked."""

    def __init__(self, browser, allowed: tuple[str, ...], **context_options) -> None:
        self.context = browser.new_context(**context_options)
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.allowed = allowed
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        self.page.on("request", self._request)

    def _route(self, route) -> None:
        if route.request.url.startswith(self.allowed):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def _request(self, request) -> None:
        if not request.url.startswith((*self.allowed, "data:", "about:")):
            self.outside.append(request.url)

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} at {message.location}")

    def check_clean(self) -> None:
        assert not self.errors, "console errors:\n" + "\n".join(self.errors)
        assert not self.outside, "requests outside the site:\n" + "\n".join(self.outside)


@pytest.fixture
def open_page(browser, server: str, site: Path):
    """open_page(**context options) -> a Watched page; checked clean after the test."""
    opened: list[Watched] = []

    def make(**options) -> Watched:
        watched = Watched(browser, (server, site.as_uri()), **options)
        opened.append(watched)
        return watched

    yield make
    for watched in opened:
        watched.context.close()
    for watched in opened:
        watched.check_clean()


def tab_to(page, selector: str, limit: int = 400) -> None:
    """Press Tab until the focused element matches `selector`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    pytest.fail(f"Tab never reached {selector}")


def feedback(page, question_id: str) -> str:
    return page.inner_text(f"#feedback-{question_id}")


def first(kind: type):
    return next(q for q in BANK.questions if isinstance(q, kind))


def shown_values(page, question_id: str) -> list[int]:
    """The YAML index of each choice of a question, in the order the page shows them."""
    return page.eval_on_selector_all(
        f"#question-{question_id} input", "inputs => inputs.map((i) => Number(i.value))"
    )


SEEDED = """(() => {  // Math.random made repeatable (mulberry32), so that a test can predict it
  let s = %d >>> 0;
  Math.random = () => {
    s = (s + 0x6D2B79F5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
})();"""


@pytest.mark.parametrize("how", ["served", "file"])
def test_every_page_loads_cleanly(open_page, server: str, site: Path, how: str) -> None:
    watched = open_page()
    for name in sorted(p.name for p in site.glob("*.html")):
        url = server + name if how == "served" else (site / name).as_uri()
        watched.page.goto(url)
        assert watched.page.locator("main h1").count() == 1, name
    if watched.page.locator("button.copy").count():
        assert watched.page.locator("button.copy").first.is_visible()  # site.js ran


def test_a_quiz_from_file_url_checks_answers(open_page, site: Path) -> None:
    question = first(SingleChoice)
    watched = open_page()
    watched.page.goto((site / QUIZ_PAGE).as_uri())
    form = watched.page.locator(f"#question-{question.id}")
    form.locator(f"input[value='{min(question.correct())}']").check()
    form.locator("button.check").click()
    assert feedback(watched.page, question.id).startswith("✓ Right")


def test_the_quiz_works_with_the_keyboard_alone(open_page, server: str) -> None:
    watched = open_page()
    page = watched.page
    page.goto(server + QUIZ_PAGE)

    single = first(SingleChoice)
    shown = shown_values(page, single.id)  # shuffled at each page load
    right = min(single.correct())
    wrong = next(i for i in range(len(single.choices)) if i != right)
    tab_to(page, f"#question-{single.id} input")
    for _ in range(shown.index(wrong)):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")  # checks the focused radio button (already checked if moved)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # Check
    text = feedback(page, single.id)
    assert text.startswith("✗ Not right: 0 of 1 point.")
    assert "Why:" in text
    assert "it is wrong" in page.inner_text(f"#note-{single.id}-{wrong}")
    assert "Score: 0 of" in page.inner_text("#quiz-score")

    page.keyboard.press("Tab")  # Try again
    page.keyboard.press("Enter")
    assert feedback(page, single.id) == ""
    for _ in range(shown.index(right)):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert feedback(page, single.id).startswith("✓ Right: 1 of 1 point.")

    multiple = first(MultipleChoice)
    tab_to(page, f"#question-{multiple.id} input")
    for i in shown_values(page, multiple.id):
        if i in multiple.correct():
            page.keyboard.press("Space")
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert feedback(page, multiple.id).startswith("✓ Right")

    numeric, text_question = first(Numeric), first(ShortText)
    tab_to(page, f"#answer-{numeric.id}")
    page.keyboard.type(f"{numeric.answer}")
    page.keyboard.press("Enter")
    assert feedback(page, numeric.id).startswith("✓ Right")
    tab_to(page, f"#answer-{text_question.id}")
    page.keyboard.type(f"  {text_question.answer.upper()}. ")
    page.keyboard.press("Enter")
    assert feedback(page, text_question.id).startswith("✓ Right")

    total = len(BANK.questions)
    score = page.inner_text("#quiz-score")
    assert score == f"Score: 4 of {total} points. 4 of {total} questions checked."


def question_order(page) -> list[str]:
    return page.eval_on_selector_all(
        "form.question", "forms => forms.map((f) => f.dataset.question)"
    )


def test_each_page_load_shuffles_as_the_terminal_does(open_page, server: str) -> None:
    assert BANK.shuffle  # the bank asks for it, so the page does it
    orders, right_places = {}, set()
    for seed in (1, 1, 2):
        watched = open_page()
        watched.context.add_init_script(SEEDED % seed)
        page = watched.page
        page.goto(server + QUIZ_PAGE)
        order = question_order(page)
        assert orders.setdefault(seed, order) == order  # the same random numbers, the same quiz
        assert sorted(order) == sorted(q.id for q in BANK.questions)
        numbers = page.eval_on_selector_all(".question-number", "n => n.map((e) => e.textContent)")
        assert numbers == [str(n) for n in range(1, len(order) + 1)]  # numbered as shown
        for q in BANK.questions:
            if isinstance(q, SingleChoice):
                right_places.add(shown_values(page, q.id).index(min(q.correct())))
        single = first(SingleChoice)
        form = page.locator(f"#question-{single.id}")
        form.locator(f"input[value='{min(single.correct())}']").check()
        form.locator("button.check").click()
        assert feedback(page, single.id).startswith("✓ Right")  # scored by the bank's index
    assert orders[1] != orders[2] and orders[1] != [q.id for q in BANK.questions]
    assert len(right_places) == 4  # the right choice shows up anywhere, not at one letter


def test_groups_stay_together_and_fixed_choices_stay_put(open_page, server: str) -> None:
    watched = open_page()
    watched.page.goto(server + QUIZ_PAGE)
    questions = [{"id": f"q{i}", "group": "g" if i in (2, 3, 4) else None} for i in range(8)]
    orders = watched.page.evaluate(
        """([questions, fixed]) => [...Array(50)].map(() => ({
             questions: QuizOrder.questionOrder(questions, Math.random).map((q) => q.id),
             choices: QuizOrder.choiceOrder(5, fixed, Math.random),
           }))""",
        [questions, [1, 4]],
    )
    assert len({tuple(o["questions"]) for o in orders}) > 1
    for o in orders:
        start = o["questions"].index("q2")
        assert o["questions"][start : start + 3] == ["q2", "q3", "q4"]
        assert (
            o["choices"][1] == 1
            and o["choices"][4] == 4
            and sorted(o["choices"]) == [0, 1, 2, 3, 4]
        )
    assert len({tuple(o["choices"]) for o in orders}) == 6  # the other three, in every order


def responses(question) -> list:
    """Answers to try on `question`: right, wrong, anticipated mistakes and edge cases."""
    if isinstance(question, SingleChoice):
        return list(range(len(question.choices)))
    if isinstance(question, MultipleChoice):
        n = range(len(question.choices))
        return [list(c) for k in range(1, len(n) + 1) for c in combinations(n, k)]
    if isinstance(question, Numeric):
        a = question.answer
        slack = max(question.abs_tol, question.rel_tol * abs(a))
        edges = [a, a + slack * 0.99, a - slack * 1.01, a * 2, -a, 0.0]
        return edges + [m.answer for m in question.mistakes]
    texts = [question.answer, *question.accept, *(m.answer for m in question.mistakes)]
    return [*texts, f" `{question.answer.upper()}`. ", "something else"]


def test_client_scoring_matches_the_quiz_model(open_page, server: str) -> None:
    watched = open_page()
    watched.page.goto(server + QUIZ_PAGE)
    data = watched.page.evaluate("JSON.parse(document.getElementById('quiz-data').textContent)")
    by_id = {q["id"]: q for q in data["questions"]}
    cases = [(q, r) for q in BANK.questions for r in responses(q)]
    scored = watched.page.evaluate(
        "cases => cases.map(([q, r]) => QuizScoring.score(q, r))",
        [[by_id[q.id], r] for q, r in cases],
    )
    for (question, response), client in zip(cases, scored, strict=True):
        expected = question.score(frozenset(response) if isinstance(response, list) else response)
        assert client["credit"] == pytest.approx(expected.credit), (question.id, response)
        assert len(client["feedback"]) == len(expected.feedback), (question.id, response)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_accessibility_violations(open_page, server: str, scheme: str) -> None:
    axe_playwright = pytest.importorskip(
        "axe_playwright_python.sync_playwright", reason="axe-playwright-python is not installed"
    )
    axe = axe_playwright.Axe()
    watched = open_page(color_scheme=scheme)
    page = watched.page
    found = []
    for name in PAGES:
        page.goto(server + name)
        if name == QUIZ_PAGE:  # show feedback in every state: right, wrong, partly right
            for q in BANK.questions:
                if isinstance(q, SingleChoice | MultipleChoice):
                    page.locator(f"#question-{q.id} input").first.check()
                    page.locator(f"#question-{q.id} button.check").click()
        for details in page.locator("details").all():
            details.evaluate("d => d.open = true")
        violations = axe.run(page, options=AXE_OPTIONS).response["violations"]
        found += [
            f"{name}: {v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(str(node["target"]) for node in v["nodes"][:3])
            for v in violations
            if v["impact"] in BLOCKING
        ]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("device", VIEWPORTS)
def test_screenshots_and_no_sideways_scrolling(
    open_page, server: str, device: str, scheme: str
) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    watched = open_page(viewport=VIEWPORTS[device], color_scheme=scheme)
    page = watched.page
    for name in PAGES:
        page.goto(server + name)
        page.screenshot(
            path=SCREENSHOTS / f"{Path(name).stem}-{device}-{scheme}.png", full_page=True
        )
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {device} width"
