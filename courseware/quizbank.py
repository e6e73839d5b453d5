"""Quiz banks: the question model, its validation and its scoring rules.

One model serves `course validate`, the terminal quiz and the site. Scoring lives here as pure
functions of a question and a response, so that every front end marks an answer the same way.
Choices are shown as a), b), c)… in the order the YAML lists them (or shuffled, see `arrange`);
answers in YAML name choices by those letters.
"""

from __future__ import annotations

import itertools
import math
import random
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from courseware import yamlfile
from courseware.errors import Problem

LETTERS = "abcdefghijklmnopqrstuvwxyz"
TYPES_HELP = "single, multiple, numeric or text"


def _number(value: Any) -> Any:
    """Accept ints and finite floats only: YAML `2,560` or `"1e3"` is an author's mistake."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a number, not {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"must be a finite number, not {value!r}")
    return value


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
Number = Annotated[float, BeforeValidator(_number)]
Tolerance = Annotated[float, BeforeValidator(_number), Field(ge=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


@dataclass(frozen=True)
class Feedback:
    """A remark a response earned: on one picked choice (its index in the YAML), or on the
    answer as a whole (`choice` is None)."""

    text: str
    choice: int | None = None


@dataclass(frozen=True)
class Score:
    """How one response was marked: credit from 0 to 1 and the feedback it earned."""

    credit: float
    feedback: tuple[Feedback, ...] = ()

    @property
    def correct(self) -> bool:
        return self.credit == 1


def normalise(text: str) -> str:
    """The form short-text answers are compared in: NFKC, case-folded, single spaces, and no
    surrounding spaces, quotes, backticks or full stops."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(folded.split()).strip(" .'\"`")


class Choice(_Strict):
    """One option of a single or multiple choice question."""

    text: Text
    """What the learner reads (inline Markdown)."""
    feedback: Text | None = None
    """Shown when the learner picks this choice; required on every wrong choice."""
    fixed: bool = False
    """Keep this choice in its place when the choices are shuffled: for a choice that names
    others by their place ("None of the above")."""


class _Question(_Strict):
    id: Id
    """Unique within the bank; the history and the site refer to the question by it."""
    objective: Id
    """The learning objective (an id under `objectives:` in course.yaml) this question tests."""
    prompt: Text
    """The question (Markdown)."""
    explanation: Text
    """Why the right answer is right; shown after every answer, right or wrong."""
    group: Id | None = None
    """Questions with the same group are asked together and in the bank's order: drawn
    together, shuffled as one block. For a question that builds on the one before it."""


class _ChoiceQuestion(_Question):
    choices: list[Choice] = Field(min_length=2, max_length=len(LETTERS))
    """The options, shown as a), b), c)… in this order unless the quiz shuffles them."""

    @field_validator("choices")
    @classmethod
    def _distinct(cls, choices: list[Choice]) -> list[Choice]:
        texts = [c.text for c in choices]
        repeated = sorted({t for t in texts if texts.count(t) > 1})
        if repeated:
            raise ValueError(f"the choice {repeated[0]!r} appears twice")
        return choices

    def correct(self) -> frozenset[int]:
        """Indices (0 = a) of the right choices."""
        raise NotImplementedError

    def unexplained(self) -> list[int]:
        """Indices of wrong choices that have no feedback to say why they are wrong."""
        right = self.correct()
        return [i for i, c in enumerate(self.choices) if i not in right and c.feedback is None]


def _among_choices(letters: list[str], info: ValidationInfo) -> list[str]:
    """Check that each letter names a choice (when the choices themselves were valid)."""
    if "choices" not in info.data:
        return letters
    valid = LETTERS[: len(info.data["choices"])]
    for letter in letters:
        if len(letter) != 1 or letter not in valid:
            raise ValueError(f"{letter!r} is not among the choices a to {valid[-1]}")
    return letters


class SingleChoice(_ChoiceQuestion):
    """Exactly one choice is right."""

    type: Literal["single"]
    """Single choice: the learner picks one letter."""
    answer: str
    """The letter of the right choice (a is the first choice in the YAML)."""

    @field_validator("answer")
    @classmethod
    def _valid(cls, answer: str, info: ValidationInfo) -> str:
        return _among_choices([answer], info)[0]

    def correct(self) -> frozenset[int]:
        return frozenset({LETTERS.index(self.answer)})

    def score(self, picked: int) -> Score:
        """Full credit for the right choice, none otherwise; the picked choice's feedback."""
        return Score(float(picked in self.correct()), _choice_feedback(self, {picked}))


def _choice_feedback(question: _ChoiceQuestion, picked: set[int] | frozenset[int]) -> tuple:
    """The feedback of each picked choice that has some."""
    return tuple(Feedback(f, i) for i in sorted(picked) if (f := question.choices[i].feedback))


def _all_or_nothing(picked: frozenset[int], right: frozenset[int], n: int) -> float:
    return float(picked == right)


def _right_minus_wrong(picked: frozenset[int], right: frozenset[int], n: int) -> float:
    return max(0.0, (len(picked & right) - len(picked - right)) / len(right))


def _per_choice(picked: frozenset[int], right: frozenset[int], n: int) -> float:
    return sum((i in picked) == (i in right) for i in range(n)) / n


PARTIAL_CREDIT = {
    "all-or-nothing": _all_or_nothing,
    "right-minus-wrong": _right_minus_wrong,
    "per-choice": _per_choice,
}
"""The partial-credit rules a multiple-select question can name. With R the right choices, P
the picked ones and N all choices: all-or-nothing = 1 if P = R else 0; right-minus-wrong =
max(0, (|P ∩ R| − |P − R|) / |R|); per-choice = the fraction of the N choices that were picked
or left alone correctly."""


class MultipleChoice(_ChoiceQuestion):
    """Any number of choices (at least one) are right; the learner picks a set."""

    type: Literal["multiple"]
    """Multiple select: the learner picks any letters, e.g. `a,c`."""
    answer: list[str] = Field(min_length=1)
    """The letters of every right choice."""
    partial_credit: Literal["all-or-nothing", "right-minus-wrong", "per-choice"]
    """How a partly right selection is scored; see PARTIAL_CREDIT for each rule."""

    @field_validator("answer")
    @classmethod
    def _valid(cls, answer: list[str], info: ValidationInfo) -> list[str]:
        repeated = sorted({a for a in answer if answer.count(a) > 1})
        if repeated:
            raise ValueError(f"{repeated[0]!r} is listed twice")
        return _among_choices(answer, info)

    def correct(self) -> frozenset[int]:
        return frozenset(LETTERS.index(a) for a in self.answer)

    def score(self, picked: frozenset[int]) -> Score:
        """Credit by the question's partial-credit rule; the feedback of each picked choice."""
        rule = PARTIAL_CREDIT[self.partial_credit]
        credit = rule(picked, self.correct(), len(self.choices))
        return Score(credit, _choice_feedback(self, picked))


class NumericMistake(_Strict):
    """A wrong number learners are expected to give, and what to tell them."""

    answer: Number
    """The wrong value (matched with the question's tolerance)."""
    feedback: Text
    """What probably led there and how to get it right."""


class Numeric(_Question):
    """The learner types a number; it is right within the tolerance."""

    type: Literal["numeric"]
    """Numeric: the learner types a number."""
    answer: Number
    """The right value."""
    abs_tol: Tolerance = 0.0
    """Absolute tolerance: right when |given − answer| ≤ max(abs_tol, rel_tol × |answer|)."""
    rel_tol: Tolerance = 0.0
    """Relative tolerance, as a fraction of |answer| (0.01 is 1 %). Both 0: exact."""
    mistakes: list[NumericMistake] = []
    """Anticipated wrong values, each with its own feedback."""

    @field_validator("mistakes")
    @classmethod
    def _wrong(cls, mistakes: list[NumericMistake], info: ValidationInfo) -> list:
        if not {"answer", "abs_tol", "rel_tol"} <= info.data.keys():
            return mistakes  # the answer or a tolerance is invalid and reported already
        answer, abs_tol, rel_tol = (info.data[k] for k in ("answer", "abs_tol", "rel_tol"))
        for m in mistakes:
            if _close(m.answer, answer, abs_tol, rel_tol):
                raise ValueError(f"{m.answer:g} would be marked right, so it is not a mistake")
        return mistakes

    def matches(self, value: float, target: float) -> bool:
        """Whether `value` counts as `target` under this question's tolerance."""
        return _close(value, target, self.abs_tol, self.rel_tol)

    def score(self, value: float) -> Score:
        """Full credit within tolerance; the feedback of a matching anticipated mistake."""
        if self.matches(value, self.answer):
            return Score(1.0)
        return Score(
            0.0, tuple(Feedback(m.feedback) for m in self.mistakes if self.matches(value, m.answer))
        )


def _close(value: float, target: float, abs_tol: float, rel_tol: float) -> bool:
    return abs(value - target) <= max(abs_tol, rel_tol * abs(target))


class TextMistake(_Strict):
    """A wrong short answer learners are expected to give, and what to tell them."""

    answer: Text
    """The wrong answer (compared after `normalise`)."""
    feedback: Text
    """What probably led there and how to get it right."""


class ShortText(_Question):
    """The learner types a few words; it is right if it normalises to an accepted answer."""

    type: Literal["text"]
    """Short text: the learner types a word or a few."""
    answer: Text
    """The model answer, shown to the learner afterwards."""
    accept: list[Text] = []
    """Other answers that count as right; all are compared after `normalise`."""
    mistakes: list[TextMistake] = []
    """Anticipated wrong answers, each with its own feedback."""

    @field_validator("mistakes")
    @classmethod
    def _wrong(cls, mistakes: list[TextMistake], info: ValidationInfo) -> list:
        right = {normalise(a) for a in (info.data.get("answer", ""), *info.data.get("accept", []))}
        for m in mistakes:
            if normalise(m.answer) in right:
                raise ValueError(f"{m.answer!r} would be marked right, so it is not a mistake")
        return mistakes

    def accepted(self) -> frozenset[str]:
        """Every right answer, normalised."""
        return frozenset(normalise(a) for a in (self.answer, *self.accept))

    def score(self, text: str) -> Score:
        """Full credit if the normalised text is accepted; else a matching mistake's feedback."""
        given = normalise(text)
        if given in self.accepted():
            return Score(1.0)
        return Score(
            0.0, tuple(Feedback(m.feedback) for m in self.mistakes if normalise(m.answer) == given)
        )


Question = Annotated[
    SingleChoice | MultipleChoice | Numeric | ShortText, Field(discriminator="type")
]
QUESTION_TYPES: dict[str, type[_Question]] = {
    "single": SingleChoice,
    "multiple": MultipleChoice,
    "numeric": Numeric,
    "text": ShortText,
}


class BankSettings(_Strict):
    """The bank's own keys: everything in the file except its questions."""

    id: Id
    """The bank's name on the command line: `course quiz ID`."""
    title: Text
    """Shown at the top of the quiz."""
    shuffle: bool = False
    """Shuffle the questions and their choices, and draw at random (`--no-shuffle` turns it off:
    then the quiz is the bank as written, its first `draw` questions)."""
    seed: int | None = None
    """Seed for shuffling and drawing, so that everyone gets the same quiz; none: new each run."""
    draw: int | None = Field(None, ge=1)
    """Ask this many questions from the pool (all when absent)."""


class _BankFile(BankSettings):
    """A bank file before its questions are validated one by one (see `load_bank`)."""

    questions: list[dict[str, Any]] = Field(min_length=1)
    """The questions, each a mapping with a `type` of single, multiple, numeric or text."""


class QuizBank(BankSettings):
    """A validated bank of questions."""

    questions: list[Question] = Field(min_length=1)
    """The questions in the order the file lists them."""
    source: str
    """The bank file, relative to the course root (set by the loader, not written in YAML)."""
    lines: dict[str, int] = {}
    """The line of each question in the file, by id (set by the loader)."""


@dataclass(frozen=True)
class Item:
    """A question as one quiz shows it: `order[k]` is the index of the choice shown as the k-th
    letter (identity when the choices are not shuffled or there are none)."""

    question: Question
    order: tuple[int, ...] = ()

    def shown(self, index: int) -> str:
        """The letter under which the choice with YAML index `index` is shown."""
        return LETTERS[self.order.index(index)]


def arrange(
    bank: QuizBank, *, shuffle: bool, seed: int | None, count: int | None = None
) -> tuple[Item, ...]:
    """The quiz to ask: `count` questions (default: the bank's `draw`, else all), drawn and
    ordered at random from `seed` when shuffling, else the first ones in the bank's order. A
    group's questions stay together and in order."""
    count = min(count or bank.draw or len(bank.questions), len(bank.questions))
    rng = random.Random(seed)
    units = blocks(bank.questions)
    if shuffle:
        rng.shuffle(units)
    picked = _draw(units, count)
    return tuple(Item(q, _choice_order(q, rng if shuffle else None)) for q in picked)


def blocks(questions: list[Question]) -> list[list[Question]]:
    """The questions as units that are asked whole: each group (in the bank's order) at the
    place of its first question, and every other question alone."""
    units: list[list[Question]] = []
    groups: dict[str, list[Question]] = {}
    for q in questions:
        if q.group is None:
            units.append([q])
        elif q.group in groups:
            groups[q.group].append(q)
        else:
            groups[q.group] = [q]
            units.append(groups[q.group])
    return units


def _draw(units: list[list[Question]], count: int) -> list[Question]:
    """Whole units, in order, that add up to `count` where they can; a group that does not fit
    is passed over, and taken after all only if the quiz would otherwise be short."""
    taken: list[list[Question]] = []
    passed: list[list[Question]] = []
    for unit in units:
        fits = sum(map(len, taken)) + len(unit) <= count
        (taken if fits else passed).append(unit)
    for unit in passed:
        if sum(map(len, taken)) >= count:
            break
        taken.append(unit)
    return [q for unit in taken for q in unit]


def _choice_order(question: Question, rng: random.Random | None) -> tuple[int, ...]:
    """Shuffled choices (fixed ones stay in place), or the YAML order when `rng` is None."""
    choices = question.choices if isinstance(question, _ChoiceQuestion) else []
    if rng is None:
        return tuple(range(len(choices)))
    movable = [i for i, c in enumerate(choices) if not c.fixed]
    moved = iter(rng.sample(movable, len(movable)))
    return tuple(i if c.fixed else next(moved) for i, c in enumerate(choices))


def load_bank(
    path: Path, label: str, problems: list[Problem], objectives: set[str]
) -> QuizBank | None:
    """Load one bank; record all its problems (each with its line) and return it when valid."""
    before = len(problems)
    doc = yamlfile.load(path, label, problems)
    if doc is None:
        return None
    header = yamlfile.validate(_BankFile, doc, problems)
    raw = doc.data.get("questions") if isinstance(doc.data, dict) else None
    questions = _questions(doc, raw if isinstance(raw, list) else [], problems)
    problems += _cross_checks(doc, questions, objectives)
    if header is None or len(problems) > before:
        return None
    if header.draw is not None and header.draw > len(questions):
        message = f"draw: {header.draw} questions asked but the bank has {len(questions)}"
        problems.append(doc.problem(("draw",), message))
        return None
    fields = header.model_dump(exclude={"questions"})
    lines = {q.id: doc.line(("questions", i)) for i, q in questions.items()}
    return QuizBank(**fields, questions=list(questions.values()), source=label, lines=lines)


def _questions(doc: yamlfile.Document, raw: list, problems: list[Problem]) -> dict[int, Question]:
    """Validate each question as the model its `type` names, with lines relative to the file;
    the valid ones by their position in the file."""
    questions = {}
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            continue  # _BankFile has reported it
        kind = item.get("type")
        model = QUESTION_TYPES.get(kind) if isinstance(kind, str) else None
        if model is None:
            problems.append(doc.problem(("questions", i, "type"), _bad_type(item)))
            continue
        question = yamlfile.validate(model, _part(doc, ("questions", i)), problems)
        if question is not None:
            questions[i] = question
    return questions


def _bad_type(item: dict) -> str:
    if "type" not in item:
        return f"missing required key 'type': one of {TYPES_HELP}"
    return f"type {item['type']!r} is not a question type: use {TYPES_HELP}"


def _part(doc: yamlfile.Document, loc: yamlfile.Loc) -> yamlfile.Document:
    """The sub-document at `loc`, keeping the file's line numbers."""
    n = len(loc)
    lines = {key[n:]: line for key, line in doc.lines.items() if key[:n] == loc}
    data: Any = doc.data
    for part in loc:
        data = data[part]
    return yamlfile.Document(doc.path, doc.label, data, lines)


def _cross_checks(
    doc: yamlfile.Document, questions: dict[int, Question], objectives: set[str]
) -> list[Problem]:
    """Rules beyond one question's shape: unique ids, known objectives, explained wrong choices,
    groups of questions listed together."""
    found = _group_problems(doc, questions)
    first_line: dict[str, int] = {}
    for i, q in questions.items():
        at = ("questions", i)
        if q.id in first_line:
            message = f"duplicate question id '{q.id}' (first used on line {first_line[q.id]})"
            found.append(doc.problem((*at, "id"), message))
        first_line.setdefault(q.id, doc.line((*at, "id")))
        if q.objective not in objectives:
            known = ", ".join(sorted(objectives))
            message = f"unknown objective '{q.objective}'; course.yaml declares: {known}"
            found.append(doc.problem((*at, "objective"), message))
        if isinstance(q, _ChoiceQuestion):
            for j in q.unexplained():
                message = f"choice {LETTERS[j]} is wrong but has no feedback: say why it is wrong"
                found.append(doc.problem((*at, "choices", j), message))
    return found


def _group_problems(doc: yamlfile.Document, questions: dict[int, Question]) -> list[Problem]:
    """A group is two questions or more, listed one after the other."""
    members: dict[str, list[int]] = {}
    for i, q in questions.items():
        if q.group is not None:
            members.setdefault(q.group, []).append(i)
    found = []
    for group, places in members.items():
        first = ("questions", places[0], "group")
        if len(places) == 1:
            found.append(doc.problem(first, GROUP_OF_ONE.format(group=group)))
        for before, i in itertools.pairwise(places):
            if i != before + 1:
                line = doc.line(("questions", before))
                message = GROUP_APART.format(group=group, line=line)
                found.append(doc.problem(("questions", i, "group"), message))
    return found


GROUP_OF_ONE = (
    "group '{group}' has only this question: a group keeps questions together; add the one it "
    "builds on to the group, or remove `group:`"
)
GROUP_APART = (
    "this question of group '{group}' is not right after the group's question on line {line}: "
    "list a group's questions one after the other, in the order they are asked"
)
