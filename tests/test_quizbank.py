"""The quiz model: every validation error with its file:line, each question type's scoring
(partial credit included), seeded arranging, and the real bank's coverage of the module."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
import yaml

from courseware.quizbank import (
    Feedback,
    MultipleChoice,
    Numeric,
    QuizBank,
    ShortText,
    SingleChoice,
    arrange,
    load_bank,
    normalise,
)

REPO = Path(__file__).resolve().parents[1]
LABEL = "quizzes/bank.yaml"
OBJECTIVES = {"shapes", "training"}

HEAD = """\
id: tiny
title: A tiny bank
questions:
"""
SINGLE = """\
  - id: pick-b
    type: single
    objective: shapes
    prompt: Pick b.
    choices:
      - text: A
        feedback: Not a.
      - text: B
    answer: b
    explanation: B is right.
"""
ALL_TYPES = (
    HEAD
    + SINGLE
    + """\
  - id: pick-some
    type: multiple
    objective: shapes
    prompt: Pick a and c.
    choices:
      - text: A
      - text: B
        feedback: Not b.
      - text: C
    answer: [a, c]
    partial_credit: right-minus-wrong
    explanation: A and C.
  - id: count
    type: numeric
    objective: training
    prompt: How many?
    answer: 2560
    rel_tol: 0.01
    mistakes:
      - answer: 640
        feedback: One gate only.
    explanation: Four gates.
  - id: name
    type: text
    objective: training
    prompt: Which gate?
    answer: forget gate
    accept: [forget]
    mistakes:
      - answer: input gate
        feedback: That one adds.
    explanation: The forget gate.
"""
)


def load(tmp_path: Path, text: str) -> tuple[QuizBank | None, list[str]]:
    """Load `text` as a bank file; the bank (or None) and its problems as file:line: message."""
    path = tmp_path / "bank.yaml"
    path.write_text(text, encoding="utf-8")
    problems: list = []
    bank = load_bank(path, LABEL, problems, OBJECTIVES)
    return bank, [str(p) for p in sorted(problems)]


def single() -> str:
    """A bank of one single-choice question (lines 4 to 13)."""
    return HEAD + SINGLE


# --- the model -------------------------------------------------------------------------------


def test_a_bank_with_every_question_type_loads(tmp_path):
    bank, problems = load(tmp_path, ALL_TYPES)
    assert problems == []
    assert bank is not None
    assert bank.source == LABEL
    assert [type(q) for q in bank.questions] == [SingleChoice, MultipleChoice, Numeric, ShortText]
    single_q, multiple, numeric, text = bank.questions
    assert single_q.correct() == frozenset({1})
    assert multiple.correct() == frozenset({0, 2})
    assert multiple.partial_credit == "right-minus-wrong"
    assert (numeric.answer, numeric.abs_tol, numeric.rel_tol) == (2560.0, 0.0, 0.01)
    assert text.accepted() == {"forget gate", "forget"}


def test_the_model_describes_itself_for_the_site():
    schema = QuizBank.model_json_schema()
    single_schema = schema["$defs"]["SingleChoice"]["properties"]
    assert "letter of the right choice" in single_schema["answer"]["description"]
    multiple_schema = schema["$defs"]["MultipleChoice"]["properties"]
    assert multiple_schema["partial_credit"]["enum"] == [
        "all-or-nothing",
        "right-minus-wrong",
        "per-choice",
    ]


def test_the_model_is_frozen(tmp_path):
    bank, _ = load(tmp_path, ALL_TYPES)
    with pytest.raises(ValueError, match="frozen"):
        bank.questions[0].answer = "a"


# --- validation: each error with its file and line ------------------------------------------


def bank_with(question: str) -> str:
    return HEAD + textwrap.indent(textwrap.dedent(question), "  ")


def test_unknown_keys_are_reported_with_a_suggestion(tmp_path):
    text = single().replace("    answer: b", "    anwser: b").replace("title:", "titel:")
    _, problems = load(tmp_path, text)
    assert problems == [
        f"{LABEL}:1: missing required key 'title'",
        f"{LABEL}:2: unknown key 'titel'; did you mean 'title'?",
        f"{LABEL}:4: missing required key 'answer'",
        f"{LABEL}:12: unknown key 'anwser'; did you mean 'answer'?",
    ]


def test_a_missing_answer(tmp_path):
    _, problems = load(tmp_path, single().replace("    answer: b\n", ""))
    assert problems == [f"{LABEL}:4: missing required key 'answer'"]


@pytest.mark.parametrize(
    ("answer", "line", "message"),
    [
        ("answer: e", 12, "answer: 'e' is not among the choices a to b"),
        ("answer: B", 12, "answer: 'B' is not among the choices a to b"),
        ("answer: ab", 12, "answer: 'ab' is not among the choices a to b"),
        ("answer: ''", 12, "answer: '' is not among the choices a to b"),
        ("answer: 1", 12, "answer: Input should be a valid string"),
    ],
)
def test_a_single_answer_that_is_not_a_choice(tmp_path, answer, line, message):
    _, problems = load(tmp_path, single().replace("answer: b", answer))
    assert problems == [f"{LABEL}:{line}: {message}"]


def test_a_multiple_answer_that_is_not_a_choice_or_is_repeated(tmp_path):
    question = """\
        - id: some
          type: multiple
          objective: shapes
          prompt: Pick.
          choices: [{text: A}, {text: B}]
          answer: {answer}
          partial_credit: per-choice
          explanation: Because.
        """
    _, bad = load(tmp_path, bank_with(question.replace("{answer}", "[a, c]")))
    assert bad == [f"{LABEL}:9: answer: 'c' is not among the choices a to b"]
    _, twice = load(tmp_path, bank_with(question.replace("{answer}", "[a, a]")))
    assert twice == [f"{LABEL}:9: answer: 'a' is listed twice"]
    _, empty = load(tmp_path, bank_with(question.replace("{answer}", "[]")))
    assert empty == [f"{LABEL}:9: answer: List should have at least 1 item after validation, not 0"]


def test_duplicate_question_ids(tmp_path):
    _, problems = load(tmp_path, HEAD + SINGLE + SINGLE)
    assert problems == [f"{LABEL}:14: duplicate question id 'pick-b' (first used on line 4)"]


def test_empty_choices(tmp_path):
    text = single().replace(
        "    choices:\n      - text: A\n        feedback: Not a.\n      - text: B\n",
        "    choices: []\n",
    )
    _, problems = load(tmp_path, text)
    assert problems == [
        f"{LABEL}:8: choices: List should have at least 2 items after validation, not 0"
    ]


def numeric(extra: str) -> str:
    return bank_with(
        """\
        - id: count
          type: numeric
          objective: parameters
          prompt: How many?
          explanation: Four gates.
        """
    ).replace("parameters", "training") + textwrap.indent(textwrap.dedent(extra), "    ")


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("answer: 2,560", "answer: must be a number, not '2,560'"),
        ("answer: '2560'", "answer: must be a number, not '2560'"),
        ("answer: true", "answer: must be a number, not True"),
        ("answer: .nan", "answer: must be a finite number, not nan"),
    ],
)
def test_a_numeric_answer_that_is_not_a_number(tmp_path, answer, message):
    _, problems = load(tmp_path, numeric(answer))
    assert problems == [f"{LABEL}:9: {message}"]


def test_a_tolerance_below_zero(tmp_path):
    _, problems = load(tmp_path, numeric("answer: 1\nabs_tol: -0.1\nrel_tol: -1\n"))
    assert problems == [
        f"{LABEL}:10: abs_tol: Input should be greater than or equal to 0",
        f"{LABEL}:11: rel_tol: Input should be greater than or equal to 0",
    ]


def test_a_mistake_that_would_be_marked_right(tmp_path):
    text = numeric("answer: 100\nabs_tol: 5\nmistakes:\n  - {answer: 104, feedback: Hm.}\n")
    _, problems = load(tmp_path, text)
    assert problems == [f"{LABEL}:11: mistakes: 104 would be marked right, so it is not a mistake"]


def test_a_text_mistake_that_is_an_accepted_answer(tmp_path):
    question = """\
        - id: name
          type: text
          objective: training
          prompt: Which gate?
          answer: forget gate
          accept: [forget]
          mistakes: [{answer: ' Forget. ', feedback: Hm.}]
          explanation: The forget gate.
        """
    _, problems = load(tmp_path, bank_with(question))
    assert problems == [
        f"{LABEL}:10: mistakes: 'Forget.' would be marked right, so it is not a mistake"
    ]


def test_yaml_syntax_errors(tmp_path):
    _, problems = load(tmp_path, single().replace("prompt: Pick b.", "prompt: [Pick b."))
    assert len(problems) == 1
    assert problems[0].startswith(f"{LABEL}:8: YAML syntax error:")


def test_question_types(tmp_path):
    _, unknown = load(tmp_path, single().replace("type: single", "type: singel"))
    assert unknown == [
        f"{LABEL}:5: type 'singel' is not a question type: use single, multiple, numeric or text"
    ]
    _, missing = load(tmp_path, single().replace("    type: single\n", ""))
    assert missing == [
        f"{LABEL}:4: missing required key 'type': one of single, multiple, numeric or text"
    ]


def test_unknown_objective(tmp_path):
    _, problems = load(tmp_path, single().replace("objective: shapes", "objective: shape"))
    assert problems == [
        f"{LABEL}:6: unknown objective 'shape'; course.yaml declares: shapes, training"
    ]


def test_a_wrong_choice_needs_feedback(tmp_path):
    _, problems = load(tmp_path, single().replace("        feedback: Not a.\n", ""))
    assert problems == [f"{LABEL}:9: choice a is wrong but has no feedback: say why it is wrong"]


def test_a_choice_may_not_appear_twice(tmp_path):
    _, problems = load(tmp_path, single().replace("text: B", "text: A"))
    assert problems == [f"{LABEL}:8: choices: the choice 'A' appears twice"]


def test_partial_credit_rule_is_required_and_named(tmp_path):
    _, problems = load(tmp_path, ALL_TYPES.replace("right-minus-wrong", "half"))
    assert problems == [
        f"{LABEL}:24: partial_credit: Input should be 'all-or-nothing', 'right-minus-wrong' "
        "or 'per-choice'"
    ]
    _, problems = load(tmp_path, ALL_TYPES.replace("    partial_credit: right-minus-wrong\n", ""))
    assert problems == [f"{LABEL}:14: missing required key 'partial_credit'"]


def test_draw_no_larger_than_the_pool(tmp_path):
    _, problems = load(tmp_path, single().replace("title: A tiny bank", "title: T\ndraw: 2"))
    assert problems == [f"{LABEL}:3: draw: 2 questions asked but the bank has 1"]


def test_bank_shapes_that_are_not_mappings_or_lists(tmp_path):
    _, empty = load(tmp_path, HEAD.replace("questions:", "questions: []"))
    assert empty == [
        f"{LABEL}:3: questions: List should have at least 1 item after validation, not 0"
    ]
    _, scalar = load(tmp_path, HEAD + "  - just text\n")
    assert scalar == [f"{LABEL}:4: questions.0: Input should be a valid dictionary"]
    _, nothing = load(tmp_path, "")
    assert nothing == [f"{LABEL}:1: Input should be a valid dictionary or instance of _BankFile"]


def test_every_problem_is_reported_at_once(tmp_path):
    text = (
        ALL_TYPES.replace("answer: b", "answer: z")
        .replace("answer: [a, c]", "answer: [a, q]")
        .replace("answer: 2560", "answer: lots")
        .replace("rel_tol: 0.01", "rel_tol: -0.01")
        .replace("objective: training", "objective: nowhere")
        + "shufle: true\n"
    )
    bank, problems = load(tmp_path, text)
    assert bank is None
    assert problems == [
        f"{LABEL}:12: answer: 'z' is not among the choices a to b",
        f"{LABEL}:23: answer: 'q' is not among the choices a to c",
        f"{LABEL}:30: answer: must be a number, not 'lots'",
        f"{LABEL}:31: rel_tol: Input should be greater than or equal to 0",
        f"{LABEL}:38: unknown objective 'nowhere'; course.yaml declares: shapes, training",
        f"{LABEL}:46: unknown key 'shufle'; did you mean 'shuffle'?",
    ]


# --- scoring ----------------------------------------------------------------------------------


@pytest.fixture
def questions(tmp_path):
    bank, problems = load(tmp_path, ALL_TYPES)
    assert problems == []
    return bank.questions


def test_single_choice_scoring(questions):
    question = questions[0]
    assert question.score(1).credit == 1 and question.score(1).correct
    wrong = question.score(0)
    assert (wrong.credit, wrong.correct) == (0, False)
    assert wrong.feedback == (Feedback("Not a.", 0),)


def multiple(rule: str) -> MultipleChoice:
    choices = [{"text": t, "feedback": f"not {t}"} for t in "ABCDE"]
    return MultipleChoice(
        id="m",
        type="multiple",
        objective="shapes",
        prompt="?",
        explanation="!",
        choices=choices,
        answer=["a", "b", "d"],
        partial_credit=rule,
    )


@pytest.mark.parametrize(
    ("rule", "picked", "credit"),
    [
        ("all-or-nothing", {0, 1, 3}, 1),
        ("all-or-nothing", {0, 1}, 0),
        ("all-or-nothing", {0, 1, 2, 3}, 0),
        ("right-minus-wrong", {0, 1, 3}, 1),
        ("right-minus-wrong", {0, 1}, 2 / 3),
        ("right-minus-wrong", {0, 1, 2}, 1 / 3),
        ("right-minus-wrong", {0, 1, 3, 2}, 2 / 3),
        ("right-minus-wrong", {2, 4}, 0),
        ("right-minus-wrong", set(), 0),
        ("per-choice", {0, 1, 3}, 1),
        ("per-choice", {0, 1}, 4 / 5),
        ("per-choice", set(), 2 / 5),
        ("per-choice", {0, 1, 2, 3, 4}, 3 / 5),
        ("per-choice", {2, 4}, 0),
    ],
)
def test_partial_credit_rules(rule, picked, credit):
    score = multiple(rule).score(frozenset(picked))
    assert score.credit == pytest.approx(credit)
    assert score.correct == (credit == 1)


def test_multiple_choice_feedback_names_each_picked_choice(questions):
    score = questions[1].score(frozenset({0, 1}))
    assert score.credit == 0  # one right, one wrong, under right-minus-wrong
    assert score.feedback == (Feedback("Not b.", 1),)


def test_numeric_scoring_with_relative_tolerance(questions):
    question = questions[2]  # 2560 within 1 %
    assert question.score(2560).correct
    assert question.score(2580).correct
    assert not question.score(2590).correct
    assert question.score(640).feedback == (Feedback("One gate only."),)
    assert question.score(646).feedback == (Feedback("One gate only."),)  # within 1 % of 640
    assert question.score(700).feedback == ()


def test_numeric_scoring_with_absolute_tolerance():
    question = Numeric(
        id="n", type="numeric", objective="shapes", prompt="?", explanation="!", answer=1.0
    )
    assert question.score(1.0).correct and not question.score(1.0001).correct
    loose = question.model_copy(update={"abs_tol": 0.1, "rel_tol": 0.01})
    assert loose.score(1.09).correct and loose.score(0.91).correct
    assert not loose.score(1.11).correct


@pytest.mark.parametrize(
    ("typed", "right"),
    [
        ("forget gate", True),
        ("  The   FORGET gate ", False),
        ("Forget.", True),
        ("`forget`", True),
        ("ｆｏｒｇｅｔ ｇａｔｅ", True),
        ("forgetgate", False),
        ("input gate", False),
    ],
)
def test_short_text_scoring(questions, typed, right):
    assert questions[3].score(typed).correct is right


def test_short_text_mistake_feedback(questions):
    assert questions[3].score(" Input  Gate").feedback == (Feedback("That one adds."),)


def test_normalise():
    assert normalise("  Batch_First = True. ") == "batch_first = true"
    assert normalise('"h_n[-1]"') == "h_n[-1]"


# --- arranging a quiz -------------------------------------------------------------------------


@pytest.fixture
def pool(tmp_path) -> QuizBank:
    many = HEAD + "".join(SINGLE.replace("pick-b", f"q{i}") for i in range(10))
    bank, problems = load(tmp_path, many)
    assert problems == []
    return bank


def test_without_shuffle_the_quiz_is_the_bank_as_written(pool):
    items = arrange(pool, shuffle=False, seed=None, count=3)
    assert [i.question.id for i in items] == ["q0", "q1", "q2"]
    assert all(i.order == (0, 1) for i in items)


def test_shuffling_is_seeded(pool):
    first = arrange(pool, shuffle=True, seed=7)
    assert first == arrange(pool, shuffle=True, seed=7)
    orders = {tuple(i.question.id for i in arrange(pool, shuffle=True, seed=s)) for s in range(5)}
    assert len(orders) > 1
    assert sorted(i.question.id for i in first) == sorted(q.id for q in pool.questions)
    assert {i.order for i in first} == {(0, 1), (1, 0)}


def test_drawing_from_the_pool(pool):
    drawn = arrange(pool.model_copy(update={"draw": 4}), shuffle=True, seed=1)
    assert len(drawn) == len({i.question.id for i in drawn}) == 4
    assert len(arrange(pool, shuffle=True, seed=1, count=6)) == 6
    assert len(arrange(pool, shuffle=False, seed=None)) == 10


def test_shown_letters_follow_the_shuffled_order(pool):
    item = next(i for i in arrange(pool, shuffle=True, seed=3) if i.order == (1, 0))
    assert (item.shown(1), item.shown(0)) == ("a", "b")


# --- the module's own bank --------------------------------------------------------------------


@pytest.fixture(scope="module")
def lstm_bank() -> QuizBank:
    manifest = yaml.safe_load((REPO / "course.yaml").read_text(encoding="utf-8"))
    objectives = {o["id"] for o in manifest["objectives"]}
    problems: list = []
    bank = load_bank(REPO / "quizzes/lstm.yaml", "quizzes/lstm.yaml", problems, objectives)
    assert [str(p) for p in problems] == []
    assert "quizzes/lstm.yaml" in manifest["quizzes"]
    return bank


def test_the_bank_covers_every_objective_with_every_type(lstm_bank):
    manifest = yaml.safe_load((REPO / "course.yaml").read_text(encoding="utf-8"))
    assert len(lstm_bank.questions) >= 15
    assert {q.objective for q in lstm_bank.questions} == {o["id"] for o in manifest["objectives"]}
    assert {q.type for q in lstm_bank.questions} == {"single", "multiple", "numeric", "text"}


def test_the_bank_asks_what_the_issue_lists(lstm_bank):
    ids = {q.id for q in lstm_bank.questions}
    assert {
        "forget-gate-role",  # the seed's first question
        "lstm-mitigates",  # the seed's second question
        "cell-vs-hidden",
        "gate-activations",
        "batch-first-shapes",
        "last-step-readout",
        "lstm-parameters",
        "zero-grad-why",
        "exploding-clipping",
        "dropout-one-layer",
        "batch-first-pitfall",
        "step-order",
    } <= ids
    assert not {"forget-gate-history", "forget-gate-name"} & ids  # trivia, and a giveaway


NEW_MATERIAL = {
    "variable-length": {"padded-last-step", "packed-readout", "enforce-sorted"},
    "long-sequences": {"carry-state-detach", "truncated-reach"},
    "gru": {"gru-parameters", "gru-swap", "gru-gates"},
    "teacher-forcing": {"exposure-bias", "own-predictions", "exposure-remedies"},
    "vanishing-gradients": {"forget-bias-why", "forget-bias-lines"},
}


@pytest.mark.parametrize("objective", sorted(NEW_MATERIAL))
def test_the_bank_asks_about_the_new_material(lstm_bank, objective):
    asked = {q.id: q for q in lstm_bank.questions if q.objective == objective}
    assert NEW_MATERIAL[objective] <= set(asked)
    for question_id in NEW_MATERIAL[objective]:
        question = asked[question_id]
        assert len(question.explanation) > 80, question_id
        if isinstance(question, SingleChoice | MultipleChoice):
            assert len(question.choices) >= 4 and question.unexplained() == [], question_id
        else:
            assert question.mistakes, question_id  # each likely slip has its own feedback


def test_no_text_question_gives_its_answer_away(lstm_bank):
    for question in lstm_bank.questions:
        if isinstance(question, ShortText):
            prompt = normalise(question.prompt)
            answers = [normalise(a) for a in (question.answer, *question.accept)]
            given = [a for a in answers if re.search(rf"\b{re.escape(a)}\b", prompt)]
            assert not given, f"{question.id}: the prompt says {given}"


def right_texts(bank: QuizBank, question_id: str) -> list[str]:
    question = next(q for q in bank.questions if q.id == question_id)
    return [question.choices[i].text for i in sorted(question.correct())]


def test_the_seed_questions_have_the_seed_answers(lstm_bank):
    (forget,) = right_texts(lstm_bank, "forget-gate-role")
    assert "previous cell state" in forget and "erased" in forget
    assert right_texts(lstm_bank, "lstm-mitigates") == ["Vanishing gradients over long sequences."]


def test_every_wrong_choice_in_the_bank_has_feedback(lstm_bank):
    choice_questions = [
        q for q in lstm_bank.questions if isinstance(q, SingleChoice | MultipleChoice)
    ]
    assert choice_questions
    assert all(q.unexplained() == [] for q in choice_questions)
