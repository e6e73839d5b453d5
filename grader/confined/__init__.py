"""The runner side of the grader, the trust boundary you can see: everything that runs in a
runner next to the learner's code (the runner, its channel, the sandbox, the probes) and all
that the sandbox's view lets a runner read of the project. It imports nothing of the checker
side, of course/ or of courseware/ (an import-linter contract in pyproject.toml)."""
