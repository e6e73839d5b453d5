"""Every PyTorch fact the quiz bank states, computed with torch.

The tests read the bank: the modules, shapes and numbers come from its prompts and choices, and
each question's marked answers must be exactly the choices that torch proves true. Change a
shape, a count or an answer letter in quizzes/lstm.yaml and a test here fails.
"""

from __future__ import annotations

import ast
import re
import warnings
from pathlib import Path

import pytest
import torch
import yaml
from torch import nn

from courseware.quizbank import Numeric, QuizBank, ShortText, load_bank

REPO = Path(__file__).resolve().parents[1]
SHAPE = re.compile(r"`(\w+)`(?: that)? has shape \(([\d, ]*)\)")
CALL = re.compile(r"nn\.LSTM\([^)]*\)")


@pytest.fixture(scope="module")
def bank() -> QuizBank:
    manifest = yaml.safe_load((REPO / "course.yaml").read_text(encoding="utf-8"))
    problems: list = []
    objectives = {o["id"] for o in manifest["objectives"]}
    loaded = load_bank(REPO / "quizzes/lstm.yaml", "quizzes/lstm.yaml", problems, objectives)
    assert problems == []
    return loaded


def ask(bank: QuizBank, question_id: str):
    return next(q for q in bank.questions if q.id == question_id)


def shape_claims(text: str) -> dict[str, tuple[int, ...]]:
    """Every "`name` has shape (a, b)" in `text`."""
    return {
        name: tuple(int(d) for d in dims.split(",") if d.strip())
        for name, dims in SHAPE.findall(text)
    }


def lstm_in(text: str, **extra) -> nn.LSTM:
    """The first `nn.LSTM(...)` written in `text`, built with fixed weights."""
    call = ast.parse(CALL.search(text).group(0), mode="eval").body
    args = [ast.literal_eval(a) for a in call.args]
    kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    torch.manual_seed(0)
    return nn.LSTM(*args, **kwargs, **extra)


def run_prompt(prompt: str) -> dict[str, torch.Tensor]:
    """Run the prompt's LSTM on an input of the prompt's shape: x, out, h_n and c_n."""
    lstm = lstm_in(prompt)
    x = torch.randn(shape_claims(prompt)["x"])
    out, (h_n, c_n) = lstm(x)
    return {"x": x, "out": out, "h_n": h_n, "c_n": c_n}


def proven(question, is_true) -> frozenset[int]:
    """The choices `is_true` holds for."""
    return frozenset(i for i, c in enumerate(question.choices) if is_true(c.text))


def count(lstm: nn.Module) -> int:
    return sum(p.numel() for p in lstm.parameters())


@pytest.mark.parametrize("question_id", ["batch-first-shapes", "unbatched-input"])
def test_the_shapes_in_the_choices(bank, question_id):
    question = ask(bank, question_id)
    tensors = run_prompt(question.prompt)

    def holds(text: str) -> bool:
        claims = shape_claims(text)
        assert claims, f"{question_id}: a choice states no shape: {text}"
        return all(tuple(tensors[name].shape) == shape for name, shape in claims.items())

    assert question.correct() == proven(question, holds)


def test_the_parameter_shapes(bank):
    question = ask(bank, "weight-shapes")
    params = dict(lstm_in(question.prompt).named_parameters())

    def holds(text: str) -> bool:
        return all(tuple(params[n].shape) == s for n, s in shape_claims(text).items())

    assert question.correct() == proven(question, holds)
    assert len(question.choices) == len(proven(question, lambda t: bool(shape_claims(t))))


@pytest.mark.parametrize("question_id", ["lstm-parameters", "stacked-parameters"])
def test_the_parameter_counts(bank, question_id):
    question = ask(bank, question_id)
    assert isinstance(question, Numeric)
    assert question.answer == count(lstm_in(question.prompt))
    assert question.mistakes


def test_the_parameter_slips_are_the_ones_their_feedback_names(bank):
    single = ask(bank, "lstm-parameters")
    lstm = lstm_in(single.prompt)
    one_gate = count(lstm) // 4
    no_biases = count(lstm_in(single.prompt, bias=False))
    one_bias = count(lstm) - lstm.bias_hh_l0.numel()
    assert sorted(m.answer for m in single.mistakes) == sorted([one_gate, no_biases, one_bias])
    (stacked,) = ask(bank, "stacked-parameters").mistakes
    assert stacked.answer == 2 * count(lstm)  # layer 2 counted with 10 inputs, like layer 1


def test_four_times_a_plain_rnn(bank):
    (overfitting, slower, _, _) = ask(bank, "lstm-mitigates").choices
    assert "four times the weights" in overfitting.feedback
    assert "four gate blocks where a plain RNN computes one" in slower.feedback
    assert count(nn.LSTM(10, 20)) == 4 * count(nn.RNN(10, 20))


def test_the_last_step_readout(bank):
    question = ask(bank, "last-step-readout")
    tensors = run_prompt(question.prompt)
    top_layer_last_step = tensors["out"][:, -1, :]  # out is the top layer's h_t at every t

    def same(text: str) -> bool:
        value = eval(text.strip("`"), {}, dict(tensors))
        return value.shape == top_layer_last_step.shape and torch.equal(value, top_layer_last_step)

    assert question.correct() == proven(question, same)
    out_last = next(c for c in question.choices if c.text == "`out[-1]`")
    assert tuple(tensors["out"][-1].shape) == _shape_in(out_last.feedback)


def _shape_in(text: str) -> tuple[int, ...]:
    return tuple(int(d) for d in re.search(r"shape \(([\d, ]+)\)", text).group(1).split(","))


def test_the_batch_first_pitfall(bank):
    question = ask(bank, "batch-first-pitfall")
    lstm = lstm_in(question.prompt)
    assert lstm.batch_first is False
    x = torch.randn(shape_claims(question.prompt)["x"])  # meant as (batch 4, seq 7, features)
    out, _ = lstm(x)  # runs: nothing tells it 4 is the batch
    picked = out[:, -1, :]
    assert tuple(picked.shape) == _shape_in(question.explanation)
    last_sequence, _ = lstm(x[:, -1:, :])  # all 4 steps of the 7th sequence, alone
    assert torch.allclose(picked, last_sequence[:, 0, :], atol=1e-6)
    h_0 = torch.zeros(1, 4, 20)
    with pytest.raises(RuntimeError, match="Expected hidden"):
        lstm(x, (h_0, h_0))
    (right,) = (question.choices[i].text for i in question.correct())
    assert "last of 7 sequences" in right and "dimension 0 as time" in right


def test_unbatched_input_needs_unbatched_states(bank):
    question = ask(bank, "unbatched-input")
    lstm = lstm_in(question.prompt)
    x = torch.randn(shape_claims(question.prompt)["x"])
    states = torch.zeros(1, 1, 20)
    with pytest.raises(RuntimeError, match="2-D"):
        lstm(x, (states, states))
    flat = torch.zeros(1, 20)
    assert lstm(x, (flat, flat))[0].shape == lstm(x)[0].shape


def test_the_batch_first_argument(bank):
    question = ask(bank, "batch-first-argument")
    assert isinstance(question, ShortText)
    lstm = nn.LSTM(10, 20, **{question.answer: True})
    assert lstm(torch.randn(4, 7, 10))[0].shape == (4, 7, 20)
    (mistake,) = question.mistakes
    with pytest.raises(TypeError, match=mistake.answer):
        nn.LSTM(10, 20, **{mistake.answer: 4})


def test_missing_states_are_zeros(bank):
    feedback = [c.feedback or "" for c in ask(bank, "forget-gate-role").choices]
    assert any("which are zeros when you pass none" in f for f in feedback)
    lstm = nn.LSTM(10, 20, num_layers=2, batch_first=True)
    x = torch.randn(4, 7, 10)
    zeros = torch.zeros(2, 4, 20)
    assert torch.equal(lstm(x)[0], lstm(x, (zeros, zeros))[0])


def test_the_gate_activations(bank):
    """One step by hand with sigmoid gates, a tanh candidate and h = o * tanh(c) equals
    nn.LSTM, whose stacked weights hold the four blocks in the order i, f, g, o."""
    question = ask(bank, "gate-activations")
    right = " ".join(question.choices[i].text for i in question.correct())
    assert "sigmoid" in right and "tanh" in right and "ReLU" not in right and "softmax" not in right
    torch.manual_seed(0)
    lstm = nn.LSTM(3, 5)
    x, h, c = torch.randn(3), torch.randn(5), torch.randn(5)
    z = lstm.weight_ih_l0 @ x + lstm.bias_ih_l0 + lstm.weight_hh_l0 @ h + lstm.bias_hh_l0
    i, f, g, o = z.chunk(4)
    c_1 = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h_1 = torch.sigmoid(o) * torch.tanh(c_1)
    _, (h_n, c_n) = lstm(x[None], (h[None], c[None]))
    assert torch.allclose(c_n[0], c_1, atol=1e-6)
    assert torch.allclose(h_n[0], h_1, atol=1e-6)
    assert h_n.abs().max() < 1


def test_backward_accumulates_and_zero_grad_clears_only_grads(bank):
    question = ask(bank, "zero-grad-why")
    (right,) = (question.choices[i].text for i in question.correct())
    assert "adds the new gradients" in right
    torch.manual_seed(0)
    lstm = nn.LSTM(3, 4)
    optimizer = torch.optim.SGD(lstm.parameters(), lr=0.1)
    x = torch.randn(5, 3)
    lstm(x)[0].sum().backward()
    once = lstm.weight_hh_l0.grad.clone()
    loss = lstm(x)[0].sum()
    loss.backward()
    assert torch.allclose(lstm.weight_hh_l0.grad, 2 * once)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()
    weights = lstm.weight_hh_l0.detach().clone()
    optimizer.zero_grad()
    assert lstm.weight_hh_l0.grad is None
    assert torch.equal(lstm.weight_hh_l0, weights)


def train(order: list[str], steps: int = 2) -> list[torch.Tensor]:
    """Run `steps` training steps doing `order`'s operations in turn; the final weights."""
    torch.manual_seed(0)
    model = nn.LSTM(3, 4)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(5, 3), torch.randn(5, 4)
    for _ in range(steps):
        for op in order:
            if op == "zero_grad()":
                optimizer.zero_grad()
            elif op == "forward":
                out, _ = model(x)
            elif op == "loss":
                loss = ((out - y) ** 2).mean()
            elif op == "backward()":
                loss.backward()
            elif op == "step()":
                optimizer.step()
            else:
                raise AssertionError(f"unknown step {op!r} in a choice")
    return [p.detach() for p in model.parameters()]


def gradient_descent(steps: int = 2) -> list[torch.Tensor]:
    """The same training, done by hand: each step follows that step's gradient only."""
    torch.manual_seed(0)
    model = nn.LSTM(3, 4)
    x, y = torch.randn(5, 3), torch.randn(5, 4)
    params = list(model.parameters())
    for _ in range(steps):
        loss = ((model(x)[0] - y) ** 2).mean()
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads, strict=True):
                p -= 0.1 * g
    return [p.detach() for p in params]


def test_the_training_step_orders(bank):
    question = ask(bank, "step-order")
    reference = gradient_descent()

    def correct(text: str) -> bool:
        order = [op.strip(" `") for op in text.split(",")]
        return all(
            torch.allclose(a, b, atol=1e-6) for a, b in zip(train(order), reference, strict=True)
        )

    assert question.correct() == proven(question, correct)


def test_clipping_after_backward(bank):
    question = ask(bank, "exploding-clipping")
    (right,) = (question.choices[i].text for i in question.correct())
    assert "clip_grad_norm_" in right
    assert "between `loss.backward()` and `optimizer.step()`" in right
    torch.manual_seed(0)
    lstm = nn.LSTM(3, 4)
    params = list(lstm.parameters())
    assert float(nn.utils.clip_grad_norm_(params, 1.0)) == 0  # before backward: nothing to clip
    (lstm(torch.randn(50, 3))[0] * 100).sum().backward()
    before = [p.grad.clone() for p in params]
    norm = nn.utils.clip_grad_norm_(params, max_norm=1.0)
    assert norm > 1
    after = torch.cat([p.grad.flatten() for p in params])
    assert after.norm() == pytest.approx(1.0, rel=1e-4)
    assert torch.allclose(after * norm, torch.cat([g.flatten() for g in before]), rtol=1e-4)


def test_an_lstm_can_still_explode():
    """With large recurrent weights, the gradient reaching the first input of a sequence grows
    exponentially with its length, gates or not."""

    def first_input_gradient(steps: int) -> float:
        torch.manual_seed(0)
        lstm = nn.LSTM(4, 32)
        with torch.no_grad():
            lstm.weight_hh_l0.normal_(0, 2 / 32**0.5)
            lstm.bias_ih_l0.zero_()
            lstm.bias_hh_l0.zero_()
            lstm.bias_ih_l0[32:64] = 3.0  # forget gate open, as in a well-remembering cell
        x = torch.zeros(steps, 1, 4, requires_grad=True)
        _, (h_n, _) = lstm(x)
        h_n.sum().backward()
        return x.grad[0].norm().item()

    assert first_input_gradient(40) > 1000 * first_input_gradient(10)


def test_dropout_with_one_layer(bank):
    question = ask(bank, "dropout-one-layer")
    (right,) = (question.choices[i].text for i in question.correct())
    assert "only between stacked layers" in right and "warns" in right
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        one = lstm_in(question.prompt)
    plain = nn.LSTM(10, 20, num_layers=1)
    plain.load_state_dict(one.state_dict())
    one.train()
    x = torch.randn(7, 4, 10)
    out, (_, c_n) = one(x)
    assert torch.equal(out, one(x)[0])  # nothing random: no dropout anywhere
    assert torch.equal(out, plain(x)[0]) and torch.equal(c_n, plain(x)[1][1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        two = nn.LSTM(10, 20, num_layers=2, dropout=0.5).train()
    assert not torch.equal(two(x)[0], two(x)[0])  # between two layers it does drop


def test_forget_decay(bank):
    question = ask(bank, "forget-decay")
    kept = torch.ones(1)
    for _ in range(20):
        kept = 0.9 * kept
    assert question.matches(kept.item(), question.answer)
    assert question.score(round(kept.item(), 2)).correct


def test_every_choice_question_is_checked_or_needs_no_torch(bank):
    """A new question about PyTorch must come with a test here: list the ones that state no
    PyTorch fact, so that adding one without a test fails."""
    checked = {
        "batch-first-shapes", "unbatched-input", "weight-shapes", "lstm-parameters",
        "stacked-parameters", "last-step-readout", "batch-first-pitfall", "batch-first-argument",
        "forget-gate-role", "gate-activations", "zero-grad-why", "step-order",
        "exploding-clipping", "dropout-one-layer", "forget-decay",
        "cell-vs-hidden",  # h = o * tanh(c): test_the_gate_activations
        "lstm-mitigates",  # four times an RNN's weights: test_four_times_a_plain_rnn
    }  # fmt: skip
    conceptual = {
        "forget-gate-name", "forget-gate-history",
        "rnn-vanishing-why", "cell-path-gradient",
    }  # fmt: skip
    assert {q.id for q in bank.questions} == checked | conceptual
