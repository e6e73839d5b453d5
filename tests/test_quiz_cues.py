"""Quiz banks that give their answers away, as `course validate` reports them: the right choice
the longest (or shortest), the same letter right too often, a question that leans on another,
a choice that names others by their place; and groups and fixed choices, which let an author
keep what must stay together or in place."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from course.cli import main
from courseware.quizbank import LETTERS, QuizBank, arrange, load_bank
from courseware.quizcues import Cue, cue_problems, length_cue, position_cue
from tests.helpers import make_course

REPO = Path(__file__).resolve().parents[1]
LABEL = "quizzes/bank.yaml"
EVEN = ["Dimension 0 is time", "Dimension 1 is time", "Dimension 2 is time", "Dimension 3 is time"]


def single(n: int, answer: str, choices: list[str], prompt: str = "", extra: str = "") -> str:
    """Question `q{n}` of one bank, single choice."""
    listed = "".join(
        f"      - text: {text}\n" + ("" if LETTERS[i] == answer else "        feedback: No.\n")
        for i, text in enumerate(choices)
    )
    return (
        f"  - id: q{n}\n    type: single\n    objective: shapes\n"
        f"    prompt: {prompt or f'Question {n}?'}\n{extra}    choices:\n{listed}"
        f"    answer: {answer}\n    explanation: Because.\n"
    )


def bank(*questions: str) -> str:
    return "id: cues\ntitle: Cues\nquestions:\n" + "".join(questions)


def load(tmp_path: Path, text: str) -> tuple[QuizBank | None, list[str]]:
    path = tmp_path / "bank.yaml"
    path.write_text(text, encoding="utf-8")
    problems: list = []
    loaded = load_bank(path, LABEL, problems, {"shapes"})
    return loaded, [str(p) for p in sorted(problems)]


def cues(tmp_path: Path, text: str) -> list[str]:
    loaded, problems = load(tmp_path, text)
    assert problems == [], problems
    return [str(p) for p in cue_problems(loaded)]


def rotate(n: int) -> str:
    """Answers a, b, c, d, a, ...: no letter more often than chance."""
    return LETTERS[n % 4]


def line_of(text: str, question: str) -> int:
    """The line where question `question` starts in a bank's text."""
    return text.splitlines().index(f"  - id: {question}") + 1


LONG = "The one choice that goes on and on, much longer than any of the others"


# --- the rule ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hits", "total", "chance", "gives_away"),
    [
        (6, 17, 17 / 4, True),  # more than a third of 4-choice questions
        (5, 17, 17 / 4, False),  # a third at most
        (2, 2, 0.5, False),  # two questions are no pattern
        (3, 3, 0.75, True),
        (4, 6, 3.0, False),  # 2-choice questions: (a) right half the time by chance
        (5, 6, 3.0, True),
    ],
)
def test_a_cue_must_beat_a_third_and_chance(hits, total, chance, gives_away):
    cue = Cue(tuple(range(hits)), total, chance)  # type: ignore[arg-type]
    assert cue.gives_away is gives_away


def test_the_module_bank_passes(module):
    (lstm,) = module.quizzes
    assert cue_problems(lstm) == []
    singles = [q for q in lstm.questions if q.type == "single"]
    assert len(length_cue(singles).hits) == 0 and len(length_cue(singles, "shortest").hits) == 0
    for letter in "abcd":
        assert len(position_cue(singles, letter).hits) <= len(singles) / 3


# --- each cue, with its line --------------------------------------------------------------------


def test_the_right_choice_the_longest(tmp_path):
    long_right = [single(i, "abc"[i], [*EVEN[:i], LONG, *EVEN[i + 1 :]]) for i in range(3)]
    text = bank(*long_right, *(single(i, "dab"[i - 3], EVEN) for i in range(3, 6)))
    found = cues(tmp_path, text)
    where = [f"{LABEL}:{line_of(text, f'q{i}')}: q{i}: " for i in range(3)]
    assert [p[: len(w)] for p, w in zip(found, where, strict=False)] == where
    assert "the right choice is 3.7x as long as any wrong one, as in 3 of 6" in found[0]
    assert "picking the longest passes (at most 2 may be so" in found[0]
    assert len(found) == 3


def test_the_right_choice_the_shortest(tmp_path):
    wrong = [LONG, LONG + " too", LONG + "!"]
    short_right = [single(i, "abc"[i], [*wrong[:i], "Nope", *wrong[i:]]) for i in range(3)]
    others = [single(i, "dab"[i - 3], EVEN) for i in range(3, 6)]
    found = cues(tmp_path, bank(*short_right, *others))
    assert len(found) == 3 and all("picking the shortest passes" in p for p in found)


def test_the_longest_right_in_a_third_or_fewer_is_no_cue(tmp_path):
    def bank_with(longer: int) -> str:
        """8 questions; in the first `longer`, the right one is 1.2x as long as the others."""
        made = []
        for i in range(8):
            choices = list(EVEN)
            if i < longer:
                choices[i % 4] = EVEN[i % 4] + " too"  # 23 characters against 19
            made.append(single(i, rotate(i), choices))
        return bank(*made)

    assert cues(tmp_path, bank_with(2)) == []
    assert len(cues(tmp_path, bank_with(3))) == 3


def test_the_same_letter_right_too_often(tmp_path):
    text = bank(*(single(i, letter, EVEN) for i, letter in enumerate("aaaabcdba")))
    (found,) = cues(tmp_path, text)
    assert found.startswith(f"{LABEL}:4: q0: the right choice is (a) in 5 of 9 single-choice")
    lines = ", ".join(str(line_of(text, f"q{i}")) for i in (0, 1, 2, 3, 8))
    assert f"(lines {lines})" in found and "at most 3 may be" in found


def test_the_same_letter_in_two_choice_questions_is_judged_against_chance(tmp_path):
    two = EVEN[:2]
    half = [single(i, "a" if i < 4 else "b", two) for i in range(8)]  # chance: 4 of 8
    assert cues(tmp_path, bank(*half)) == []
    most = [single(i, "a" if i < 7 else "b", two) for i in range(8)]
    assert any("is (a) in 7 of 8" in p for p in cues(tmp_path, bank(*most)))


def test_a_small_bank_is_no_pattern(tmp_path):
    assert cues(tmp_path, bank(single(0, "d", [*EVEN[:3], LONG]), single(1, "d", EVEN))) == []


# --- questions that lean on others, and groups ---------------------------------------------------


LEANING = ["The same padded x, packed?", "This tensor's shape?", "As above, with two layers?",
           "Compared with the previous question, what changes?"]  # fmt: skip


@pytest.mark.parametrize("prompt", LEANING)
def test_a_question_that_leans_on_another(tmp_path, prompt):
    text = bank(single(0, "a", EVEN), single(1, "b", EVEN, prompt=prompt))
    (found,) = cues(tmp_path, text)
    assert found.startswith(f"{LABEL}:{line_of(text, 'q1')}: q1: the prompt says")
    assert "put it after that question in one `group:`" in found


def test_a_group_keeps_a_leaning_question_after_the_one_it_needs(tmp_path):
    group = "    group: padded\n"
    text = bank(
        single(0, "a", EVEN, extra=group),
        single(1, "b", EVEN, prompt=LEANING[0], extra=group),
        single(2, "c", EVEN),
    )
    assert cues(tmp_path, text) == []
    lean = single(0, "a", EVEN, prompt=LEANING[0], extra=group)
    (found,) = cues(tmp_path, bank(lean, single(1, "b", EVEN, extra=group)))
    assert found.startswith(f"{LABEL}:4: q0: the prompt says")  # nothing before a group's first


def test_groups_are_asked_whole_and_in_order(tmp_path):
    group = "    group: pair\n"
    questions = [single(i, rotate(i), EVEN, extra=group if i in (3, 4) else "") for i in range(8)]
    loaded, problems = load(tmp_path, bank(*questions))
    assert problems == []
    for seed in range(30):
        ids = [item.question.id for item in arrange(loaded, shuffle=True, seed=seed)]
        assert ids.index("q4") == ids.index("q3") + 1
        drawn = [item.question.id for item in arrange(loaded, shuffle=True, seed=seed, count=3)]
        assert len(drawn) == 3 and ("q3" in drawn) == ("q4" in drawn)
        if "q3" in drawn:
            assert drawn.index("q4") == drawn.index("q3") + 1
    in_order = [item.question.id for item in arrange(loaded, shuffle=False, seed=None, count=4)]
    assert in_order == ["q0", "q1", "q2", "q5"]  # the pair does not fit in what is left
    pair, _ = load(tmp_path, bank(*(single(i, "a", EVEN, extra=group) for i in range(2))))
    assert len(arrange(pair, shuffle=True, seed=1, count=1)) == 2  # never split, never empty


def test_a_group_of_one_or_apart_is_a_content_error(tmp_path):
    alone = bank(single(0, "a", EVEN, extra="    group: solo\n"), single(1, "b", EVEN))
    line = alone.splitlines().index("    group: solo") + 1
    assert load(tmp_path, alone)[1] == [
        f"{LABEL}:{line}: group 'solo' has only this question: a group keeps questions "
        "together; add the one it builds on to the group, or remove `group:`"
    ]
    apart = bank(
        single(0, "a", EVEN, extra="    group: pair\n"),
        single(1, "b", EVEN),
        single(2, "c", EVEN, extra="    group: pair\n"),
    )
    (problem,) = load(tmp_path, apart)[1]
    line = line_of(apart, "q2") + 4  # its `group:` line
    assert problem.startswith(f"{LABEL}:{line}: this question of group 'pair' is not right after")
    assert f"the group's question on line {line_of(apart, 'q0')}" in problem


# --- choices that name other choices -------------------------------------------------------------


def test_a_choice_that_names_others_must_stay_in_place(tmp_path):
    choices = ["Dimension 0", "Dimension 1", "Dimension 2", "None of the above"]
    (found,) = cues(tmp_path, bank(single(0, "d", choices)))
    assert 'q0: choice d says "of the above", which shuffling makes false' in found
    last = "      - text: None of the above\n"
    fixed = bank(single(0, "d", choices).replace(last, last + "        fixed: true\n"))
    assert cues(tmp_path, fixed) == []
    loaded, _ = load(tmp_path, fixed)
    orders = {arrange(loaded, shuffle=True, seed=seed)[0].order for seed in range(20)}
    assert len(orders) > 1 and all(order[3] == 3 for order in orders)


# --- through the command -------------------------------------------------------------------------


def test_course_validate_reports_every_cue_with_its_line(tmp_path, monkeypatch):
    questions = [single(i, letter, EVEN) for i, letter in enumerate("daaa")]
    questions.append(single(9, "b", EVEN, prompt=LEANING[1]))
    text = bank(*questions).replace("id: cues\ntitle: Cues", "id: tiny\ntitle: Tiny")
    root = make_course(tmp_path / "course", text)
    monkeypatch.setenv("COURSE_ROOT", str(root))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Error: the course content has 2 problems:"
    first = f"quizzes/tiny.yaml:{line_of(text, 'q1')}: q1: the right choice is (a) in 3 of 5"
    assert lines[1].startswith(first)
    assert lines[2].startswith(f"quizzes/tiny.yaml:{line_of(text, 'q9')}: q9: the prompt says")
    assert lines[-1] == "Fix them, then run `course validate` to check again."
