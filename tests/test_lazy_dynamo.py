"""The torch._dynamo stand-in (grader/confined/lazy_dynamo.py): optimizers step exactly as with the
real module and never import it; anything else of torch._dynamo imports the real one.

Each case runs in a fresh interpreter: this test process may have imported torch._dynamo."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.helpers import REPO, solution

TRAIN = """
import json, sys, torch
if sys.argv[1] == "stand-in":
    from grader.confined import lazy_dynamo
    lazy_dynamo.install()
torch.manual_seed(0)
lstm, head = torch.nn.LSTM(3, 4, batch_first=True), torch.nn.Linear(4, 1)
params = [*lstm.parameters(), *head.parameters()]
for opt in (torch.optim.SGD(params, lr=0.1, momentum=0.9), torch.optim.Adam(params, lr=0.01)):
    for _ in range(3):
        opt.zero_grad()
        out, _ = lstm(torch.randn(2, 5, 3))
        head(out[:, -1]).pow(2).mean().backward()
        opt.step()
    opt.load_state_dict(opt.state_dict())
print(json.dumps({
    "params": [p.detach().flatten().tolist() for p in params],
    "dynamo": type(sys.modules.get("torch._dynamo")).__name__,
}))
"""


def run(code: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_optimizers_step_as_with_the_real_module_and_never_import_it():
    with_stand_in = json.loads(run(TRAIN, "stand-in"))
    with_real = json.loads(run(TRAIN, "real"))
    assert with_stand_in["dynamo"] == "_StandIn"  # no step, state_dict or zero_grad needed it
    assert with_real["dynamo"] == "module"
    assert with_stand_in["params"] == with_real["params"]  # bit for bit


@pytest.mark.parametrize(
    "use",
    [
        "torch._dynamo.config.cache_size_limit",
        "__import__('torch._dynamo.utils').__name__",
        "torch.compile(lambda x: x.sin() + 1, backend='eager')(torch.zeros(2)).tolist()",
    ],
    ids=["attribute", "submodule", "compile"],
)
def test_anything_else_imports_the_real_module(use):
    code = (
        "import sys, torch\nfrom grader.confined import lazy_dynamo\nlazy_dynamo.install()\n"
        f"print(repr({use}))\n"
        "assert not lazy_dynamo.deferred()\n"
        "import torch._dynamo as d\nassert type(d).__name__ == 'module' and torch._dynamo is d\n"
        "assert sys.modules['torch._dynamo.config'] is d.config\n"
    )
    run(code)


def test_dunder_lookups_leave_it_deferred():
    run(
        "import inspect, torch\nfrom grader.confined import lazy_dynamo\nlazy_dynamo.install()\n"
        "assert not hasattr(torch._dynamo, '__file__')\n"
        "inspect.getmodule(print)  # walks sys.modules reading __file__\n"
        "assert lazy_dynamo.deferred()\n"
    )


def test_install_keeps_a_real_module_already_imported():
    run(
        "import torch, torch._dynamo as real\nfrom grader.confined import lazy_dynamo\n"
        "lazy_dynamo.install()\nimport torch._dynamo\n"
        "assert torch._dynamo is real and not lazy_dynamo.deferred()\n"
    )


def test_a_learner_who_uses_dynamo_is_graded_in_the_runner(module, grade_source):
    """The runner starts with the stand-in; a learner's own torch._dynamo imports the real
    module inside the sandbox, and the training step still earns full marks."""
    source = "import torch._dynamo\ntorch._dynamo.config.suppress_errors = True\n"
    result = grade_source("02_training_step", source + solution(module, "02_training_step"))
    assert result.score == result.max_score, [c.message for c in result.checks]
