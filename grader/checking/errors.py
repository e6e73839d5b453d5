"""What an exception from the learner's code means, in plain words: the message a check shows
is the learner's line, the exception's first line, and one of these explanations (or the
check's own, more specific one). The module being graded may explain an error in its own words
first (courseware.meanings: its grader/checks/meanings.py); these know no module."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from contextvars import ContextVar

MAX_MESSAGE = 200  # characters of the exception's own message shown; -v shows all of it

# The graded module's own meanings, tried first; per thread of grading (a context variable).
_declared: ContextVar[tuple[tuple[str, str], ...]] = ContextVar("declared", default=())


@contextlib.contextmanager
def declared(meanings: Sequence[tuple[str, str]]) -> Iterator[None]:
    """While grading one module: its own (pattern, explanation) pairs are tried before the
    generic MEANINGS, and forgotten afterwards (the next module may have none)."""
    token = _declared.set(tuple(meanings))
    try:
        yield
    finally:
        _declared.reset(token)


def explain(error: dict, filename: str = "") -> str:
    """A plain explanation of a learner's exception (`error` as the runner describes it; the
    learner's `filename` tells its own lines from a library's)."""
    text = error.get("message", "")
    for pattern, explanation in (*_declared.get(), *MEANINGS):
        if found := re.search(pattern, text):
            return explanation.format(*found.groups())
    kind = error.get("type", "an error")
    if filename and in_library(error, filename):
        return IN_LIBRARY.format(kind=kind)
    return BY_TYPE.get(error.get("type", ""), UNKNOWN).format(kind=kind)


def in_library(error: dict, filename: str) -> bool:
    """The exception came from inside a library function that the learner's line called
    (a torch layer, say), not from an operation written on that line: the traceback's last
    frame is not in the learner's file."""
    frames = re.findall(r'File "([^"]*)", line \d+, in ', error.get("traceback", ""))
    return bool(error.get("line")) and bool(frames) and frames[-1] != filename


def first_line(text: str) -> str:
    """The first line of an exception's message, at most MAX_MESSAGE characters."""
    line = (text or "(no message)").strip().splitlines()[0] if (text or "").strip() else ""
    line = line or "(no message)"
    return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 1] + "…"


# (a pattern of the exception's message, what it means): the first that matches is used.
MEANINGS = [
    (
        r"too many indices for tensor of dimension (\d+)",
        "The tensor indexed on this line has only {0} dimensions, fewer than the index names: "
        "print its .shape just before this line.",
    ),
    (
        r"index (-?\d+) is out of bounds for dimension (\d+) with size (\d+)",
        "Index {0} was used on dimension {1}, which has only {2} entries.",
    ),
    (
        r"Dimension out of range \(expected to be in range of \[-?\d+, (\d+)\], but got (-?\d+)\)",
        "Dimension {1} was named, but the tensor has fewer dimensions (the last is {0}).",
    ),
    (
        r"mat1 and mat2 shapes cannot be multiplied \((\d+)x(\d+) and (\d+)x(\d+)\)",
        "A matrix product (@, or nn.Linear) got ({0}, {1}) and ({2}, {3}): the inner sizes, {1} "
        "and {2}, must be equal. nn.Linear(n, m) needs input whose last dimension is n.",
    ),
    (
        r"size of tensor a \((\d+)\) must match the size of tensor b \((\d+)\) at non-singleton "
        r"dimension (\d+)",
        "An element-wise operation (+, *, ...) got tensors whose shapes do not line up: sizes "
        "{0} and {1} at dimension {2}.",
    ),
    (
        r"(same dtype|expected scalar type \w+ but found|can't be cast to the desired output type|"
        r"dtype \(torch\.\w+\) does not match)",
        "Tensors of two dtypes met in one operation. A tensor made with torch.zeros or "
        "torch.tensor is float32 unless told otherwise: make it with the input's dtype, e.g. "
        "x.new_zeros(...).",
    ),
    (
        r"(dtype|scalar type)",
        "A tensor on this line has a dtype that the operation does not take; the message above "
        "names the one it wanted. Print the .dtype of what the line uses.",
    ),
    (
        r"Expected all tensors to be on the same device",
        "Tensors on two devices (CPU and CUDA) met in one operation: make new tensors on the "
        "input's device, e.g. x.new_zeros(...) or device=x.device.",
    ),
    (
        r"does not require grad and does not have a grad_fn",
        "Autograd was asked for gradients of a result it did not track: nothing it was computed "
        "from requires a gradient, or it was detached (.detach(), .item(), torch.no_grad()).",
    ),
    (
        r"backward through the graph a second time",
        "backward() ran twice through the same graph; autograd frees it after the first time.",
    ),
    (
        r"(in-place operation|modified by an inplace operation)",
        "A tensor that autograd needs was changed in place (+=, *=, .add_(), x[...] = ...): "
        "compute a new tensor instead.",
    ),
    (
        r"'NoneType' object",
        "A value on this line is None: a function that returns nothing, an attribute never set, "
        "or the .grad of a tensor that received no gradient.",
    ),
    (
        r"(cannot unpack non-iterable|too many values to unpack|not enough values to unpack)",
        "The unpacking on this line (a, b = ...) got another number of values than it names: "
        "check what the call on the right returns.",
    ),
    (
        r"name '(\w+)' is not defined",
        "Nothing named {0} exists where this line runs: a typo, a missing import, or an "
        "attribute that needs self.",
    ),
    (
        r"cannot assign module before Module.__init__\(\) call",
        "Layers were assigned before super().__init__() ran: call it first in __init__.",
    ),
    (
        r"module '([\w.]+)' has no attribute '(\w+)'",
        "{0} has nothing named {1}: check the spelling, capitals included, or whether {1} "
        "lives in another module.",
    ),
    (
        r"tuple indices must be integers or slices, not tuple",
        "A tuple was indexed like a tensor ([:, -1] and the like): a call before this line "
        "returned several values together. Unpack them first (a, b = ...) and index the one "
        "you need.",
    ),
    (
        r"'(\w+)' object has no attribute '(\w+)'",
        "A {0} has no attribute {1}: a typo, or it was never set (set it in __init__).",
    ),
    (
        r"(takes \d+ positional arguments? but \d+ (were|was) given|missing \d+ required "
        r"positional argument|got an unexpected keyword argument)",
        "A function was called with arguments that do not fit its definition: compare the call "
        "with the signature in the statement.",
    ),
    (
        r"object is not callable",
        "Something that is not a function or layer was called: a tensor or a number in its place?",
    ),
    (
        r"Expected input batch_size \((\d+)\) to match target batch_size \((\d+)\)",
        "The loss got {0} predictions but {1} targets: they must come in the same number.",
    ),
]
BY_TYPE = {
    "IndexError": "An index on this line went past the end of a sequence or tensor.",
    "KeyError": "A dict was asked for a key it does not hold.",
    "TypeError": "An operation on this line got a kind of value it cannot use.",
    "ValueError": "A function on this line got a value it cannot use; its message says which.",
    "RuntimeError": "torch refused the operation on this line; its message says why.",
    "AttributeError": "An object on this line has no attribute of that name.",
    "NameError": "A name on this line is not defined where it runs.",
    "ZeroDivisionError": "A division by zero: a count or length on this line is 0.",
    "RecursionError": "The function calls itself without end.",
    "AssertionError": "An assert on this line failed: the condition it states was false.",
    "MemoryError": "The code asked for more memory than the grader allows.",
}
UNKNOWN = "Python stopped your code on this line with {kind}."
IN_LIBRARY = (
    "The {kind} came from inside the library call on this line, not from this line's own "
    "operations: something that call was given (an argument, perhaps made on an earlier line, "
    "or the layer itself) is not what it expects. Print the shapes and dtypes it gets."
)
