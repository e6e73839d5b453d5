"""Every PyTorch fact the quiz bank states, computed with torch.

The tests read the bank: the modules, shapes and numbers come from its prompts and choices, and
each question's marked answers must be exactly the choices that torch proves true. Change a
shape, a count or an answer letter in quizzes/lstm.yaml and a test here fails.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import math
import re
import warnings
from pathlib import Path

import pytest
import torch
import yaml
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

from courseware.quizbank import Numeric, QuizBank, ShortText, load_bank

REPO = Path(__file__).resolve().parents[1]
FORECASTING = REPO / "solutions" / "04_forecasting" / "forecasting.py"
SHAPE = re.compile(r"`(\w+)`(?: that)? has shape \(([\d, ]*)\)")
CALL = re.compile(r"nn\.(LSTM|GRU)\([^)]*\)")


def _load(path: Path):
    """A module from a file that is not in a package: exercise 4's reference solution."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


forecasting = _load(FORECASTING)


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


def lstm_in(text: str, **extra) -> nn.LSTM | nn.GRU:
    """The first `nn.LSTM(...)` or `nn.GRU(...)` written in `text`, built with fixed weights."""
    found = CALL.search(text)
    call = ast.parse(found.group(0), mode="eval").body
    args = [ast.literal_eval(a) for a in call.args]
    kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    torch.manual_seed(0)
    return getattr(nn, found.group(1))(*args, **kwargs, **extra)


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


@pytest.mark.parametrize(
    "question_id", ["batch-first-shapes", "unbatched-input", "proj-size-shapes"]
)
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


@pytest.mark.parametrize("question_id", ["lstm-parameters", "stacked-parameters", "gru-parameters"])
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
    """Row b of out[:, -1] has read the last step of sequences 0 to b, and nothing else."""
    question = ask(bank, "batch-first-pitfall")
    lstm = lstm_in(question.prompt)
    assert lstm.batch_first is False
    x = torch.randn(shape_claims(question.prompt)["x"])  # meant as (batch 4, seq 7, features)
    out, _ = lstm(x)  # runs: nothing tells it 4 is the batch
    picked = out[:, -1, :]
    assert tuple(picked.shape) == _shape_in(question.explanation)
    for b in range(4):  # the last steps of sequences 0..b, read as one sequence of b + 1 steps
        alone, _ = lstm(x[: b + 1, -1, :])
        assert torch.allclose(picked[b], alone[-1], atol=1e-6)
    earlier_steps = x.clone()
    earlier_steps[:, :-1] += 1  # every step but the last: unseen
    assert torch.equal(lstm(earlier_steps)[0][:, -1], picked)
    sequence_2 = x.clone()
    sequence_2[2, -1] += 1  # the last step of sequence 2 reaches rows 2 and 3 only
    changed = (lstm(sequence_2)[0][:, -1] != picked).any(dim=-1)
    assert changed.tolist() == [False, False, True, True]
    h_0 = torch.zeros(1, 4, 20)
    with pytest.raises(RuntimeError, match="Expected hidden"):
        lstm(x, (h_0, h_0))
    (right,) = (question.choices[i].text for i in question.correct())
    assert "last step of sequence 0" in right and "across the batch" in right


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


def test_zero_grad_between_backward_and_step(bank):
    """Choice c of step-order: None grads make step() skip; zeros only decay the weights."""
    feedback = ask(bank, "step-order").choices[2].feedback
    assert "set_to_none=True" in feedback and "weight decay" in feedback

    def weights_after(set_to_none: bool, weight_decay: float) -> list[torch.Tensor]:
        torch.manual_seed(0)
        model = nn.LSTM(3, 4)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=weight_decay)
        model(torch.randn(5, 3))[0].pow(2).mean().backward()
        optimizer.zero_grad(set_to_none=set_to_none)
        assert (model.weight_hh_l0.grad is None) is set_to_none
        optimizer.step()
        return [p.detach().clone() for p in model.parameters()]

    torch.manual_seed(0)
    start = [p.detach().clone() for p in nn.LSTM(3, 4).parameters()]

    def same(weights):
        return all(torch.equal(a, b) for a, b in zip(weights, start, strict=True))

    assert same(weights_after(set_to_none=True, weight_decay=0.1))
    assert same(weights_after(set_to_none=False, weight_decay=0.0))
    decayed = weights_after(set_to_none=False, weight_decay=0.1)
    assert all(torch.allclose(a, b * (1 - 0.1 * 0.1)) for a, b in zip(decayed, start, strict=True))


def test_holding_a_memory_needs_the_input_gate_closed(bank):
    question = ask(bank, "hold-a-memory")
    assert isinstance(question, ShortText) and question.answer == "input gate"
    assert "forget gate" not in question.prompt.split("Which")[1]  # the answer is not given away

    def cell_after_50_steps(input_bias: float, output_bias: float) -> torch.Tensor:
        torch.manual_seed(0)
        lstm = nn.LSTM(3, 4)
        with torch.no_grad():
            lstm.bias_ih_l0.zero_()
            lstm.bias_hh_l0.zero_()
            lstm.bias_ih_l0[0:4] = input_bias  # input gate
            lstm.bias_ih_l0[4:8] = 30.0  # forget gate: sigmoid(30) == 1 in float32
            lstm.bias_ih_l0[12:16] = output_bias  # output gate
        c_0 = torch.full((1, 1, 4), 0.7)
        _, (_, c_n) = lstm(torch.randn(50, 1, 3), (torch.zeros(1, 1, 4), c_0))
        return (c_n - c_0).abs().max()

    assert cell_after_50_steps(input_bias=-30.0, output_bias=0.0) < 1e-6  # kept unchanged
    assert cell_after_50_steps(input_bias=30.0, output_bias=0.0) > 0.1  # the input writes
    assert cell_after_50_steps(input_bias=30.0, output_bias=-30.0) > 0.1  # a closed output too


def test_why_the_forget_gate_starts_open(bank):
    question = ask(bank, "forget-bias-why")
    (right,) = (question.choices[i].text for i in question.correct())
    gate = torch.sigmoid(torch.tensor([0.0, 1.0, 2.0]))
    assert "0.5^20 ≈ 10^-6" in right and round(math.log10(gate[0].item() ** 20)) == -6
    assert "0.73 or 0.88" in right and [round(g, 2) for g in gate[1:].tolist()] == [0.73, 0.88]
    torch.manual_seed(0)
    lstm = nn.LSTM(10, 20)
    assert all(p.abs().max() <= 1 / 20**0.5 for p in lstm.parameters())  # PyTorch's default
    at_rest = torch.sigmoid(lstm.bias_ih_l0[20:40] + lstm.bias_hh_l0[20:40])  # x = h = 0
    widest = torch.sigmoid(torch.tensor(2 / 20**0.5)) - 0.5  # both biases at their bound
    assert (at_rest - 0.5).abs().max() <= widest < 0.12  # near 0.5 at the start


def test_the_lines_that_set_the_forget_bias(bank):
    question = ask(bank, "forget-bias-lines")

    def exactly_one(text: str) -> bool:
        lstm = lstm_in(question.prompt)
        before = lstm.bias_ih_l0 + lstm.bias_hh_l0
        with torch.no_grad():
            exec(text.strip("`"), {}, {"lstm": lstm})
            total = lstm.bias_ih_l0 + lstm.bias_hh_l0
        others = torch.cat([total[:20] - before[:20], total[40:] - before[40:]])
        return bool((total[20:40] == 1).all()) and not others.any()

    assert question.correct() == proven(question, exactly_one)
    lstm = lstm_in(question.prompt)
    bound = 1 / 20**0.5  # PyTorch draws each bias uniformly from (-bound, bound)
    assert lstm.bias_hh_l0[20:40].abs().max() <= bound and round(bound, 2) == 0.22


def padded_batch(lengths: list[int]) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """Sequences of these lengths with 10 features, zero-padded into (batch, longest, 10)."""
    torch.manual_seed(1)
    seqs = [torch.randn(n, 10) for n in lengths]
    return pad_sequence(seqs, batch_first=True), torch.tensor(lengths), seqs


def test_a_padded_batch_reads_its_padding(bank):
    question = ask(bank, "padded-last-step")
    lstm = lstm_in(question.prompt)
    x, _, seqs = padded_batch([4, 2, 3])
    assert tuple(x.shape) == shape_claims(question.prompt)["x"]
    out, _ = lstm(x)
    alone, _ = lstm(seqs[1])  # sequence 1 unbatched: (2, 20)
    with_padding, _ = lstm(torch.cat([seqs[1], torch.zeros(2, 10)]))
    assert not torch.allclose(out[1, -1], alone[-1], atol=1e-4)  # not its last real step
    assert torch.allclose(out[1, -1], with_padding[-1], atol=1e-6)  # 2 steps + 2 of padding
    assert out[1, -1].abs().min() > 0 and not torch.equal(out[1, 2], out[1, 3])  # no zeros


def test_reading_a_packed_batch(bank):
    question = ask(bank, "packed-readout")
    lstm = lstm_in(question.prompt)
    x, lengths, seqs = padded_batch([4, 2, 3])
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out_p, (h_n, _) = lstm(packed)
    out, lens = pad_packed_sequence(out_p, batch_first=True)
    truth = torch.stack([lstm(s.unsqueeze(0))[0][0, -1] for s in seqs])  # each one alone

    def right(text: str) -> bool:
        value = eval(text.strip("`"), {"torch": torch}, {"out": out, "h_n": h_n, "lens": lens})
        return value.shape == truth.shape and torch.allclose(value, truth, atol=1e-6)

    assert question.correct() == proven(question, right)
    assert not out[1:, -1].any()  # "filled it with zeros"
    assert tuple(out[:, lens - 1].shape) == _shape_in(question.choices[4].feedback)


def test_enforce_sorted(bank):
    question = ask(bank, "enforce-sorted")
    x, lengths, seqs = padded_batch([4, 2, 3])
    prompt_lengths = ast.literal_eval(re.search(r"tensor\((\[[\d, ]+\])\)", question.prompt)[1])
    assert prompt_lengths == lengths.tolist()
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        pack_padded_sequence(x, lengths, batch_first=True)
    pack_padded_sequence(x, lengths.tolist(), batch_first=True, enforce_sorted=False)  # a list
    with pytest.raises(RuntimeError, match="1D CPU int64 tensor"):
        pack_padded_sequence(x, lengths[0], batch_first=True, enforce_sorted=False)
    torch.manual_seed(0)
    lstm = nn.LSTM(10, 20, batch_first=True)
    _, (h_n, _) = lstm(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
    marked = x.clone()
    marked[1, 2:] = -1.0  # padding marked with -1: never read
    marked[2, 3:] = 99.0
    packed = pack_padded_sequence(marked, lengths, batch_first=True, enforce_sorted=False)
    assert torch.equal(lstm(packed)[1][0], h_n)
    in_order = torch.stack([lstm(s.unsqueeze(0))[1][0][-1, 0] for s in seqs])
    assert torch.allclose(h_n[-1], in_order, atol=1e-6)  # back in the batch's order


def chunks(series: torch.Tensor, k: int, carry) -> list[torch.Tensor]:
    """Run an LSTM over `series` (1, T, 2) in chunks of k steps; `carry` maps the state on."""
    torch.manual_seed(0)
    lstm = nn.LSTM(2, 8, batch_first=True)
    state, outs = None, []
    for start in range(0, series.size(1), k):
        out, state = lstm(series[:, start : start + k], state)
        outs.append(out)
        state = carry(state)
    return outs


def test_truncated_backpropagation_reaches_the_start_of_its_chunk(bank):
    question = ask(bank, "truncated-reach")
    k, step = (
        int(n) for n in re.search(r"chunks of (\d+) .* at step (\d+)", question.prompt).groups()
    )
    series = torch.randn(1, 150, 2, requires_grad=True)

    def reached(carry) -> int:
        out = torch.cat(chunks(series, k, carry), dim=1)
        (grad,) = torch.autograd.grad(out[0, step].sum(), series)
        return int(grad[0, : step + 1].abs().sum(dim=-1).gt(0).sum())

    detached = reached(lambda state: tuple(s.detach() for s in state))
    assert question.answer == detached == 31
    full, whole_chunk, off_by_one = sorted(m.answer for m in question.mistakes)[::-1][:3]
    assert reached(lambda state: state) == full == 131  # no detach: back to step 0
    assert whole_chunk == k and off_by_one == detached - 1


def test_carrying_the_state_across_chunks(bank):
    question = ask(bank, "carry-state-detach")
    (right,) = (question.choices[i].text for i in question.correct())
    assert "s.detach()" in right
    torch.manual_seed(0)
    lstm = nn.LSTM(2, 8, batch_first=True)
    optimizer = torch.optim.SGD(lstm.parameters(), lr=0.1)
    series = torch.randn(1, 300, 2)

    done = []  # the chunks whose step went through, in the last run

    def train(carry, retain_graph: bool = False, no_grad: bool = False) -> None:
        state, done[:] = None, []
        for start in range(0, 300, 100):
            with torch.set_grad_enabled(not no_grad):
                out, state = lstm(series[:, start : start + 100], state)
            optimizer.zero_grad()
            out.pow(2).mean().backward(retain_graph=retain_graph)
            optimizer.step()
            done.append(start)
            state = carry(state)

    train(lambda state: tuple(s.detach() for s in state))  # the fix runs
    assert done == [0, 100, 200]
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        train(lambda state: state)
    assert done == [0]  # fails on the second chunk
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        train(lambda state: state, retain_graph=True)
    assert done == [0]  # on the same second chunk, not one later
    (retained,) = (c for c in question.choices if "retain_graph=True" in c.text)
    assert "fails on the same second chunk" in retained.feedback
    assert "one chunk later" not in retained.feedback
    with pytest.raises(RuntimeError, match="does not require grad"):
        train(lambda state: None, no_grad=True)
    carried = chunks(series, 100, lambda state: tuple(s.detach() for s in state))[1]
    restarted = chunks(series, 100, lambda state: None)[1]
    assert not torch.allclose(carried, restarted)  # state=None forgets at the boundary


def test_a_projected_lstm(bank):
    """proj_size: h_t = W_hr (o_t * tanh(c_t)) has P features, the cell state keeps H."""
    question = ask(bank, "proj-size-shapes")
    assert "`weight_hr_l0`" in question.explanation and "4H × P" in question.explanation
    lstm = lstm_in(question.prompt)
    assert lstm.proj_size == 5 and lstm.hidden_size == 20
    assert tuple(lstm.weight_hr_l0.shape) == (5, 20) and tuple(lstm.weight_hh_l0.shape) == (80, 5)
    x, h, c = torch.randn(1, 1, 10), torch.randn(1, 1, 5), torch.randn(1, 1, 20)
    z = (
        lstm.weight_ih_l0 @ x[0, 0]
        + lstm.bias_ih_l0
        + lstm.weight_hh_l0 @ h[0, 0]
        + lstm.bias_hh_l0
    )
    i, f, g, o = z.chunk(4)
    c_1 = torch.sigmoid(f) * c[0, 0] + torch.sigmoid(i) * torch.tanh(g)
    h_1 = lstm.weight_hr_l0 @ (torch.sigmoid(o) * torch.tanh(c_1))
    out, (h_n, c_n) = lstm(x, (h, c))
    assert torch.allclose(c_n[0, 0], c_1, atol=1e-6) and torch.allclose(h_n[0, 0], h_1, atol=1e-6)
    assert torch.equal(out[:, -1], h_n[-1])
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(10, 20, proj_size=20)


def test_a_stream_costs_the_same_at_every_frame(bank):
    """lstm-or-transformer: the state has one size however long the stream; a frame at a time
    with the state carried gives what one call over the whole stream gives."""
    question = ask(bank, "lstm-or-transformer")
    (right,) = (question.choices[i].text for i in question.correct())
    assert "fixed size" in right
    torch.manual_seed(0)
    lstm = nn.LSTM(8, 16)
    stream = torch.randn(300, 1, 8)
    out, whole = lstm(stream)
    state, shapes = None, set()
    for frame in stream:
        step_out, state = lstm(frame[None], state)
        shapes.add(tuple(tuple(s.shape) for s in state))
    assert shapes == {((1, 1, 16), (1, 1, 16))}
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(state, whole, strict=True))
    assert torch.allclose(step_out[0], out[-1], atol=1e-5)


def test_the_gru_slips_are_the_ones_their_feedback_names(bank):
    question = ask(bank, "gru-parameters")
    gru = lstm_in(question.prompt)
    assert isinstance(gru, nn.GRU)
    lstm_count = count(nn.LSTM(10, 20))
    no_biases = count(lstm_in(question.prompt, bias=False))
    one_bias = count(gru) - gru.bias_hh_l0.numel()
    assert sorted(m.answer for m in question.mistakes) == sorted([lstm_count, no_biases, one_bias])
    assert count(gru) * 4 == lstm_count * 3


class Regressor(nn.Module):
    """A model whose forward unpacks the state the LSTM way, as in the gru-swap question."""

    def __init__(self, rnn: nn.Module):
        super().__init__()
        self.rnn, self.head = rnn, nn.Linear(20, 1)

    def forward(self, x):
        _, (h_n, _) = self.rnn(x)  # the LSTM's unpacking, kept after the swap
        return self.head(h_n[-1])


def test_swapping_in_a_gru(bank):
    question = ask(bank, "gru-swap")
    (right,) = (question.choices[i].text for i in question.correct())
    assert "runs without an error" in right and "shape (1,), instead of (4, 1)" in right
    x = torch.randn(4, 7, 10)
    lstm_model = Regressor(nn.LSTM(10, 20, num_layers=2, batch_first=True))
    assert lstm_model(x).shape == (4, 1)
    gru = lstm_in(question.prompt.split("switched to")[1])
    assert isinstance(gru, nn.GRU) and gru.batch_first
    out, h = gru(x)
    assert tuple(h.shape) == (2, 4, 20) and out.shape == lstm_model.rnn(x)[0].shape
    assert Regressor(gru)(x).shape == (1,)  # runs: one value instead of (4, 1)
    with pytest.raises(ValueError, match="not enough values to unpack"):
        Regressor(nn.GRU(10, 20, batch_first=True))(x)
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        nn.GRU(10, 20, proj_size=5)


def test_the_gru_gates(bank):
    question = ask(bank, "gru-gates")
    right = " ".join(question.choices[i].text for i in question.correct())
    assert "three quarters" in right and count(nn.GRU(7, 9)) * 4 == count(nn.LSTM(7, 9)) * 3
    torch.manual_seed(0)
    gru = nn.GRU(3, 5)
    x, h = torch.randn(3), torch.randn(5)
    r_i, z_i, n_i = (gru.weight_ih_l0 @ x + gru.bias_ih_l0).chunk(3)
    r_h, z_h, n_h = (gru.weight_hh_l0 @ h + gru.bias_hh_l0).chunk(3)
    r, z = torch.sigmoid(r_i + r_h), torch.sigmoid(z_i + z_h)
    n = torch.tanh(n_i + r * n_h)  # the reset gate scales what the candidate sees of h
    assert torch.allclose(gru(x[None], h[None])[1][0], (1 - z) * n + z * h, atol=1e-6)
    with torch.no_grad():
        gru.bias_ih_l0[5:10] = 30.0  # update gate near 1: the state passes unchanged
    h_1 = gru(x[None], h[None])[1][0]
    assert torch.allclose(h_1, h, atol=1e-6)
    assert len(gru(x[None])) == 2  # out and one state: no cell state


def test_the_windows_of_an_autoregressive_forecast(bank):
    """Read with exercise 4's reference: the window of step s holds s - 1 predictions."""
    question = ask(bank, "own-predictions")
    step = int(re.search(r"window of the (\d+)th step", question.prompt)[1])
    windows, grad_modes = [], []

    class Recorder(nn.Module):
        """Records every window it is given and predicts -1, -2, …: negative, unlike history."""

        def forward(self, x):
            windows.append(x.detach().clone())
            grad_modes.append(torch.is_grad_enabled())
            return torch.full((x.size(0), 1), -float(len(windows)))

    future = forecasting.forecast(Recorder(), torch.arange(100.0), steps=50, window=20)
    own = [int((w < 0).sum()) for w in windows]
    assert question.answer == own[step - 1] == 7
    assert own[20] == 20 and own[19] == 19 and own[0] == 0
    mistakes = sorted(m.answer for m in question.mistakes)
    assert mistakes == sorted([step, 20 - own[step - 1], 20])
    assert all(tuple(w.shape) == (1, 20, 1) for w in windows)  # a whole window every step
    assert future.shape == (50,) and not any(grad_modes)  # no gradients (exposure-bias, d)


def test_returning_the_loss_tensor(bank):
    question = ask(bank, "return-loss-tensor")
    (right,) = (question.choices[i].text for i in question.correct())
    assert "history grows" in right and "json.dumps" in right
    torch.manual_seed(0)
    lstm = nn.LSTM(3, 4)
    optimizer = torch.optim.SGD(lstm.parameters(), lr=0.1)
    total, history = 0, []
    for _ in range(3):
        loss = lstm(torch.randn(5, 3))[0].pow(2).mean()
        loss.backward()
        optimizer.step()
        with pytest.raises(RuntimeError, match="already been freed"):
            loss.backward()  # the saved activations are gone already
        total += loss
        history.append(len(_graph(total)))
    assert history[0] < history[1] < history[2]
    with pytest.raises(TypeError, match="not JSON serializable"):
        json.dumps(total)
    assert isinstance(loss < 1.0, torch.Tensor)


def _graph(tensor: torch.Tensor) -> set:
    """Every autograd node reachable from `tensor`."""
    seen, stack = set(), [tensor.grad_fn]
    while stack:
        node = stack.pop()
        if node is not None and node not in seen:
            seen.add(node)
            stack.extend(child for child, _ in node.next_functions)
    return seen


def test_every_choice_question_is_checked_or_needs_no_torch(bank):
    """A new question about PyTorch must come with a test here: list the ones that state no
    PyTorch fact, so that adding one without a test fails."""
    checked = {
        "batch-first-shapes", "unbatched-input", "weight-shapes", "lstm-parameters",
        "stacked-parameters", "last-step-readout", "batch-first-pitfall", "batch-first-argument",
        "forget-gate-role", "gate-activations", "zero-grad-why", "step-order",
        "exploding-clipping", "dropout-one-layer", "forget-decay", "hold-a-memory",
        "forget-bias-why", "forget-bias-lines", "padded-last-step", "packed-readout",
        "enforce-sorted", "truncated-reach", "carry-state-detach", "gru-parameters",
        "gru-swap", "gru-gates", "own-predictions", "return-loss-tensor",
        "proj-size-shapes", "lstm-or-transformer",
        "cell-vs-hidden",  # h = o * tanh(c): test_the_gate_activations
        "lstm-mitigates",  # four times an RNN's weights: test_four_times_a_plain_rnn
        "exposure-bias",  # test_the_windows_of_an_autoregressive_forecast
    }  # fmt: skip
    conceptual = {"rnn-vanishing-why", "cell-path-gradient", "exposure-remedies"}
    assert {q.id for q in bank.questions} == checked | conceptual
