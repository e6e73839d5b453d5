"""The module's quiz in a notebook: one question at a time with ipywidgets, or typed answers
(the terminal quiz, whose input() Jupyter and Colab answer) where widgets are not available.

The widgets only collect an answer and show what the terminal quiz prints: parsing, scoring,
per-choice feedback, the summary and the history are course.quiz's own, so a question scores
the same in both and a finished attempt lands in the same history.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from course import history
from course import quiz as terminal
from course.history import Outcome
from course.markup import inline
from courseware.content import Module
from courseware.quizbank import LETTERS, Item, MultipleChoice, QuizBank, SingleChoice


def start(bank: str | None = None, seed: int | None = None, count: int | None = None) -> None:
    """Ask the quiz with widgets where they can show, else as the terminal quiz does."""
    if _widget_shell() is None:
        terminal.run(bank, seed=seed, count=count)
        return
    from IPython.display import display

    session = WidgetQuiz(*terminal.prepare(bank, seed, None, count))
    display(session.box)
    session.show()


@dataclass
class WidgetQuiz:
    """One attempt, driven by the learner's clicks: a question, its answer, the feedback."""

    module: Module
    bank: QuizBank
    items: tuple[Item, ...]
    seed: int | None
    outcomes: list[Outcome] = field(default_factory=list)
    started: str = field(default_factory=terminal.now)

    def __post_init__(self) -> None:
        import ipywidgets as w

        history.check_writable()  # before the first question: never lose an attempt
        self.question, self.answer_box, self.feedback = w.HTML(), w.VBox(), w.Output()
        self.submit, self.next = w.Button(description="Answer"), w.Button(description="Next")
        self.submit.on_click(lambda _: self.answer())
        self.next.on_click(lambda _: self.advance())
        buttons = w.HBox([self.submit, self.next])
        self.box = w.VBox([self.question, self.answer_box, buttons, self.feedback])
        self.paint = terminal.palette()
        self.fields: list = []

    @property
    def item(self) -> Item:
        return self.items[len(self.outcomes)]

    def show(self) -> None:
        """Put the next question on screen, with the widget its kind of answer needs."""
        n, item = len(self.outcomes) + 1, self.item
        head = f"<b>Question {n} of {len(self.items)}</b> [{item.question.objective}]"
        self.question.value = f"<p>{head}</p><p>{inline(item.question.prompt)}</p>"
        self.fields = _fields(item)
        self.answer_box.children = self.fields
        self.submit.disabled, self.next.disabled = False, True
        self.feedback.clear_output()

    def typed(self) -> str:
        """The answer as it would be typed in the terminal: b, a,c, 12 or a few words."""
        if isinstance(self.item.question, MultipleChoice):
            return ",".join(f.description[0] for f in self.fields if f.value)
        value = self.fields[0].value
        return "" if value is None else str(value)

    def answer(self) -> None:
        """Score the answer given (or ask again for one that cannot be read)."""
        with self.feedback:
            self.feedback.clear_output()
            try:
                response = terminal.parse(self.item, self.typed())
            except ValueError as exc:
                print(f"Please {exc}.")
                return
            self.outcomes.append(terminal.answer(self.item, response, self.paint))
        self.submit.disabled, self.next.disabled = True, False
        last = len(self.outcomes) == len(self.items)
        self.next.description = "See your score" if last else "Next"

    def advance(self) -> None:
        """The next question, or the score, the review and the save once all are answered."""
        if len(self.outcomes) < len(self.items):
            self.show()
            return
        self.question.value, self.answer_box.children = "", ()
        self.submit.disabled = self.next.disabled = True
        attempt = terminal.attempt_of(self.bank, self.seed, self.started, tuple(self.outcomes))
        with self.feedback:
            self.feedback.clear_output()
            terminal.finish(self.module, self.items, attempt, self.paint)


def _widget_shell():
    """The IPython shell running this code, where ipywidgets is there to draw in it."""
    if "IPython" not in sys.modules:
        return None
    try:
        import ipywidgets  # noqa: F401 (only whether it is there)
    except ImportError:
        return None
    from IPython import get_ipython

    return get_ipython()


def _fields(item: Item) -> list:
    """The widgets that take an answer to `item`, its choices under the letters it shows."""
    import ipywidgets as w

    question = item.question
    if not isinstance(question, SingleChoice | MultipleChoice):
        return [w.Text(placeholder="a number" if question.type == "numeric" else "a few words")]
    shown = [
        f"{letter}) {question.choices[i].text}"
        for letter, i in zip(LETTERS, item.order, strict=False)
    ]
    if isinstance(question, MultipleChoice):
        return [w.Checkbox(description=text, indent=False) for text in shown]
    return [w.RadioButtons(options=[(text, text[0]) for text in shown], value=None)]
