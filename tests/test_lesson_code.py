"""The lesson's code runs, and prints what the lesson says it prints.

Every ```python block of lesson/lesson.md runs in order in one namespace, as a reader pasting
them into one session would. A ```text block right after a code block is its output: printed
lines must match (numbers within a small tolerance, so that another CPU's last digit does not
fail the test), and a text block whose last lines are `SomeError: message` means the code must
print the lines before them and then raise that error, with a message that starts the same way
(a message that ends with `…` is cut there).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "lesson" / "lesson.md"
FIGURE_DATA = ROOT / "site" / "figures" / "gradient_norms.json"
FENCE = re.compile(r"^( *)```(\w*)\n(.*?)^\1```\n", re.DOTALL | re.MULTILINE)
NUMBER = re.compile(r"-?\d[\d,]*\.?\d*(?:e-?\d+)?")
ERROR = re.compile(r"^(\w+(?:Error|Exception)): (.*)", re.DOTALL | re.MULTILINE)


@dataclass(frozen=True)
class Block:
    """One code block of the lesson, with the output shown right after it (or None)."""

    line: int
    code: str
    output: str | None


def blocks(text: str) -> list[Block]:
    """The lesson's python blocks in order, each with the text block that follows it."""
    fences = list(FENCE.finditer(text))
    found = []
    for i, fence in enumerate(fences):
        if fence.group(2) != "python":
            continue
        output = None
        after = fences[i + 1] if i + 1 < len(fences) else None
        if after and after.group(2) == "text" and not text[fence.end() : after.start()].strip():
            output = _dedent(after.group(3), after.group(1))
        line = text.count("\n", 0, fence.start()) + 1
        found.append(Block(line, _dedent(fence.group(3), fence.group(1)), output))
    return found


def expected(output: str | None) -> tuple[str | None, tuple[str, str] | None]:
    """What a block must print (None: anything), and the error it must end with, as its kind
    and the start of its message (None: no error), from the text block shown after it."""
    found = ERROR.search(output or "")
    if found is None:
        return output, None
    message = found.group(2).strip().removesuffix("…").rstrip()
    return output[: found.start()] or None, (found.group(1), message)


def _dedent(body: str, indent: str) -> str:
    return "".join(line.removeprefix(indent) for line in body.splitlines(keepends=True))


def same_output(shown: str, printed: str) -> bool:
    """Equal text, with numbers compared to about 2 % (a last digit may differ by machine)."""
    shown_words, printed_words = NUMBER.split(shown.strip()), NUMBER.split(printed.strip())
    shown_numbers, printed_numbers = NUMBER.findall(shown), NUMBER.findall(printed)
    if shown_words != printed_words or len(shown_numbers) != len(printed_numbers):
        return False
    return all(_close(a, b) for a, b in zip(shown_numbers, printed_numbers, strict=True))


def _close(a: str, b: str) -> bool:
    x, y = float(a.replace(",", "")), float(b.replace(",", ""))
    return math.isclose(x, y, rel_tol=0.02, abs_tol=0.006)


LESSON_BLOCKS = blocks(LESSON.read_text("utf-8"))


def test_the_lesson_has_code_with_outputs():
    assert len(LESSON_BLOCKS) >= 10
    assert sum(b.output is not None for b in LESSON_BLOCKS) >= 10


def test_every_block_runs_and_prints_what_the_lesson_shows():
    namespace: dict = {"__name__": "lesson"}
    for block in LESSON_BLOCKS:
        shown, error = expected(block.output)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            if error is None:
                exec(compile(block.code, f"lesson.md:{block.line}", "exec"), namespace)
            else:
                with pytest.raises(Exception) as raised:
                    exec(compile(block.code, f"lesson.md:{block.line}", "exec"), namespace)
        if error is not None:
            kind, message = error
            assert type(raised.value).__name__ == kind, f"lesson.md:{block.line}"
            assert str(raised.value).startswith(message), f"lesson.md:{block.line}"
        if shown is not None:
            assert same_output(shown, printed.getvalue()), (
                f"lesson.md:{block.line} prints\n{printed.getvalue()}\nbut the lesson shows\n"
                f"{shown}"
            )


@pytest.mark.parametrize(
    ("shown", "printed", "same"),
    [
        ("loss 0.46 -> 0.01", "loss 0.46 -> 0.01\n", True),
        ("loss 1.095", "loss 1.097", True),
        ("loss 1.095", "loss 1.4", False),
        ("True False", "True True", False),
        ("torch.Size([4, 1])", "torch.Size([4, 2])", False),
        ("5941", "5,941", True),
    ],
)
def test_outputs_are_compared_word_for_word_and_numbers_closely(shown, printed, same):
    assert same_output(shown, printed) is same


def steps_per_decade(norms: list[float]) -> float:
    """How many steps of distance cost the curve a factor of ten, over its whole length."""
    return (len(norms) - 1) / math.log10(norms[0] / norms[-1])


def test_the_figure_says_what_its_data_show():
    data = json.loads(FIGURE_DATA.read_text("utf-8"))
    series, text = data["series"], LESSON.read_text("utf-8")
    assert "PyTorch's default initialisation" in data["description"]
    assert "a factor of ten every three to four steps" in text
    assert 3 <= steps_per_decade(series["tanh RNN"]) <= 4
    assert "less than a factor of a hundred across all 100" in text
    bias_2 = series["LSTM, forget bias 2"]
    assert len(bias_2) == 100 and bias_2[0] / bias_2[-1] < 100
    assert "every 3.3 steps; the curve loses it every 4 to 5 steps" in text
    assert f"{1 / math.log10(2):.1f}" == "3.3"  # a gate of 0.5 halves at every step
    assert 4 <= steps_per_decade(series["LSTM, forget bias 0"]) <= 5


def test_the_forget_gate_numbers():
    text = LESSON.read_text("utf-8")
    sigmoid = torch.sigmoid(torch.tensor([0.0, 1.0, 2.0])).tolist()
    assert sigmoid[0] == 0.5 and round(sigmoid[1], 2) == 0.73 and round(sigmoid[2], 2) == 0.88
    assert "$0.5^{20} \\approx 10^{-6}$" in text and round(math.log10(0.5**20)) == -6
    assert "$0.73^{20} \\approx 0.002$" in text and round(sigmoid[1] ** 20, 3) == 0.002
    assert "$0.88^{20} \\approx 0.08$" in text and round(sigmoid[2] ** 20, 2) == 0.08
    lstm = torch.nn.LSTM(10, 20)
    bound = 1 / 20**0.5
    assert all(p.abs().max() <= bound for p in lstm.parameters())  # uniform in ±1/sqrt(H)


def test_the_parameter_counts():
    text = LESSON.read_text("utf-8")
    nn = torch.nn

    def count(module) -> int:
        return sum(p.numel() for p in module.parameters())

    assert count(nn.LSTM(10, 20)) == 2560 and count(nn.LSTM(10, 40)) == 8320
    assert "= 8{,}320$" in text and "3.25 times as many" in text and 8320 / 2560 == 3.25
    assert nn.LSTM(10, 40).weight_hh_l0.numel() == 4 * nn.LSTM(10, 20).weight_hh_l0.numel()
    for i, h in [(10, 20), (3, 7), (64, 128)]:
        assert count(nn.GRU(i, h)) == 3 * h * (i + h + 2) == 3 * count(nn.LSTM(i, h)) // 4
    assert "$3H(I + H + 2)$" in text
    assert "all but `proj_size`, which only the LSTM has" in text
    with pytest.raises(ValueError, match="only supported for LSTM"):
        nn.GRU(10, 20, proj_size=5)


def test_float32_norms_vanish_in_the_squares_not_in_the_gradient():
    """Exercise 5: 1e-27 is a normal float32; the L2 norm's squares are what underflow."""
    readme = (ROOT / "exercises/05_vanishing_gradients/README.md").read_text("utf-8")
    assert "squares underflow to 0" in readme and "mitigates" in readme
    tiny = torch.finfo(torch.float32)
    assert tiny.smallest_normal < 1e-27 and f"{tiny.smallest_normal:.1e}" == "1.2e-38"
    assert "1.2 × 10^-38" in readme and "1.4 × 10^-45" in readme
    assert torch.tensor(1.4e-45) > 0 and torch.tensor(1e-46) == 0  # the smallest above zero
    assert torch.tensor(1e-24, dtype=torch.float32) ** 2 == 0  # 1e-48 underflows
    gradient = torch.full((8,), 1e-24, dtype=torch.float32)  # every entry far from zero
    assert torch.linalg.vector_norm(gradient) == 0
    assert torch.linalg.vector_norm(gradient.double()) > 0


def test_a_returned_loss_tensor_holds_no_activations_but_a_sum_of_them_grows():
    """Exercise 2 and the lesson: backward() frees the saved tensors; `total += loss` grows."""
    readme = (ROOT / "exercises/02_training_step/README.md").read_text("utf-8")
    assert "`total += loss`" in readme and "keeps the whole graph" not in readme
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(3, 4)

    def nodes(tensor) -> int:
        seen, stack = set(), [tensor.grad_fn]
        while stack:
            node = stack.pop()
            if node is not None and node not in seen:
                seen.add(node)
                stack.extend(child for child, _ in node.next_functions)
        return len(seen)

    total, sizes = 0, []
    for _ in range(3):
        loss = lstm(torch.randn(5, 3))[0].pow(2).mean()
        loss.backward()
        with pytest.raises(RuntimeError, match="saved tensors after they have already been freed"):
            loss.backward()
        total += loss
        sizes.append(nodes(total))
    assert sizes[0] < sizes[1] < sizes[2]
    with pytest.raises(TypeError, match="not JSON serializable"):
        json.dumps({"loss": loss})
    assert isinstance(loss < 1, torch.Tensor)


INPLACE = (
    "one of the variables needed for gradient computation has been modified by an inplace operation"
)


def test_retain_graph_fails_on_the_same_second_chunk():
    """The lesson's loop with retain_graph=True: the second chunk's backward fails, as without
    it, because step() changed the input weights in place; the text says so."""
    text = " ".join(LESSON.read_text("utf-8").split())
    assert "one chunk later" not in text
    assert "It fails on the second chunk, the same one as before, with another message" in text
    assert "of shape (128, 1), is `lstm.weight_ih_l0`" in text
    (block,) = (b for b in LESSON_BLOCKS if "retain_graph=True" in b.code)
    shown, error = expected(block.output)
    assert shown == "chunk 0: backward, step\nchunk 1: backward\n"
    assert error == ("RuntimeError", INPLACE + ": [torch.FloatTensor [128, 1]] is at version")
    assert tuple(torch.nn.LSTM(1, 32).weight_ih_l0.shape) == (128, 1)  # the lesson's lstm


def test_the_projection_counts():
    """proj_size: 4H(I + P + 2) + PH parameters per layer, and a second layer reads P inputs."""
    text = " ".join(LESSON.read_text("utf-8").split())
    assert "$4H(I + P + 2) + PH$" in text and "a second layer takes $P$ inputs" in text
    for i, h, p in [(10, 20, 5), (3, 7, 2), (64, 128, 32)]:
        lstm = torch.nn.LSTM(i, h, proj_size=p)
        assert sum(q.numel() for q in lstm.parameters()) == 4 * h * (i + p + 2) + p * h
    two = torch.nn.LSTM(10, 20, num_layers=2, proj_size=5)
    assert tuple(two.weight_ih_l1.shape) == (80, 5)
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        torch.nn.LSTM(10, 20, proj_size=20)


def test_the_lesson_places_lstms_next_to_transformers():
    """A section says what each is still chosen for; its streaming claim runs as a block."""
    text = LESSON.read_text("utf-8")
    section = text.split("## LSTMs next to Transformers", 1)[1]
    for chosen in ("Streaming under tight budgets", "Small data and small models", "in parallel"):
        assert chosen in section
    (block,) = (b for b in LESSON_BLOCKS if "stream_lstm" in b.code)
    assert block.output.strip() == "torch.Size([1, 1, 16]) torch.Size([1, 1, 16])"
