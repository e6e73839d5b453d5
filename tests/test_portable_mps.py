"""Apple GPUs (MPS), without one: a fake torch says MPS is present, and a fake MPS learner
answers as torch does on a Mac (float32 fine, float64 refused). MPS gets float32 tolerances
of its own; a float64 check on MPS is *not run on mps*, never failed."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from courseware.errors import CourseError
from grader.checking import CheckFailure
from grader.checking.values import FLOAT64, tolerance
from grader.confined.limits import Limits
from grader.grade import _devices, available_accelerators
from grader.plugin import NO_FLOAT64, GradeConfig, GradePlugin
from grader.results import FAILED, NOT_RUN, PASSED

# What torch raises on a Mac when float64 meets the MPS device.
MPS_REFUSES = (
    "Cannot convert a MPS Tensor to float64 dtype as the MPS framework doesn't support float64."
    " Please use float32 instead."
)


def fake_torch(cuda: bool, mps: bool) -> SimpleNamespace:
    return SimpleNamespace(
        cuda=SimpleNamespace(is_available=lambda: cuda),
        backends=SimpleNamespace(mps=SimpleNamespace(is_available=lambda: mps)),
    )


def test_auto_is_the_cpu_and_the_gpu_present():
    assert available_accelerators(fake_torch(cuda=False, mps=True)) == ("mps",)
    assert _devices("auto", available_accelerators(fake_torch(False, True))) == ("cpu", "mps")
    assert _devices("auto", available_accelerators(fake_torch(True, False))) == ("cpu", "cuda")
    assert _devices("auto", ()) == ("cpu",)
    assert _devices("mps", ("mps",)) == ("mps",)


def test_an_absent_gpu_asked_for_is_a_usage_error():
    with pytest.raises(CourseError, match=r"--device mps: no MPS \(an Apple GPU\)"):
        _devices("mps", ())
    with pytest.raises(CourseError, match="--device cuda: no CUDA"):
        _devices("cuda", ("mps",))


def test_mps_has_float32_tolerances_of_its_own():
    assert tolerance("mps") not in (tolerance("cpu"), tolerance("cuda"))
    assert tolerance("mps") > tolerance("cpu")
    assert tolerance("mps", torch.float64) == FLOAT64


CHECKS = textwrap.dedent(
    '''
    import pytest
    import torch

    EXERCISE = "fake"


    @pytest.mark.points(2)
    def test_float32(on_device):
        """float32 on the device"""
        on_device.compute(torch.float32)


    @pytest.mark.points(2)
    def test_float64_found_by_its_error(on_device):
        """float64 on the device"""
        on_device.compute(torch.float64)


    @pytest.mark.float64
    @pytest.mark.points(2)
    def test_float64_marked(on_device):
        """float64, marked"""
        on_device.compute(torch.float64)


    @pytest.mark.points(2)
    def test_wrong_on_the_gpu(on_device):
        """a real mistake on the GPU"""
        on_device.compute(torch.float32, wrong=True)
    '''
)


class FakeMpsLearner:
    """A learner whose runner answers as torch does on `device` (a Mac's MPS included)."""

    def __init__(self, device: str) -> None:
        self.device, self.isolation, self.output = device, {}, ""

    def compute(self, dtype: torch.dtype, wrong: bool = False) -> None:
        if self.device == "mps" and dtype == torch.float64:
            raise CheckFailure(f"Your forward raised TypeError: {MPS_REFUSES}")
        if wrong and self.device != "cpu":
            raise CheckFailure("Your output differs from the reference's on the GPU.")

    def close(self) -> None:
        pass


def test_float64_is_not_run_on_mps_and_a_real_mistake_still_fails(tmp_path, monkeypatch):
    check = tmp_path / "check_fake.py"
    check.write_text(CHECKS)
    config = GradeConfig(
        files={"fake": Path("fake.py")},
        solutions={},
        devices=("cpu", "mps"),
        limits=Limits(),
        hidden=(),
        zygote=None,
    )
    plugin = GradePlugin(config)
    monkeypatch.setattr(plugin, "learner_for", lambda exercise, device: FakeMpsLearner(device))
    args = [str(check), "-q", "-s", "-o", "addopts=", "-p", "no:cacheprovider"]
    args += ["--rootdir", str(tmp_path), "-c", os.devnull]
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    assert pytest.main(args, plugins=[plugin]) in (0, 1)
    states = {r.name: (r.state, r.message, r.max_score) for r in plugin.results}
    assert all(states[f"{n}[cpu]"][0] == PASSED for n in ("test_float32", "test_wrong_on_the_gpu"))
    assert states["test_float32[mps]"][0] == PASSED
    for name in ("test_float64_found_by_its_error[mps]", "test_float64_marked[mps]"):
        assert states[name] == (NOT_RUN, NO_FLOAT64, 0.0), name
    assert "not run on mps" in NO_FLOAT64
    assert states["test_wrong_on_the_gpu[mps]"][0] == FAILED
    assert {r.title for r in plugin.results if r.device == "mps"} >= {"float32 on the device (MPS)"}


def test_course_grade_device_mps_without_one_exits_two(tmp_path):
    import subprocess
    import sys

    from tests.helpers import REPO

    target = REPO / "solutions" / "01_lstm_network"
    env = {**os.environ, "COURSE_ROOT": str(REPO), "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "course", "grade", str(target), "--device", "mps"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert "--device mps: no MPS (an Apple GPU) device" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_course_verify_marks_an_mps_only_case_not_checked_here(module, monkeypatch):
    from grader.verify import CorpusCase, check_case

    monkeypatch.setattr("grader.verify._mps_available", lambda: False)
    monkeypatch.setattr("grader.verify.grade", lambda *a, **k: pytest.fail("graded anyway"))
    from tests.helpers import REPO

    path = REPO / "tests/corpus/06_variable_length/mistakes/lengths_on_gpu/variable_length.py"
    case = CorpusCase(path, "06_variable_length", "lengths on the GPU", "test_x", "CPU", "mps")
    finding = check_case(module, case, zygote=None)
    assert finding.ok and finding.skipped == "not checked: it needs MPS (an Apple GPU), and " + (
        "this machine has none"
    )
