"""The messages every exercise repeats, written once in grader.checking.messages: each one's
text for a sample, a message that cannot be formatted for want of a name fails loudly (never
shows a learner a brace), and the checks that use them say them through the real runner."""

from __future__ import annotations

import string

import pytest
import torch

from grader.checking import messages
from tests.helpers import edited, failed_message, solution

MESSAGES = {name: value for name, value in vars(messages).items() if name.isupper()}


def fields(template: str) -> set[str]:
    """The names a template is formatted with."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def sample(template: str) -> dict:
    """A value for each of the template's names (a number where it formats one)."""
    return {name: 0.5 if name == "diff" else f"<{name}>" for name in fields(template)}


def test_a_parameter_without_a_gradient_is_named_with_its_shape_and_what_was_right():
    said = messages.PARAMETER_NO_GRADIENT.format(
        name="Your parameter fc.weight", shape="(1, 20)", result="your output matches"
    )
    assert said == (
        "Your parameter fc.weight (shape (1, 20)) received no gradient, though your output "
        "matches: it is used outside autograd (.detach(), .data, torch.no_grad()) or not at all."
    )


def test_a_wrong_parameter_gradient_says_by_how_much():
    said = messages.PARAMETER_WRONG_GRADIENT.format(
        name="Your head's bias", shape="(3,)", result="your scores match", diff=0.012345
    )
    assert said.startswith("The gradient of Your head's bias (shape (3,)) differs from the ")
    assert "(largest difference 0.0123), though your scores match: is part of" in said


def test_extra_parameters_specialised_by_an_exercise_keeps_its_own_names_for_later():
    """An exercise fixes what and expected once and formats sizes and shapes per case."""
    extra = messages.EXTRA_PARAMETERS.format(
        what="Net{sizes}", expected="the layer and the head", shapes="{shapes}"
    )
    assert extra.format(sizes=(3, 4), shapes=[[2, 2]]) == (
        "Net(3, 4) has parameters besides the layer and the head: shapes [[2, 2]]."
    )


def test_not_a_module_names_the_class():
    assert messages.NOT_A_MODULE.format(name="Net") == "Net must subclass nn.Module."


@pytest.mark.parametrize(
    ("dtype", "name"), [(torch.float64, "float64"), (torch.int64, "int64"), ("float32", "float32")]
)
def test_a_dtype_is_named_as_a_learner_writes_it(dtype, name):
    assert messages.dtype_name(dtype) == name


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_each_message_formats_whole_and_fails_loudly_without_one_of_its_names(name):
    template = MESSAGES[name]
    said = template.format(**sample(template))
    assert "{" not in said and "}" not in said and said.endswith((".", "?")), said
    for missing in fields(template):
        with pytest.raises(KeyError):
            template.format(**{k: v for k, v in sample(template).items() if k != missing})


# --------------------------------------------------------------------- through the runner

NORM = "return torch.linalg.vector_norm(grad[0], dim=-1)"
WHAT = "Your input_gradient_norms"


def test_norms_in_another_dtype_get_the_shared_dtype_message(grade_source, module):
    source = edited(solution(module, "05_vanishing_gradients"), NORM, NORM + ".float()")
    message = failed_message(grade_source("05_vanishing_gradients", source), "test_rnn")
    said = messages.DTYPE.format(what=WHAT, got="float32 norms", want="float64")
    assert message.startswith(said), message


def test_a_model_left_changed_gets_the_shared_mutated_argument_message(grade_source, module):
    changed = "model.requires_grad_(False)\n    " + NORM
    source = edited(solution(module, "05_vanishing_gradients"), NORM, changed)
    result = grade_source("05_vanishing_gradients", source)
    message = failed_message(result, "test_leaves_model_as_found")
    said = messages.MUTATED_ARGUMENT.format(what=WHAT, name="model")
    assert message.startswith(said) and "requires_grad" in message, message


def test_a_loss_returned_in_a_list_gets_the_shared_return_type_message(grade_source, module):
    returned = "return loss.item()"
    source = edited(solution(module, "02_training_step"), returned, "return [loss.item()]")
    message = failed_message(grade_source("02_training_step", source), "test_returns_the_loss")
    assert message.startswith("train_step returned a list"), message
    assert message.endswith("; it must return the loss as a Python float, loss.item()."), message
