"""The `course` command and what only it uses: the terminal quiz, the site builder, the
learner's workspace. The top layer: it imports the grader and the content, never the reverse."""

from courseware import __version__

__all__ = ["__version__"]
