"""Before a check says "none of the usual mistakes", the generic explainers say what relation
holds between the learner's value and the reference's; a relation that does not hold (only
some of the shorter sequences read wrong) is not claimed. Graded through the real runner."""

from __future__ import annotations

from tests.helpers import edited, failed_message, solution


def test_norms_scaled_by_a_constant_are_said_to_be(grade_source, module):
    norm = "return torch.linalg.vector_norm(grad[0], dim=-1)"
    source = edited(solution(module, "05_vanishing_gradients"), norm, norm + " * 3")
    message = failed_message(grade_source("05_vanishing_gradients", source), "test_rnn")
    assert "none of the usual mistakes" in message, message
    assert "Your norms equals the reference's times 3," in message, message


def test_scores_wrong_on_one_short_sequence_name_the_rows_that_match(grade_source, module):
    """Lengths 7, 5, 3, 1 read at (lengths - 1).clamp(min=1): only the sequence of one step is
    read wrong, so the scores are not "wrong for the shorter ones" but right on rows 0 to 2."""
    source = solution(module, "06_variable_length")
    body = source[source.index("        sequences =") : source.index("        return self.head")]
    last = "out[torch.arange(len(x)), (lengths - 1).clamp(min=1)][None]"
    source = edited(source, body, f"        out, _ = self.lstm(x)\n        h_n = {last}\n")
    message = failed_message(grade_source("06_variable_length", source), "test_sorted_lengths")
    assert "matches the reference on 3 of 4 rows of dimension 0 (rows 0, 1, 2)" in message, message
    assert "wrong for the shorter ones" not in message, message


def test_a_forecast_that_fed_the_right_windows_and_returned_them_reversed_is_told_so(
    grade_source, module
):
    """The windows are the reference's, so nothing is said about them; the values are the
    right ones in reverse order."""
    returned = "return torch.cat(predictions)"
    source = edited(solution(module, "04_forecasting"), returned, returned + ".flip(0)")
    message = failed_message(grade_source("04_forecasting", source), "test_forecast_feeds_back")
    assert "though the windows it fed look right" in message, message
    assert "Your forecast equals the reference's reversed along dimension 0" in message, message
