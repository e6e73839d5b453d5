"""Quiz banks that can be passed without reading them, found for `course validate`.

A cue is something true of the right answers that a learner can see without knowing the
subject: the right choice is the longest (or the shortest) one, the right choice is under the
same letter; or the bank leans on an order that shuffling and `--count` do not keep: a question
that needs another one asked before it, a choice that names others by their place.

The rule for a cue that chance alone produces now and then (the right choice of a question with
k choices is the longest, or under letter a, one time in k): it gives the bank away when it
holds in more than a third of the questions, and more than a third more often than chance
would make it (a bank of two-choice questions has (a) right half the time by chance), and in
at least three questions (one or two of a small bank are no pattern).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from courseware.errors import Problem
from courseware.quizbank import (
    LETTERS,
    MultipleChoice,
    Question,
    QuizBank,
    SingleChoice,
    blocks,
)

CLEAR_MARGIN = 1.2  # the right choice is "the longest" when it is 1.2x every other, or more
SHARE = 1 / 3  # a cue may hold in at most a third of the questions...
ABOVE_CHANCE = 4 / 3  # ...and at most a third more often than chance makes it
MIN_CUED = 3  # fewer questions than this are no pattern
# A prompt that starts by pointing back, or names another question: it leans on that one.
LEANS = re.compile(
    r"^(?:the same|same|this|these|that|those|such|it|they|as above|as before|again|also|then)\b"
    r"|\b(?:previous|preceding|last|earlier|above|other) (?:question|answer|example)s?\b"
    r"|\b(?:as|see|from) (?:above|before)\b",
    re.IGNORECASE,
)
# A choice that names other choices by their place, which shuffling changes: "all of the
# above", "both a and b", "choice c".
NAMES_OTHERS = re.compile(
    r"\b(?:of )?the (?:above|below)(?!\w)|\b(?:above|below)\W*$"
    r"|\b(?:choices?|options?) \(?[a-z]\)?(?: (?:and|or) \(?[a-z]\)?)?(?!\w)"
    r"|\b(?:both|either|neither) \(?[a-z]\)? (?:and|or|nor) \(?[a-z]\)?(?!\w)",
    re.IGNORECASE,
)

ChoiceQuestion = SingleChoice | MultipleChoice


@dataclass(frozen=True)
class Cue:
    """The questions whose right answer shows a cue, out of `total`, and how many would by
    chance alone."""

    hits: tuple[ChoiceQuestion, ...]
    total: int
    chance: float

    @property
    def limit(self) -> int:
        """The most questions that may show the cue."""
        return max(MIN_CUED - 1, math.floor(max(self.total * SHARE, self.chance * ABOVE_CHANCE)))

    @property
    def gives_away(self) -> bool:
        return len(self.hits) > self.limit


def cue_problems(bank: QuizBank) -> list[Problem]:
    """Every cue of `bank`, each as a problem at the line of a question to rewrite."""
    singles = [q for q in bank.questions if isinstance(q, SingleChoice)]
    multiples = [q for q in bank.questions if isinstance(q, MultipleChoice)]
    found = []
    for questions, kind in ((singles, "single-choice"), (multiples, "multiple-select")):
        for extreme in ("longest", "shortest"):
            found += _length_problems(bank, questions, kind, extreme)
    return [*found, *_position_problems(bank, singles), *_leaning_problems(bank),
            *_place_problems(bank)]  # fmt: skip


def shown_length(text: str) -> int:
    """The length a learner sees: characters, with runs of white space counted once."""
    return len(" ".join(text.split()))


def length_ratio(question: ChoiceQuestion, extreme: str = "longest") -> float:
    """How many times longer the shortest right choice is than the longest wrong one (for
    "longest"), or the shortest wrong one than the longest right one (for "shortest"); 0 when
    every choice is right."""
    right = question.correct()
    lengths = [max(shown_length(c.text), 1) for c in question.choices]
    ours = [n for i, n in enumerate(lengths) if i in right]
    others = [n for i, n in enumerate(lengths) if i not in right]
    if not others:
        return 0.0
    if extreme == "longest":
        return min(ours) / max(others)
    return min(others) / max(ours)


def length_cue(questions: Sequence[ChoiceQuestion], extreme: str = "longest") -> Cue:
    """Questions whose right choices are the longest (or the shortest) by a clear margin; by
    chance, one in C(k, r) for k choices of which r are right."""
    hits = tuple(q for q in questions if length_ratio(q, extreme) >= CLEAR_MARGIN)
    chance = sum(1 / math.comb(len(q.choices), len(q.correct())) for q in questions)
    return Cue(hits, len(questions), chance)


def position_cue(questions: Sequence[SingleChoice], letter: str) -> Cue:
    """Questions whose right choice is shown as `letter` when not shuffled; by chance, one in k
    for a question of k choices that has that letter at all."""
    place = LETTERS.index(letter)
    hits = tuple(q for q in questions if q.answer == letter)
    chance = sum(1 / len(q.choices) for q in questions if len(q.choices) > place)
    return Cue(hits, len(questions), chance)


def _length_problems(bank: QuizBank, questions: list, kind: str, extreme: str) -> list[Problem]:
    cue = length_cue(questions, extreme)
    if not cue.gives_away:
        return []
    found = []
    for q in cue.hits:
        message = (LONGEST if extreme == "longest" else SHORTEST).format(
            ratio=length_ratio(q, extreme), n=len(cue.hits), total=cue.total, kind=kind,
            margin=CLEAR_MARGIN, limit=cue.limit,
        )  # fmt: skip
        found.append(_at(bank, q, message))
    return found


def _position_problems(bank: QuizBank, questions: list[SingleChoice]) -> list[Problem]:
    found = []
    for letter in sorted({q.answer for q in questions}):
        cue = position_cue(questions, letter)
        if cue.gives_away:
            lines = ", ".join(str(bank.lines.get(q.id, 1)) for q in cue.hits)
            message = SAME_LETTER.format(
                letter=letter, n=len(cue.hits), total=cue.total, lines=lines, limit=cue.limit
            )
            found.append(_at(bank, cue.hits[0], message))
    return found


def _leaning_problems(bank: QuizBank) -> list[Problem]:
    """Prompts that lean on another question, unless a group asks that one first."""
    found = []
    for unit in blocks(bank.questions):
        lone = unit[0]  # a group's first question has nothing before it either
        if match := LEANS.search(" ".join(lone.prompt.split())):
            found.append(_at(bank, lone, LEANS_ON.format(words=match.group(0))))
    return found


def _place_problems(bank: QuizBank) -> list[Problem]:
    """Choices that name others by their place, and are not kept in place."""
    found = []
    for q in bank.questions:
        for i, choice in enumerate(getattr(q, "choices", ())):
            if not choice.fixed and (match := NAMES_OTHERS.search(choice.text)):
                message = PLACE.format(letter=LETTERS[i], words=match.group(0))
                found.append(_at(bank, q, message))
    return found


def _at(bank: QuizBank, question: Question, message: str) -> Problem:
    return Problem(bank.source, bank.lines.get(question.id, 1), f"{question.id}: {message}")


LONGEST = (
    "the right choice is {ratio:.1f}x as long as any wrong one, as in {n} of {total} {kind} "
    "questions: picking the longest passes (at most {limit} may be so, by {margin}x or more). "
    "Make the wrong choices as specific and as long as the right one, or the right one shorter"
)
SHORTEST = (
    "every wrong choice is {ratio:.1f}x as long as the right one, or longer, as in {n} of "
    "{total} {kind} questions: picking the shortest passes (at most {limit} may be so, by "
    "{margin}x or more). Make the right choice as full as the wrong ones, or them shorter"
)
SAME_LETTER = (
    "the right choice is ({letter}) in {n} of {total} single-choice questions (lines {lines}), "
    "so always picking ({letter}) pays wherever choices are not shuffled (at most {limit} may "
    "be). Move the right choice to another letter in some of them"
)
LEANS_ON = (
    'the prompt says "{words}", so it leans on another question, which shuffling or --count may '
    "not ask before it, or at all. Say everything it needs in the prompt, or put it after that "
    "question in one `group:`"
)
PLACE = (
    'choice {letter} says "{words}", which shuffling makes false. Mark it `fixed: true` to keep '
    "it in its place, or name what it means"
)
