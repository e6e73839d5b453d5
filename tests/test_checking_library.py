"""The diagnosis library (grader/checking/) that every check is written on: each function is
tested on a case where its finding holds and on one where it nearly holds and must not be
claimed (a replay that cannot be told from the reference, a relation off by one entry)."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from grader.checking import CheckFailure
from grader.checking.compare import (
    also,
    conforming,
    conforming_series,
    expect_numbers,
    expect_parameters,
    expect_same,
    expect_series,
    first_difference,
)
from grader.checking.diagnosis import Hint, Mistake, diagnose, hints, matching, variants
from grader.checking.explainers import PAIR_SWAPPED
from grader.checking.reference import (
    gradients_of,
    leaf,
    loaded,
    seeded_weights,
    silenced,
    skipping,
    train_in_turn,
)
from grader.checking.values import all_close, chunking, close

TOL = (1e-5, 1e-4)


def same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return close(a, b, *TOL)


def message_of(call) -> str:
    """The message a library function failed with (it must fail)."""
    with pytest.raises(CheckFailure) as failed:
        call()
    return failed.value.message


def ramp() -> torch.Tensor:
    return torch.arange(1.0, 7.0).reshape(2, 3)


# --------------------------------------------------------------------- diagnosis


def test_variants_replay_each_change_and_keep_the_table_order() -> None:
    table = [("double", 2, "twice"), ("triple", 3, "three times")]
    found = variants(table, lambda k: ramp() * k)
    assert [m.name for m in found] == ["double", "triple"]
    assert torch.equal(found[1].replay(), ramp() * 3) and found[1].message == "three times"


def test_matching_names_the_first_replay_that_gives_the_result() -> None:
    mistakes = variants([("half", 0.5, "halved"), ("also_half", 0.5, "again")], ramp().mul)
    assert matching(ramp() * 0.5, mistakes, same).name == "half"


def test_a_replay_that_raises_or_differs_is_never_a_match() -> None:
    def broken() -> torch.Tensor:
        raise RuntimeError("shapes cannot be multiplied")

    mistakes = [Mistake("broken", broken, "x"), Mistake("near", lambda: ramp() * 0.51, "y")]
    assert matching(ramp() * 0.5, mistakes, same) is None
    assert diagnose(ramp() * 0.5, mistakes, same, "none of the usual") == "none of the usual"


def test_a_replay_equal_to_the_reference_is_not_claimed() -> None:
    """On inputs where a mistake changes nothing, its replay explains nothing."""
    result = ramp() + 1e-6  # the learner's: right within the tolerance, wrong at a tighter one
    mistakes = [Mistake("harmless", lambda: ramp(), "your gate is wrong")]
    assert matching(result, mistakes, same) is not None  # without the reference: claimed
    assert matching(result, mistakes, same, expected=ramp()) is None
    assert diagnose(result, mistakes, same, "unknown", expected=ramp()) == "unknown"


def test_hints_say_the_first_that_fits_the_error_and_what_the_check_knows() -> None:
    explain = hints(
        Hint(("dtype",), "float64 input", when=False),
        Hint(("Scalar Type", "dtype"), "a forgotten dtype"),
        Hint(("dtype",), "never reached"),
    )
    assert explain({"message": "expected scalar type Double"}, {}) == "a forgotten dtype"
    assert explain({"message": "size mismatch"}, {}) == ""
    assert explain({}, {}) == ""


def test_a_hint_can_depend_on_what_the_probe_saw() -> None:
    explain = hints(Hint(("a second time",), "detach", when=lambda reply: reply["attached"]))
    error = {"message": "Trying to backward through the graph a second time"}
    assert explain(error, {"attached": True}) == "detach"
    assert explain(error, {"attached": False}) == ""


# --------------------------------------------------------------------- comparing


def test_conforming_passes_a_tensor_of_the_right_shape_and_dtype() -> None:
    value = ramp()
    assert conforming(value, ramp(), "Your h", "{got}/{want}", "{got}/{want}") is value


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (torch.zeros(3, 2), "shape (3, 2), want (2, 3) for h"),
        (ramp().double(), "dtype torch.float64, want torch.float32 for h"),
        ([1.0], "Your h returned no tensor"),
    ],
)
def test_conforming_fails_saying_how_a_value_differs(value, said: str) -> None:
    shape, dtype = "shape {got}, want {want} for {which}", "dtype {got}, want {want} for {which}"
    found = message_of(lambda: conforming(value, ramp(), "Your h", shape, dtype, which="h"))
    assert said in found


def test_conforming_series_checks_every_step_of_every_name() -> None:
    want = {"h": [ramp(), ramp()], "c": [ramp(), ramp()]}
    got = {"h": [ramp(), ramp()], "c": [ramp(), torch.zeros(2)]}
    said = message_of(
        lambda: conforming_series(got, want, "{which}", "{which} at {case}", "", case="t")
    )
    assert said == "c at t"
    assert conforming_series(want, want, "{which}", "", "")["c"][1] is want["c"][1]


PARAMETERS = {"weight": (4, 3), "bias": (4,)}
SAYS = {  # the messages expect_parameters is given, and what they are formatted with
    "missing": "{what} has no {name} (it has {names})",
    "wrong_shape": "{what}: {name} is {got}, not {want}",
    "extra": "{what} also has {names}",
}


@pytest.mark.parametrize(
    ("found", "said"),
    [
        ({"weight": (4, 3)}, "Layer has no bias (it has weight)"),
        ({}, "Layer has no weight (it has none)"),
        ({"weight": (3, 4), "bias": (4,)}, "Layer: weight is (3, 4), not (4, 3)"),
        ({**PARAMETERS, "scale": (1,)}, "Layer also has scale"),
    ],
)
def test_parameters_that_are_missing_misshapen_or_extra_are_named(found, said: str) -> None:
    check = lambda: expect_parameters(found, PARAMETERS, *SAYS.values(), what="Layer")  # noqa: E731
    assert message_of(check) == said


def test_parameters_exactly_as_wanted_pass() -> None:
    expect_parameters({"bias": [4], "weight": [4, 3]}, PARAMETERS, *SAYS.values(), what="L")


def test_first_difference_names_the_first_value_missing_or_not_close() -> None:
    want = {"a": ramp(), "b": ramp(), "c": ramp()}
    assert first_difference(dict(want), want, *TOL) is None
    missing = first_difference({"a": ramp(), "b": None}, want, *TOL)
    assert (missing.name, missing.missing) == ("b", True)
    off = first_difference({"a": ramp(), "b": ramp() + 0.25, "c": None}, want, *TOL)
    assert (off.name, off.missing, off.diff) == ("b", False, pytest.approx(0.25))
    nan = ramp()
    nan[0, 0] = float("nan")
    assert first_difference({"a": nan}, {"a": ramp()}, *TOL).name == "a"  # NaN is never close


def test_numbers_are_compared_in_count_then_value_with_the_relation_that_holds() -> None:
    want = [1.0, 2.0, 3.0]
    args = ("Your losses", "{n} for {want}", "Wrong.")
    expect_numbers([1.0, 2.0, 3.0 + 1e-7], want, *args)
    assert message_of(lambda: expect_numbers([1.0, 2.0], want, *args)) == "2 for 3"
    said = message_of(lambda: expect_numbers([2.0, 4.0, 6.0], want, *args))
    assert said.startswith("Wrong. Your losses equals the reference's times 2")


def test_numbers_that_nearly_hold_a_relation_get_none_claimed() -> None:
    said = message_of(lambda: expect_numbers([2.0, 4.0, 6.1], [1.0, 2.0, 3.0], "L", "", "Wrong."))
    assert said == "Wrong."


def test_expect_same_says_a_fact_first_then_a_mistake_then_that_it_does_not_know() -> None:
    mistakes = [Mistake("halved", lambda: ramp() * 0.5, "halved")]
    expect_same(ramp(), ramp(), same, mistakes, "unknown", lambda: "never asked")
    assert message_of(lambda: expect_same(ramp() * 0.5, ramp(), same, mistakes, "?")) == "halved"
    seen = message_of(lambda: expect_same(ramp() * 0.5, ramp(), same, mistakes, "?", lambda: "saw"))
    assert seen == "saw"
    assert (
        message_of(lambda: expect_same(ramp() * 3, ramp(), same, mistakes, "unknown")) == "unknown"
    )


def series(h: torch.Tensor, c: torch.Tensor) -> dict[str, list[torch.Tensor]]:
    return {"h": [h], "c": [c]}


WRONG = "Your {which} ({case}) of shape {shape} differs by {diff:.2g}."


def test_expect_series_names_a_mistake_that_gives_every_value() -> None:
    h, c = ramp(), ramp() * 2
    mistakes = [Mistake("h_doubled", lambda: series(h * 2, c), "h is doubled")]
    expect_series(series(h, c), series(h, c), *TOL, mistakes, WRONG, case="one step")
    found = message_of(lambda: expect_series(series(h * 2, c), series(h, c), *TOL, mistakes, WRONG))
    assert found == "h is doubled"


def test_expect_series_says_an_other_value_relation_and_only_one_that_holds() -> None:
    h, c = ramp(), ramp() * 2 + 1
    said = message_of(lambda: expect_series(series(c, c), series(h, c), *TOL, [], WRONG, case="t"))
    assert said.startswith("Your h (t) of shape (2, 3) differs by")
    assert said.endswith(
        "\nYour h equals c of the reference's computation, not the value asked for."
    )
    nearly = c.clone()
    nearly[1, 2] += 0.1
    said = message_of(
        lambda: expect_series(series(nearly, c), series(h, c), *TOL, [], WRONG, case="t")
    )
    assert "\n" not in said and "equals" not in said


def test_expect_series_says_a_pair_returned_in_the_other_order_and_not_a_near_swap() -> None:
    h, c = ramp(), ramp() * 2 + 1
    swap = lambda got: expect_series(got, series(h, c), *TOL, [], WRONG, "Your step", case="t")  # noqa: E731
    said = message_of(lambda: swap(series(c, h)))
    assert said.endswith("\n" + PAIR_SWAPPED.format(what="Your step"))
    nearly = h.clone()
    nearly[0, 0] += 0.1
    assert "other order" not in message_of(lambda: swap(series(c, nearly)))


def test_also_puts_a_finding_on_its_own_line_and_nothing_adds_nothing() -> None:
    assert also("found") == "\nfound" and also("") == ""


# --------------------------------------------------------------------- the reference's side


def test_seeded_weights_are_the_same_for_a_seed_by_name_and_in_the_dtype() -> None:
    first = seeded_weights(lambda: nn.Linear(3, 2), 4, torch.float64)
    again = seeded_weights(lambda: nn.Linear(3, 2), 4, torch.float64)
    other = seeded_weights(lambda: nn.Linear(3, 2), 5)
    assert list(first) == ["weight", "bias"] and first["weight"].dtype == torch.float64
    assert all(torch.equal(first[n], again[n]) for n in first)
    assert not torch.equal(first["weight"].float(), other["weight"])


def test_loaded_puts_weights_by_name_in_their_dtype_and_under_a_suffix() -> None:
    weights = {"weight": torch.ones(2, 3, dtype=torch.float64), "bias": torch.zeros(2)}
    layer = loaded(nn.Linear(3, 2), weights)
    assert layer.weight.dtype == torch.float64 and torch.equal(layer.weight, weights["weight"])
    rnn = loaded(nn.RNN(1, 1), {"weight_ih": torch.full((1, 1), 0.5)}, suffix="_l0")
    assert float(rnn.weight_ih_l0.detach()) == 0.5


def test_gradients_of_weigh_each_output_by_its_upstream() -> None:
    x = leaf(ramp())
    grads = gradients_of((x * 3, x * x), (torch.ones(2, 3), torch.full((2, 3), 2.0)), {"x": x})
    assert torch.allclose(grads["x"], 3 + 4 * ramp())
    assert not ramp().requires_grad  # the leaf is a copy


def test_train_in_turn_records_the_parameters_after_each_call_and_what_it_returned() -> None:
    model = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(model.weight)

    def add(k: float) -> float:
        with torch.no_grad():
            model.weight += k
        return k * 10

    trained = train_in_turn(model, [lambda: add(1.0), lambda: add(2.0)])
    assert [float(p[0]) for p in trained.params] == [1.0, 3.0]
    assert trained.returned == [10.0, 20.0]


def test_silenced_methods_do_nothing_inside_and_are_themselves_after() -> None:
    model = nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    model(torch.ones(1, 2)).sum().backward()
    before = model.weight.detach().clone()
    with silenced(optimizer, "step", "zero_grad") as original:
        optimizer.step()
        optimizer.zero_grad()
        assert torch.equal(model.weight, before) and model.weight.grad is not None
    assert "step" not in vars(optimizer) and callable(original["step"])
    optimizer.step()
    assert not torch.equal(model.weight, before)


def test_skipping_replays_a_forgotten_call_and_a_call_made_once_at_the_end() -> None:
    calls: list[str] = []

    class Recorder:
        def step(self) -> None:
            calls.append("step")

    recorder = Recorder()

    def loop() -> str:
        recorder.step()
        recorder.step()
        return "done"

    assert skipping(loop, recorder, ("step",)) == "done" and calls == []
    assert skipping(loop, recorder, ("step",), deferred=("step",)) == "done"
    assert calls == ["step"]
    loop()
    assert calls == ["step", "step", "step"]


def test_a_skipped_call_the_reference_never_makes_is_not_claimed() -> None:
    """The replay of a forgotten call the reference does not make equals the reference."""
    model = nn.Linear(2, 1)
    start = [p.detach().clone() for p in model.parameters()]

    def train(optimizer) -> None:  # clears the gradients through the model, not the optimizer
        model.zero_grad()
        model(torch.ones(1, 2)).sum().backward()
        optimizer.step()

    def replay(skipped: tuple[str, ...]) -> list[torch.Tensor]:
        with torch.no_grad():
            for p, s in zip(model.parameters(), start, strict=True):
                p.copy_(s)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        return train_in_turn(
            model, [lambda: skipping(lambda: train(optimizer), optimizer, skipped)]
        ).params

    reference = replay(())
    learner = [[p + 1e-7 for p in reference[0]]]
    mistakes = variants([("no_zero_grad", ("zero_grad",), "never clears")], replay)
    assert matching(learner, mistakes, all_close) is not None  # it gives the learner's result
    assert matching(learner, mistakes, all_close, expected=reference) is None


# --------------------------------------------------------------------- values


def test_chunking_accepts_consecutive_chunks_with_a_shorter_last() -> None:
    series = torch.arange(12.0).reshape(1, 12)
    chunks = [series[:, s : s + 5] for s in (0, 5, 10)]
    assert chunking(chunks, series, 5) is None


@pytest.mark.parametrize(
    ("starts", "got"),
    [
        ((0, 4, 8), "0:5, 4:9, 8:12"),  # overlapping
        ((0, 5), "0:5, 5:10"),  # the short tail dropped
        ((1, 6), "1:6, 6:11"),  # a step skipped
    ],
)
def test_chunking_says_the_steps_given_and_the_steps_wanted(starts, got: str) -> None:
    series = torch.arange(12.0).reshape(1, 12)
    windows = [series[:, s : s + 5] for s in starts]
    assert chunking(windows, series, 5) == (got, "0:5, 5:10, 10:12")


def test_chunking_says_a_window_from_elsewhere_as_unknown() -> None:
    series = torch.arange(12.0).reshape(1, 12)
    windows = [series[:, 0:5], series[:, 5:10] + 100, series[:, 10:]]
    assert chunking(windows, series, 5) == ("0:5, ?, 10:12", "0:5, 5:10, 10:12")
