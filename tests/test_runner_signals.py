"""Signals, descriptors and crashes: attacks on the trust boundary, each graded through the
real runner: learner code that takes the runner's file descriptors away, sets timers and
signal handlers that fire in the runner's own code, interrupts it from a thread, or crashes it
in native code. Each must
end in a message that blames the learner's code, in words, and leave no runner behind."""

from __future__ import annotations

import textwrap

import pytest

from tests.helpers import (
    EX1,
    FAST,
    assert_nothing_left,
    bounded,
    failed_messages,
    no_internal_error,
    solution,
)


@pytest.fixture
def graded(grade_source, zygote):
    def run(source: str, **limits):
        result = grade_source(EX1, source, **{**FAST, **limits})
        assert_nothing_left(zygote)
        no_internal_error(result)
        bounded(result)
        return result

    return run


def _with_forward(module, body: str) -> str:
    """The solution, with `body` run first in every call of forward."""
    marker = "        batched = x.dim() == 3"
    source = solution(module, EX1)
    assert marker in source
    return source.replace(marker, textwrap.indent(textwrap.dedent(body), " " * 8) + marker)


@pytest.mark.parametrize(
    "attack",
    [
        "import os\nos.close(3)\n",  # the channel: the runner said "exited with code 0"
        "import os\nfd = os.open('/dev/null', os.O_RDWR)\nfor t in range(4): os.dup2(fd, t)\n",
    ],
)
def test_taking_the_channel_away_is_named(graded, module, attack):
    result = graded(attack + solution(module, EX1))
    assert result.score == 0
    messages = failed_messages(result)
    assert "lost its channel" in messages and "exited with code" not in messages


def test_a_timer_whose_handler_raises_fires_in_the_learners_code(graded, module):
    """A handler that raises while the runner itself worked (between two requests, sending a
    reply) ended the runner ("exited with code 0"); now it raises inside the learner's call."""
    timer = textwrap.dedent(
        """
        import signal
        def _boom(*_):
            raise RuntimeError("alarm from the learner")
        signal.signal(signal.SIGALRM, _boom)
        signal.setitimer(signal.ITIMER_REAL, 0.02, 0.02)
        """
    )
    result = graded(timer + solution(module, EX1))
    messages = failed_messages(result)
    assert result.score < result.max_score
    assert "alarm from the learner" in messages
    assert "exited with code" not in messages and "interrupted" not in messages


def test_interrupt_main_from_a_thread_never_blames_the_grader(graded, module):
    """A thread that raises KeyboardInterrupt in the main thread again and again: at worst the
    learner's own call fails; the runner's code between requests is never interrupted."""
    thread = textwrap.dedent(
        """
        import _thread, threading, time
        def _pester():
            while True:
                _thread.interrupt_main()
                time.sleep(0.001)
        threading.Thread(target=_pester, daemon=True).start()
        """
    )
    result = graded(thread + solution(module, EX1))
    messages = failed_messages(result)
    assert "exited with code" not in messages and "lost its channel" not in messages


@pytest.mark.parametrize(
    "crash", ["import os\nos.abort()\n", "import ctypes\nctypes.string_at(0)\n"]
)
def test_a_native_crash_says_the_runner_crashed(graded, module, crash):
    result = graded(_with_forward(module, crash))
    assert result.score == 0
    messages = failed_messages(result)
    assert "the runner crashed" in messages
    assert "Traceback" not in messages and "grader/" not in messages


def test_exhausting_file_descriptors_blames_the_learner(graded, module):
    hoard = textwrap.dedent(
        """
        _hoard = []
        try:
            while True:
                _hoard.append(open("/dev/null"))
        except OSError:
            pass
        """
    )
    result = graded(hoard + solution(module, EX1))
    assert result.score < result.max_score


def test_every_signal_blocked_and_ignored_changes_nothing(graded, module):
    """The learner's mask, ignored signals, SIGSTOP and kill(-1) from PID 1 of the namespace
    never make the grader blame itself or leave a runner behind."""
    calm = textwrap.dedent(
        """
        import os, signal
        signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        for _s in signal.valid_signals() - {signal.SIGKILL, signal.SIGSTOP}:
            try:
                signal.signal(_s, signal.SIG_IGN)
            except (OSError, ValueError):
                pass
        os.kill(os.getpid(), signal.SIGSTOP)
        os.kill(-1, signal.SIGKILL)
        """
    )
    graded(calm + solution(module, EX1))


@pytest.mark.parametrize(
    "returned",
    ["y.to_sparse()", "torch.quantize_per_tensor(y.detach(), 0.1, 0, torch.qint8)", "y.to('meta')"],
)
def test_an_unusual_tensor_returned_is_the_wrong_type(graded, module, returned):
    """A quantized tensor made the grader blame itself; a sparse one blamed the forward."""
    source = solution(module, EX1) + textwrap.dedent(
        f"""
        import torch
        _forward = LSTMNetwork.forward
        def _unusual(self, x):
            y = _forward(self, x)
            return {returned}
        LSTMNetwork.forward = _unusual
        """
    )
    result = graded(source)
    assert result.score == 0
    assert "raised" not in failed_messages(result).split("\n")[0]
    assert "return an ordinary (dense, strided) torch.Tensor" in failed_messages(result)
    assert "not a tensor" not in failed_messages(result)
