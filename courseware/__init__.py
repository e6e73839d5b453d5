"""The content layer: course.yaml, the quiz banks, the exercises and the lesson, as one validated
model (`load_module`). It imports neither the grader nor the `course` commands built on it."""

__version__ = "0.2.0"
