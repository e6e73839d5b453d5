"""The pytest plugin that turns check modules into verdicts.

It provides the fixtures checks use (`learner`, `on_device`, `reference`), gives each check
its points (split across the devices that run it), blocks checks whose dependencies did not
pass, and records one `CheckResult` per check with the learner-facing message.
"""

from __future__ import annotations

import importlib.util
import time
import traceback
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.checking import CheckFailure
from grader.confined.limits import Limits
from grader.figures import take_recorded
from grader.learner import Learner
from grader.results import (
    BLOCKED,
    BLOCKED_BY,
    ERROR,
    FAILED,
    NOT_RUN,
    PASSED,
    SO_IT_CANNOT_RUN,
    CheckResult,
)
from grader.zygote import Zygote

MAX_DETAIL = 20_000  # characters of a check's detail (-v): its start and its end are kept
NO_CUDA = "not run: no CUDA device on this machine"
CUDA_OFF = "not run: CUDA not selected (--device cpu)"
NO_FLOAT64 = "not run on mps: MPS has no float64 (this check runs on the CPU)"
# What torch says when float64 meets MPS: such a check is not run there, never failed.
MPS_FLOAT64 = ("MPS framework doesn't support", "Cannot convert a MPS Tensor")
INTERNAL = (
    "The grader itself failed on this check; this is not your fault. Please report it with "
    "the output of `course grade -v`."
)


@dataclass
class GradeConfig:
    """What the plugin needs: the learner files, the references and how to confine runners."""

    files: dict[str, Path]  # exercise id -> learner file
    solutions: dict[str, Path]  # exercise id -> reference solution (trusted)
    devices: tuple[str, ...]
    limits: Limits
    hidden: tuple[str, ...]
    zygote: Zygote
    secrets: tuple[str, ...] = ()  # the references and checks, by file


class GradePlugin:
    def __init__(self, config: GradeConfig) -> None:
        self.config = config
        self.results: list[CheckResult] = []
        self.collection_errors: list[str] = []  # a check module that does not import
        self.learners: dict[tuple[str, str], Learner] = {}
        self._outcomes: dict[tuple[str, str], list[str]] = {}
        self._blocked_by: dict[tuple[str, str], str] = {}
        self._points: dict[str, float] = {}
        self._references: dict[str, types.ModuleType] = {}
        self._started: dict[str, float] = {}

    # ------------------------------------------------------------------ fixtures

    @pytest.fixture
    def learner(self, request: pytest.FixtureRequest) -> Learner:
        """The learner's file, loaded in a CPU runner."""
        return self.learner_for(request.module.EXERCISE, "cpu")

    @pytest.fixture
    def on_device(self, request: pytest.FixtureRequest) -> Learner:
        """The learner's file in a runner for each device; an absent device is not run, nor a
        check marked float64 on MPS."""
        device = request.param
        if device not in self.config.devices:
            pytest.skip(CUDA_OFF if _cuda_available() else NO_CUDA)
        if device == "mps" and request.node.get_closest_marker("float64"):
            pytest.skip(NO_FLOAT64)
        return self.learner_for(request.module.EXERCISE, device)

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """on_device: the CPU and the GPU of this machine's kind (MPS where graded on it,
        else CUDA, shown as not run where absent)."""
        if "on_device" in metafunc.fixturenames:
            gpu = "mps" if "mps" in self.config.devices else "cuda"
            metafunc.parametrize("on_device", ["cpu", gpu], indirect=True)

    @pytest.fixture
    def reference(self, request: pytest.FixtureRequest) -> types.ModuleType:
        """The reference solution, imported in the checker (trusted code)."""
        exercise = request.module.EXERCISE
        if exercise not in self._references:
            path = self.config.solutions[exercise]
            spec = importlib.util.spec_from_file_location(f"reference_{exercise}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            self._references[exercise] = module
        return self._references[exercise]

    def learner_for(self, exercise: str, device: str) -> Learner:
        key = (exercise, device)
        if key not in self.learners:
            self.learners[key] = Learner(
                exercise=exercise,
                path=self.config.files[exercise],
                zygote=self.config.zygote,
                limits=self.config.limits,
                hidden=self.config.hidden,
                device=device,
                secrets=self.config.secrets,
            )
        return self.learners[key]

    # ------------------------------------------------------------------ hooks

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "points(n): what a check is worth")
        config.addinivalue_line("markers", "depends(*names): checks that must pass first")
        config.addinivalue_line("markers", "float64: not run on MPS, which has no float64")

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Give each item its share of its check's points: split across devices that run."""
        for item in items:
            marker = item.get_closest_marker("points")
            total = float(marker.args[0]) if marker else 0.0
            device = _device(item)
            if device is None:
                self._points[item.nodeid] = total
            else:
                running = len(self.config.devices)
                self._points[item.nodeid] = (
                    total / running if device in self.config.devices else 0.0
                )

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self._started[item.nodeid] = time.monotonic()
        take_recorded()  # none of an earlier check's figures
        marker = item.get_closest_marker("depends")
        absent = _device(item) not in (None, *self.config.devices)  # not run, whatever it needs
        for name in marker.args if marker and not absent else ():
            key = (item.module.__name__, name)
            states = self._outcomes.get(key, [])
            if not states or any(s not in (PASSED, NOT_RUN) for s in states):
                title = _title_of(getattr(item.module, name, None)) or name
                root = BLOCKED_BY.format(title=title) + SO_IT_CANNOT_RUN
                item.stash[_blocked] = self._blocked_by.get(key, root)  # name the first cause
                self._blocked_by[(item.module.__name__, item.originalname)] = item.stash[_blocked]
                pytest.skip(item.stash[_blocked])

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        if call.when == "call" or (call.when == "setup" and report.outcome != "passed"):
            self._record(item, call, report)
        return report

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(f"{report.nodeid}:\n{report.longreprtext}")

    def pytest_sessionfinish(self) -> None:
        for learner in self.learners.values():
            learner.close()

    # ------------------------------------------------------------------ recording

    def _record(self, item: pytest.Item, call: pytest.CallInfo, report: pytest.TestReport) -> None:
        points = self._points.get(item.nodeid, 0.0)
        device = _device(item)
        message, detail = "", ""
        if report.passed:
            state, score = PASSED, points
        elif report.skipped:
            state = BLOCKED if _blocked in item.stash else NOT_RUN
            message = item.stash.get(_blocked, str(call.excinfo.value) if call.excinfo else "")
            score, points = 0.0, (points if state == BLOCKED else 0.0)
        elif device == "mps" and _float64_on_mps(call):
            state, score, points, message = NOT_RUN, 0.0, 0.0, NO_FLOAT64
        elif call.excinfo is not None and isinstance(call.excinfo.value, CheckFailure):
            state, score, message = FAILED, 0.0, call.excinfo.value.message
            detail = call.excinfo.value.detail
        else:
            state, score, message = ERROR, 0.0, INTERNAL
            detail = "".join(traceback.format_exception(call.excinfo.value)) if call.excinfo else ""
        learner = self.learners.get((item.module.EXERCISE, device or "cpu"))
        if learner is not None and learner.output and state != PASSED:
            detail += f"\nWhat your code printed (last lines):\n{learner.output}"
        self._outcomes.setdefault((item.module.__name__, item.originalname), []).append(state)
        title = _title_of(item.function) or item.originalname
        self.results.append(
            CheckResult(
                exercise=item.module.EXERCISE,
                name=item.name,
                title=f"{title} ({device.upper()})" if device else title,
                state=state,
                score=round(score, 4),
                max_score=round(points, 4),
                message=message,
                detail=capped(detail.strip()),
                device=device,
                figures=take_recorded(),
                seconds=round(
                    time.monotonic() - self._started.get(item.nodeid, time.monotonic()), 3
                ),
            )
        )


_blocked = pytest.StashKey[str]()


def _device(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("on_device") if callspec else None


def _float64_on_mps(call: pytest.CallInfo) -> bool:
    """Whether a check failed on MPS because it met float64 (which MPS does not have)."""
    if call.excinfo is None:
        return False
    error = call.excinfo.value
    text = f"{getattr(error, 'message', '')} {getattr(error, 'detail', '')} {error}"
    return "float64" in text and any(sign in text for sign in MPS_FLOAT64)


def _title_of(function) -> str:
    doc = getattr(function, "__doc__", None) or ""
    return doc.strip().splitlines()[0].rstrip(".") if doc.strip() else ""


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def capped(detail: str, limit: int = MAX_DETAIL) -> str:
    """`detail` cut to about `limit` characters: its start and its end (a traceback's last
    frames, the last lines printed), with how much was left out between them."""
    if len(detail) <= limit:
        return detail
    half = limit // 2
    return f"{detail[:half]}\n… ({len(detail) - 2 * half} characters left out) …\n{detail[-half:]}"
