"""The autograder: a trusted checker (pytest over grader/checks) and untrusted runners.

Learner code runs only in runner processes forked from a warm zygote; the checker talks to
them over an inert channel and alone decides verdicts. See DESIGN.md, "Grading".
"""
