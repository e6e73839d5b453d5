"""The grader against the module itself: solutions pass, starters are not attempted and score
zero when graded anyway, every corpus mistake is caught by its check with a message naming the
cause, and every correct-but-unusual solution scores full marks."""

from __future__ import annotations

from dataclasses import replace

import pytest

from courseware.content import load_module
from grader.grade import GradeOptions, grade
from grader.results import NOT_ATTEMPTED, PASSED
from grader.verify import CorpusCase, check_case, corpus, read_case
from tests.helpers import REPO


def _cases():
    return corpus(load_module(REPO))


def test_solutions_score_full_marks(module, zygote):
    report = grade(module, REPO / "solutions", zygote=zygote)
    assert [e.id for e in report.exercises] == [e.id for e in module.exercises]
    for ex in report.exercises:
        assert ex.complete, [(c.title, c.message) for c in ex.checks if not c.passed]
    assert report.all_passed and report.score == report.max_score


def test_starters_are_not_attempted(module, zygote):
    report = grade(module, REPO / "exercises", zygote=zygote)
    for ex in report.exercises:
        assert ex.state == NOT_ATTEMPTED and ex.score == 0
        assert "still the starter" in ex.message and ex.checks == []


def test_starters_graded_anyway_score_zero(module, zygote):
    options = GradeOptions(treat_starters_as_attempts=True)
    report = grade(module, REPO / "exercises", options, zygote=zygote)
    for ex in report.exercises:
        assert ex.score == 0
        assert any("NotImplementedError" in c.message for c in ex.checks), ex.checks


def test_corpus_has_every_listed_mistake():
    names = {case.path.parent.name for case in _cases()}
    required = {
        "seed_network", "first_step", "mean_pooling", "bottom_layer", "random_states",
        "one_layer", "sigmoid_head", "no_head", "no_unbatched", "no_zero_grad",
        "step_before_backward", "zero_grad_between", "returns_tensor", "new_optimizer",
        "loss_after_step", "swapped_arguments",
        "time_major_transposed", "h_n_top_layer", "other_names_head_first",
        "unbatched_by_lstm", "model_zero_grad",
        "gate_order_swapped", "activations_swapped", "h_without_tanh", "cell_from_h",
        "missing_bias_hh", "state_required", "state_random", "uses_nn_lstm_cell",
        "hidden_fused_call", "four_gate_matmuls", "one_concatenated_matmul",
        "windows_off_by_one", "targets_inside_window", "fed_true_values", "no_training",
        "no_backward", "minibatches_sgd_unfold", "lstm_cell_adamw_loop", "output_not_unpacked",
        "first_step_output", "all_steps_summed", "norm_over_time", "no_requires_grad",
        "dirty_gradients", "h_n_vector_norm", "backward_restores_grads",
        "padded_last_step", "sorted_lengths_required", "mean_counts_padding", "lengths_on_gpu",
        "gather_last_step", "loop_per_sequence", "time_major_packed",
        "last_sequence_batch_first", "unbatched_index", "detached_head_weight",
        "zero_grad_after_step", "weights_not_transposed", "weight_times_x", "returns_list",
        # claims that must not be made (issue 17): each case's `# must not say:`
        "head_on_c_n", "first_sequence", "transposed_states_from_time", "float32_head_input",
        "cross_entropy_float_targets", "own_adam", "loss_divided_by_batch",
        "float32_input_cast", "windows_skip_first", "no_optimizer_step", "sum_over_time",
        "absolute_gradient", "packed_time_first", "index_every_row_at_lengths",
    }  # fmt: skip
    assert required <= names, required - names


@pytest.mark.parametrize("case", _cases(), ids=lambda c: f"{c.exercise}/{c.path.parent.name}")
def test_corpus_case(module, zygote, case):
    finding = check_case(module, case, zygote)
    if finding.skipped:
        pytest.skip(finding.skipped)
    assert finding.ok, f"{finding.subject} {finding.claim}:\n{finding.detail}"


def _cuda_case(needs: str) -> CorpusCase:
    path = REPO / "tests/corpus/06_variable_length/mistakes/lengths_on_gpu/variable_length.py"
    return CorpusCase(path, "06_variable_length", "lengths on the GPU", "test_x", "CPU", needs)


def test_cuda_only_case_is_skipped_without_cuda(module, monkeypatch):
    monkeypatch.setattr("grader.verify._cuda_available", lambda: False)
    monkeypatch.setattr("grader.verify.grade", lambda *a, **k: pytest.fail("graded anyway"))
    finding = check_case(module, _cuda_case("cuda"), zygote=None)
    assert finding.skipped and "needs CUDA" in finding.skipped and "not checked" in finding.claim
    assert finding.ok  # not a failure; and never claimed as caught
    assert "caught" not in finding.claim


def test_cuda_only_cases_say_so(module):
    needs = {c.path.parent.name: c.needs for c in _cases() if c.exercise == "06_variable_length"}
    assert needs["lengths_on_gpu"] == needs["mask_on_cpu"] == "cuda"
    assert needs["padded_last_step"] is None


def test_unknown_need_fails(module):
    finding = check_case(module, _cuda_case("tpu"), zygote=None)
    assert not finding.ok and not finding.skipped and "cuda" in finding.detail


def test_seed_network_message_teaches_batch_first(module, zygote):
    path = REPO / "tests/corpus/01_lstm_network/mistakes/seed_network/lstm_network.py"
    (ex,) = grade(module, path, zygote=zygote).exercises
    (check,) = [c for c in ex.checks if c.name == "test_batch_output[cpu]"]
    assert check.state == "failed"
    assert "Expected hidden[0] size (2, 7, 20), got [2, 4, 20]" in check.message
    assert "batch_first=True" in check.message and "4 sequences of length 7" in check.message
    assert "Traceback" not in check.message  # the raw traceback only with -v
    assert "Traceback" in check.detail  # ... which is here
    others = [c for c in ex.checks if c.name != "test_batch_output[cpu]" and c.max_score]
    assert {c.state for c in others} <= {PASSED, "blocked"}  # follows from it: no second failure


def _case(name: str, **header) -> CorpusCase:
    path = REPO / f"tests/corpus/01_lstm_network/mistakes/{name}/lstm_network.py"
    return replace(next(c for c in _cases() if c.path == path), **header)


def test_a_message_that_says_what_it_must_not_fails_its_case(module, zygote):
    phrases = ("a phrase no message holds", "x.size(0)")  # the second one is said
    finding = check_case(module, _case("seed_network", must_not_say=phrases), zygote)
    assert not finding.ok and "says 'x.size(0)'" in finding.detail


def test_must_not_say_repeats_in_a_header(tmp_path):
    path = tmp_path / "mistakes" / "case" / "lstm_network.py"
    path.parent.mkdir(parents=True)
    path.write_text(
        "# corpus: two wrong diagnoses\n# catches: test_x\n# says: batch_first\n"
        "# must not say: first\nimport torch\n# must not say:  second \n",
        "utf-8",
    )
    case = read_case(path, "01_lstm_network")
    assert case.must_not_say == ("first", "second") and case.says == "batch_first"
    assert case.catches == "test_x" and case.expects is None


@pytest.mark.parametrize(
    "header, problem",
    [
        ({"expects": "most marks"}, "`# expects:` takes only"),
        ({"expects": "full marks"}, "`# expects:` takes only"),  # with a `# catches:`
        ({"says": None}, "needs a `# says:` line"),
        ({"catches": None}, "has a `# catches:` line"),
    ],
)
def test_a_header_verify_cannot_prove_fails_without_grading(module, monkeypatch, header, problem):
    monkeypatch.setattr("grader.verify.grade", lambda *a, **k: pytest.fail("graded anyway"))
    finding = check_case(module, _case("seed_network", **header), zygote=None)
    assert not finding.ok and problem in finding.detail


def test_a_message_longer_than_the_cap_fails_its_case(module, zygote, monkeypatch):
    monkeypatch.setattr("grader.checking.MESSAGE_CAP", 100)
    finding = check_case(module, _case("first_step"), zygote)
    assert not finding.ok and "longer than 100 characters" in finding.detail
