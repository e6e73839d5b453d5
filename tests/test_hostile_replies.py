"""Hostile replies: attacks on the trust boundary, each graded through the real runner: frames
that learner code writes on the grader's channel, exceptions and values that the learner's code
shapes so that the reply cannot be sent or grows without bound, and sources that the checker's
own reading of the file (grader.analysis) cannot parse."""

from __future__ import annotations

import re
import textwrap

import pytest

from grader.analysis import torch_uses
from grader.confined import channel
from grader.results import PASSED
from grader.zygote import MAX_REPLY_TEXT_TOTAL, malformed
from tests.helpers import (
    EX1,
    FAST,
    assert_nothing_left,
    bounded,
    failed_messages,
    no_internal_error,
    solution,
)

# Learner code that writes a frame of its own on the runner's channel socket (fd 3).
FORGE = textwrap.dedent(
    """
    import os, socket
    from grader.confined import channel

    def forge(message):
        for fd in map(int, os.listdir("/proc/self/fd")):
            try:
                sock = socket.socket(fileno=fd)
            except OSError:
                continue
            try:
                if sock.type == socket.SOCK_STREAM:
                    channel.send(sock, message)
            except OSError:
                pass
            finally:
                sock.detach()
    """
)


@pytest.fixture
def graded(grade_source, zygote):
    def run(source: str, **limits):
        result = grade_source(EX1, source, **{**FAST, **limits})
        assert result.score < result.max_score
        assert_nothing_left(zygote)
        no_internal_error(result)
        bounded(result)
        return result

    return run


@pytest.mark.parametrize(
    "forged",
    [
        '{"error": "forged"}',  # not an exception's description: crashed the checker
        '{"ok": True}',  # no names: crashed the checker
        '{"grader_error": "\\x1b]0;pwned\\x07 boom"}',  # made the grader blame itself
        '{"error": {"type": 5, "message": ["x"], "line": "a", "code": 3}}',  # wrong types
        '{"error": {"type": "X", "message": "M" * (4 << 20)}}',  # megabytes of text
        '{"ok": True, "names": ["LSTMNetwork"]}',  # a second reply: later answers shifted
    ],
)
def test_a_frame_forged_at_import_is_no_reply(graded, module, forged):
    source = FORGE + f"\nforge({forged})\n" + solution(module, EX1)
    result = graded(source)
    assert "answers no request" in failed_messages(result)


def test_a_frame_forged_during_a_call_is_no_reply(graded, module):
    """Written from forward, before the probe's own reply: the checker must not take it for
    the reply, nor read the real one as the answer to its next request."""
    trick = "\n    forge({'ok': True, 'names': ['x']})\n    return _forward(self, x)\n"
    source = (
        FORGE
        + solution(module, EX1)
        + "\n_forward = LSTMNetwork.forward\n\ndef forward(self, x):"
        + trick
        + "\nLSTMNetwork.forward = forward\n"
    )
    result = graded(source)
    assert "answers no request" in failed_messages(result)


def test_a_frame_left_on_the_channel_after_a_reply_is_caught(graded, module):
    """A thread writes once the probe has replied: the next request sees it waiting."""
    at_import = textwrap.dedent(
        """
        import threading, time

        def later():
            time.sleep(0.5)
            forge({"id": 1, "reply": {"ok": True}})

        threading.Thread(target=later, daemon=True).start()
        time.sleep(0.1)
        """
    )
    source = FORGE + at_import + solution(module, EX1)
    slow = "\n_forward = LSTMNetwork.forward\n\ndef forward(self, x):\n"
    slow += "    time.sleep(1.0)\n    return _forward(self, x)\n\nLSTMNetwork.forward = forward\n"
    result = graded(source + slow)
    assert "answers no request" in failed_messages(result)


def test_an_int_too_large_for_the_channel_is_the_learners_wrong_type(graded, module):
    source = solution(module, EX1) + "\nLSTMNetwork.forward = lambda self, x: 2**100\n"
    result = graded(source)
    assert "an int larger than 64 bits" in failed_messages(result)


def test_settings_the_learner_changed_to_odd_values_are_described(graded, module):
    """nn.LSTM's sizes are plain attributes: an int past 64 bits or an object there was a
    reply the runner could not encode, reported as the grader's own failure."""
    patch = textwrap.dedent(
        """
        _init = LSTMNetwork.__init__

        def __init__(self, *sizes):
            _init(self, *sizes)
            self.lstm.input_size = 2**100
            self.fc.out_features = object()

        LSTMNetwork.__init__ = __init__
        """
    )
    result = graded(solution(module, EX1) + patch)
    assert "input_size" in failed_messages(result)


@pytest.mark.parametrize(
    "raised",
    [
        'SyntaxError("bad", (__file__, 10**30, 1, "t"))',  # a line past 64 bits
        'SyntaxError("m" * (8 << 20), (__file__, 3, 1, "t"))',  # an uncut message
        'type("E" * 100_000, (Exception,), {})("x")',  # a type name of 100,000 characters
        'SyntaxError(12345, (__file__, "three", object(), 7))',  # fields of the wrong types
    ],
)
def test_an_exception_the_learner_shaped_is_described_briefly(graded, module, raised):
    result = graded(solution(module, EX1) + f"\nraise {raised}\n")
    (imports,) = [c for c in result.checks if "imports" in c.title]
    assert imports.state != PASSED
    assert len(imports.message) < 5000


def test_a_huge_load_reply_is_refused_by_the_checker():
    """Whatever a runner sends, a reply with megabytes of text or a malformed error is never
    read (the checker side of the test above, without a runner)."""
    assert malformed({"error": {"type": "X", "message": "m" * 10_000}})
    assert malformed({"names": ["x" * 1000] * (MAX_REPLY_TEXT_TOTAL // 1000 + 1)})
    assert malformed({"error": {"type": "X", "message": "m", "line": True}})
    assert malformed(["not", "a", "dict"])
    assert not malformed({"ok": True, "names": ["LSTMNetwork"]})
    assert not malformed({"error": {"type": "X", "message": "m", "line": 3, "code": "c"}})
    assert channel.decode(channel.encode({"id": 1, "reply": {}})) == {"id": 1, "reply": {}}


@pytest.mark.parametrize(
    "source",
    [
        "x = 1\0",  # a null byte
        "x = " + "a." * 200_000 + "b",  # nesting deeper than the parser takes
        "x = " + "-" * 200_000 + "1",  # a chain that exhausts the parser's memory
        "x = (" * 300 + ")" * 300,  # too many parentheses
        "\ufeffimport torch\r\nx = torch.nn.LSTMCell\r\n",  # a BOM and CRLF: still read
    ],
)
def test_the_checkers_reading_of_the_source_never_fails(source):
    uses = torch_uses(source, {"LSTMCell"})
    assert uses == [] or uses[0].what == "torch.nn.LSTMCell"


FILL = textwrap.dedent(
    """
    import errno

    def fill(place):
        written = 0
        try:
            with open(place + "/fill", "wb") as f:
                for _ in range(48):
                    f.write(bytes(1 << 20))
                    f.flush()
                    written += 1
        except OSError as exc:
            return f"{place}: {written} MiB, then {errno.errorcode[exc.errno]}"
        return f"{place}: {written} MiB"

    raise RuntimeError("; ".join(fill(p) for p in ("/var/tmp", "/dev/shm", "/tmp")))
    """
)


@pytest.mark.needs_sandbox("the allowlist filesystem view (its small private tmpfs mounts)")
def test_the_writable_places_hold_little_host_memory(grade_source):
    """Each private tmpfs is host memory that no rlimit counts: /tmp gets the working room
    (128 MiB), /var/tmp and /dev/shm an eighth of it each."""
    result = grade_source(EX1, FILL, **FAST)
    said = failed_messages(result)
    assert re.search(r"/var/tmp: 1[56] MiB, then ENOSPC; /dev/shm: 1[56] MiB, then ENOSPC", said)
    assert "/tmp: 48 MiB" in said  # the working room is still there
