"""Quiz banks: the question model and its validation (read by `course validate`, the terminal
quiz and the site alike)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from course import yamlfile
from course.errors import Problem

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Choice(_Strict):
    text: Text
    feedback: Text | None = None


class _Question(_Strict):
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    prompt: Text
    objective: Text
    explanation: Text


class SingleChoice(_Question):
    type: Literal["single"]
    choices: list[Choice] = Field(min_length=2)
    answer: int = Field(ge=0)

    @model_validator(mode="after")
    def _answer_is_a_choice(self) -> SingleChoice:
        if self.answer >= len(self.choices):
            raise ValueError(f"answer {self.answer} is not among the {len(self.choices)} choices")
        return self


Question = Annotated[SingleChoice, Field(discriminator="type")]


class QuizBank(_Strict):
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    title: Text
    questions: list[Question] = Field(min_length=1)


def load_bank(
    path: Path, label: str, problems: list[Problem], objectives: set[str]
) -> QuizBank | None:
    """Load one bank; record its problems (with lines) and return it when valid."""
    before = len(problems)
    doc = yamlfile.load(path, label, problems)
    bank = yamlfile.validate(QuizBank, doc, problems) if doc else None
    if bank is None:
        return None
    for i, q in enumerate(bank.questions):
        if q.objective not in objectives:
            problems.append(doc.problem(("questions", i, "objective"), f"unknown objective '{q.objective}'"))
    return bank if len(problems) == before else None
