"""The generic explainers: each relation is claimed when it holds within the tolerance, and
never when it nearly holds (one entry off by more than the tolerance)."""

from __future__ import annotations

import pytest
import torch

from grader.checking.explainers import Comparison, explain, explain_pair

ATOL, RTOL = 1e-5, 1e-4


def reference() -> torch.Tensor:
    """A (batch 3, time 5, features 4) value with no symmetry that would make two relations
    hold at once."""
    return torch.randn(3, 5, 4, generator=torch.Generator().manual_seed(0))


def off(value: torch.Tensor) -> torch.Tensor:
    """`value` with one entry moved by far more than the tolerance: nearly the relation."""
    value = value.clone()
    value.view(-1)[7] += 0.1
    return value


def said(actual: torch.Tensor, **others: torch.Tensor) -> str:
    return explain(Comparison(actual, reference(), ATOL, RTOL, "Your h", others=others))


def later(e: torch.Tensor) -> torch.Tensor:
    """The reference one step later in time; the first step is something else."""
    return torch.cat([torch.full_like(e[:, :1], 9.0), e[:, :-1]], dim=1)


RELATIONS = {  # name: (what the learner's value is, a phrase its message holds)
    "scaled": (lambda e: e * 0.5, "times 0.5"),
    "shifted": (later, "step t - 1"),
    "reversed": (lambda e: e.flip(1), "reversed along dimension 1"),
    "permuted": (lambda e: e.transpose(0, 1).contiguous(), "order (1, 0, 2)"),
    "some rows": (lambda e: torch.cat([e[:1], e[1:] + 1.0]), "rows 0"),
}


@pytest.mark.parametrize("name", RELATIONS)
def test_relation_that_holds_is_named(name: str) -> None:
    make, phrase = RELATIONS[name]
    assert phrase in said(make(reference()))


@pytest.mark.parametrize("name", [n for n in RELATIONS if n != "some rows"])
def test_relation_that_nearly_holds_is_not_claimed(name: str) -> None:
    make, _ = RELATIONS[name]
    assert said(off(make(reference()))) == ""


def test_rows_that_nearly_match_are_not_named() -> None:
    e = reference()
    nearly = e + 1.0
    nearly[0] = e[0] + 2 * (ATOL + RTOL)  # row 0 just outside the tolerance
    assert said(nearly) == ""


def test_another_value_of_the_computation_is_named() -> None:
    c = torch.randn(3, 5, 4)
    assert "equals c of the reference" in said(c.clone(), c=c)
    assert said(off(c), c=c) == ""


def test_swapped_pair_is_named_and_a_near_swap_is_not() -> None:
    h, c = reference(), reference() * 2 + 1
    assert "other order" in explain_pair((c, h), (h, c), ATOL, RTOL)
    assert explain_pair((off(c), h), (h, c), ATOL, RTOL) == ""


def test_all_zero_is_said_plainly() -> None:
    assert "zero everywhere" in said(torch.zeros(3, 5, 4))


def test_unrelated_value_claims_nothing() -> None:
    assert said(torch.randn(3, 5, 4, generator=torch.Generator().manual_seed(9))) == ""
