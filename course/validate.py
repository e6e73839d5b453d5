"""`course validate`: load the whole module through the content model and summarise it."""

from __future__ import annotations

from courseware.authoring import content_problems
from courseware.content import load_module
from courseware.errors import ContentError


def validate() -> str:
    """Validate the module (raising ContentError with every problem) and describe it. In the
    authors' repository, every exercise must have all its parts and nothing astray. The
    learner's own files are not content: in a workspace they are only counted."""
    from course.learning import learner_workspace
    from course.workspace import state_of_file

    module = load_module()
    if problems := content_problems(module):
        raise ContentError(problems)
    questions = sum(len(bank.questions) for bank in module.quizzes)
    lines = [
        f"OK: {module.info.title}, module {module.info.number} of {module.info.of}: "
        f"{len(module.objectives)} objectives, {len(module.exercises)} exercises, "
        f"{len(module.quizzes)} quiz bank(s) with {questions} questions."
    ]
    workspace = learner_workspace(module)
    if workspace is not None:
        edited = [ex.id for ex in module.exercises if state_of_file(workspace, ex)[0] == "edited"]
        if edited:
            lines.append(
                f"Your workspace {workspace.root}: {len(edited)} exercise file(s) edited "
                f"({', '.join(edited)}): your work, not part of the checked content."
            )
    return "\n".join(lines)
