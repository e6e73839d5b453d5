"""`course validate`: load the whole module through the content model and summarise it."""

from __future__ import annotations

from courseware.content import load_module


def validate() -> str:
    """Validate the module (raising ContentError with every problem) and describe it."""
    module = load_module()
    questions = sum(len(bank.questions) for bank in module.quizzes)
    return (
        f"OK: {module.info.title}, module {module.info.number} of {module.info.of}: "
        f"{len(module.objectives)} objectives, {len(module.exercises)} exercises, "
        f"{len(module.quizzes)} quiz bank(s) with {questions} questions."
    )
