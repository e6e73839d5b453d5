"""Build hook: a wheel carries the course content under courseware/data/, laid out as in the
repository, so that `pip install` alone gives a learner the whole module. An editable install
gets none of it (it reads the content where it is), so no stale copy of the references lands
in site-packages."""

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

CONTENT = ("course.yaml", "starters.lock", "exercises", "solutions", "quizzes", "lesson", "site",
           "grader/checks")  # fmt: skip


class ContentHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict) -> None:
        if version == "standard":
            build_data["force_include"].update({p: f"courseware/data/{p}" for p in CONTENT})
