// The quiz page: checks each answer in the page, with the scoring rules of course/quizbank.py.
"use strict";

const QuizScoring = (() => {
  const NUMBER = /^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/;

  // NFKC, case-folded, single spaces, no surrounding spaces, quotes, backticks or full stops.
  function normalise(text) {
    const folded = text.normalize("NFKC").toUpperCase().toLowerCase();
    return folded.split(/\s+/).filter(Boolean).join(" ").replace(/^[ .'"`]+|[ .'"`]+$/g, "");
  }

  // A finite number written as Python's float() reads it, or null.
  function parseNumber(text) {
    const trimmed = text.trim();
    if (!NUMBER.test(trimmed)) return null;
    const value = Number(trimmed.replace(/_/g, ""));
    return Number.isFinite(value) ? value : null;
  }

  function close(value, target, absTol, relTol) {
    return Math.abs(value - target) <= Math.max(absTol, relTol * Math.abs(target));
  }

  const RULES = {
    "all-or-nothing": (picked, right) =>
      picked.size === right.size && [...right].every((i) => picked.has(i)) ? 1 : 0,
    "right-minus-wrong": (picked, right) => {
      const hits = [...picked].filter((i) => right.has(i)).length;
      return Math.max(0, (hits - (picked.size - hits)) / right.size);
    },
    "per-choice": (picked, right, n) => {
      let agree = 0;
      for (let i = 0; i < n; i += 1) agree += picked.has(i) === right.has(i) ? 1 : 0;
      return agree / n;
    },
  };

  // {credit: 0..1, feedback: [html]} for a response: an index, an array of indices, a number
  // or a string, by question type.
  function score(q, response) {
    if (q.type === "single") {
      const note = q.feedback[response];
      return { credit: q.correct.includes(response) ? 1 : 0, feedback: note ? [note] : [] };
    }
    if (q.type === "multiple") {
      const picked = new Set(response);
      const credit = RULES[q.rule](picked, new Set(q.correct), q.feedback.length);
      const sorted = [...picked].sort((a, b) => a - b);
      return { credit, feedback: sorted.map((i) => q.feedback[i]).filter(Boolean) };
    }
    if (q.type === "numeric") {
      const near = (target) => close(response, target, q.abs_tol, q.rel_tol);
      if (near(q.answer)) return { credit: 1, feedback: [] };
      return { credit: 0, feedback: q.mistakes.filter((m) => near(m.answer)).map((m) => m.feedback) };
    }
    const given = normalise(response);
    if (q.accepted.includes(given)) return { credit: 1, feedback: [] };
    return { credit: 0, feedback: q.mistakes.filter((m) => m.answer === given).map((m) => m.feedback) };
  }

  return { normalise, parseNumber, score };
})();
window.QuizScoring = QuizScoring;

// The learner's response to one question, or a message saying what is missing.
function readResponse(form, q) {
  const inputs = [...form.querySelectorAll(`input[name="${q.id}"]`)];
  if (q.type === "single" || q.type === "multiple") {
    const picked = inputs.filter((input) => input.checked).map((input) => Number(input.value));
    if (picked.length === 0) {
      return { message: q.type === "single" ? "Choose an answer first." : "Choose at least one answer first." };
    }
    return { value: q.type === "single" ? picked[0] : picked };
  }
  const text = inputs[0].value;
  if (!text.trim()) return { message: "Type your answer first." };
  if (q.type === "numeric") {
    const value = QuizScoring.parseNumber(text);
    return value === null ? { message: "Type a number, such as 2560 or 0.12." } : { value };
  }
  return { value: text.trim() };
}

function points(value) {
  return Number.isInteger(value) ? String(value) : value.toFixed(2).replace(/0+$/, "");
}

function verdict(credit) {
  if (credit === 1) return { cls: "is-right", text: "✓ Right: 1 of 1 point." };
  if (credit === 0) return { cls: "is-wrong", text: "✗ Not right: 0 of 1 point." };
  return { cls: "is-partial", text: `◐ Partly right: ${points(credit)} of 1 point.` };
}

function element(tag, className, html) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (html !== undefined) node.innerHTML = html;
  return node;
}

// Mark each picked choice right or wrong, in words as well as colour.
function markChoices(form, q, response) {
  const picked = new Set(q.type === "single" ? [response] : response);
  q.feedback.forEach((_, i) => {
    const note = form.querySelector(`#note-${q.id}-${i}`);
    note.className = "choice-note";
    note.textContent = "";
    if (!picked.has(i)) return;
    const right = q.correct.includes(i);
    note.classList.add(right ? "is-right" : "is-wrong");
    note.textContent = right ? "✓ You picked this: it is right." : "✗ You picked this: it is wrong.";
  });
}

function showResult(form, q, response, result) {
  const box = form.querySelector(".feedback");
  const { cls, text } = verdict(result.credit);
  box.className = `feedback ${cls}`;
  box.replaceChildren(element("p", "verdict", ""));
  box.firstChild.textContent = text;
  for (const html of result.feedback) box.append(element("p", "", html));
  if (result.credit < 1 && q.shown !== undefined) {
    const expected = element("p", "", "The expected answer: <code></code>.");
    expected.querySelector("code").textContent = q.shown;
    box.append(expected);
  }
  box.append(element("div", "explanation", `<p><strong>Why:</strong></p>${q.explanation}`));
  if (q.type === "single" || q.type === "multiple") markChoices(form, q, response);
  form.querySelector(".retry").hidden = false;
}

function clearQuestion(form) {
  for (const input of form.querySelectorAll("input")) {
    if (input.type === "text") input.value = "";
    else input.checked = false;
  }
  for (const note of form.querySelectorAll(".choice-note")) {
    note.className = "choice-note";
    note.textContent = "";
  }
  const box = form.querySelector(".feedback");
  box.className = "feedback";
  box.replaceChildren();
  form.querySelector(".retry").hidden = true;
}

// The same order rules as the terminal quiz (courseware/quizbank.py, `arrange`), drawn anew at
// each page load: questions shuffled, a group's questions kept together and in order, choices
// shuffled but those marked fixed left in their place. The page is built in the bank's order, so
// without JavaScript, or with `shuffle: false`, it is the bank as written.
const QuizOrder = (() => {
  // A random permutation of `items` (Fisher-Yates); `random` returns a number in [0, 1).
  function shuffled(items, random) {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i -= 1) {
      const j = Math.floor(random() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }

  // The questions as units asked whole: a group at the place of its first question.
  function blocks(questions) {
    const units = [];
    const groups = new Map();
    for (const q of questions) {
      if (!q.group) units.push([q]);
      else if (groups.has(q.group)) groups.get(q.group).push(q);
      else {
        groups.set(q.group, [q]);
        units.push(groups.get(q.group));
      }
    }
    return units;
  }

  // For a question of n choices: order[k] is the index of the choice shown k-th.
  function choiceOrder(n, fixed, random) {
    const movable = [...Array(n).keys()].filter((i) => !fixed.includes(i));
    const moved = shuffled(movable, random);
    return [...Array(n).keys()].map((i) => (fixed.includes(i) ? i : moved.shift()));
  }

  function questionOrder(questions, random) {
    return shuffled(blocks(questions), random).flat();
  }

  return { choiceOrder, questionOrder };
})();
window.QuizOrder = QuizOrder;

// Put the forms, and each question's choices, in a new random order, and number them again.
function shuffleQuiz(quiz, data, random) {
  const end = document.getElementById("quiz-score");
  QuizOrder.questionOrder(data.questions, random).forEach((q, k) => {
    const form = document.getElementById(`question-${q.id}`);
    quiz.insertBefore(form, end);
    form.querySelector(".question-number").textContent = String(k + 1);
    if (q.feedback === undefined) return;
    const list = form.querySelector(".choices");
    const items = [...list.children];
    for (const i of QuizOrder.choiceOrder(items.length, q.fixed, random)) list.append(items[i]);
  });
}

function setUpQuiz() {
  const quiz = document.getElementById("quiz");
  const data = JSON.parse(document.getElementById("quiz-data").textContent);
  if (data.shuffle) shuffleQuiz(quiz, data, Math.random);
  const credits = new Map();
  const scoreLine = document.getElementById("quiz-score");
  const total = data.questions.length;

  function updateScore() {
    const sum = [...credits.values()].reduce((a, b) => a + b, 0);
    const checked = credits.size ? `${credits.size} of ${total} questions checked.` : "No question checked yet.";
    scoreLine.textContent = `Score: ${points(sum)} of ${total} points. ${checked}`;
  }

  for (const q of data.questions) {
    const form = document.getElementById(`question-${q.id}`);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const response = readResponse(form, q);
      if (response.message !== undefined) {
        const box = form.querySelector(".feedback");
        box.className = "feedback";
        box.replaceChildren(element("p", "verdict", ""));
        box.firstChild.textContent = response.message;
        return;
      }
      const result = QuizScoring.score(q, response.value);
      credits.set(q.id, result.credit);
      showResult(form, q, response.value, result);
      updateScore();
    });
    form.querySelector(".retry").addEventListener("click", () => {
      clearQuestion(form);
      credits.delete(q.id);
      updateScore();
      form.querySelector("input").focus();
    });
  }
  document.getElementById("quiz-reset").addEventListener("click", () => {
    for (const form of quiz.querySelectorAll("form.question")) clearQuestion(form);
    credits.clear();
    updateScore();
    quiz.querySelector("input").focus();
  });
}

document.addEventListener("DOMContentLoaded", setUpQuiz);
