"""The channel's work budget: a few kilobytes from a runner never cost the checker gigabytes or
minutes. Frames are built by hand here, as a hostile runner would write them."""

from __future__ import annotations

import io
import resource
import struct
import textwrap
import time

import pytest
import torch

from grader.confined import channel
from grader.confined.channel import BadFrame, Budget, ChannelTimeout, decode, encode
from tests.helpers import EX1, WRONG

U32, U64 = struct.Struct("!I"), struct.Struct("!Q")


def nested_lists(depth: int) -> bytes:
    return b"l" + U32.pack(1) + nested_lists(depth - 1) if depth else b"N"


def tensor_header(dtype: str, shape: tuple[int, ...]) -> bytes:
    head = b"x" + bytes((channel.DTYPES.index(dtype), len(shape)))
    return head + b"".join(U64.pack(d) for d in shape)


def test_plain_values_go_through_unchanged():
    message = {
        "scalars": [None, True, False, -(2**63), 2.5, "naïve \udcff", b"\x00\xff"],
        "nested": (1, [2, {"three": (3.0,)}]),
        "float": torch.arange(6.0).reshape(2, 3).t(),  # not contiguous: sent as its values
        "empty": torch.empty(0, 5),
        "bool": torch.tensor([True, False]),
        "scalar": torch.tensor(7, dtype=torch.int16),
    }
    back = decode(encode(message))
    assert back["scalars"][:5] == [None, True, False, -(2**63), 2.5]
    assert back["scalars"][5].startswith("naïve \ufffd")  # a lone surrogate, replaced
    back["scalars"][5].encode("utf-8")  # strict: nothing unencodable reaches the checker
    assert back["scalars"][6] == b"\x00\xff" and back["nested"] == (1, [2, {"three": (3.0,)}])
    for key in ("float", "empty", "bool", "scalar"):
        assert type(back[key]) is torch.Tensor and back[key].dtype == message[key].dtype
        assert torch.equal(back[key], message[key])


@pytest.mark.parametrize(
    ("frame", "says"),
    [
        (b"l" + U32.pack(2**32 - 1), "claims more items"),  # 5 bytes, 4 billion items
        (
            b"d" + U32.pack(2) + b"s" + U32.pack(1) + b"k" + b"N" + b"s" + U32.pack(1) + b"kN",
            "twice",
        ),
        (nested_lists(100), "nested too deeply"),
        (b"l" + U32.pack(300_000) + b"N" * 300_000, "more than 200000 values"),
        (tensor_header("float32", (2**31 - 1, 2**31 - 1)), "tensor elements"),  # 10^18 claimed
        (tensor_header("float32", (2**40,)), "dimension larger"),
        (tensor_header("float32", (4,)) + b"\x00" * 8, "ends too early"),  # half its bytes
        (tensor_header("bool", (2,)) + b"\x00\x07", "other than 0 and 1"),
        (b"PK\x03\x04" + b"\x00" * 100, "unknown tag"),  # a torch.save zip is not a message
        (b"NN", "trailing bytes"),
        (b"i\x00\x00", "ends too early"),
    ],
)
def test_hostile_frames_are_refused(frame, says):
    with pytest.raises(BadFrame, match=says):
        decode(frame)


OVERFLOWING = [  # no elements, but shapes whose strides or storage size overflow in torch
    tensor_header("float32", (0,) + (2**31 - 1,) * 7),
    tensor_header("complex128", (2**31 - 1,) * 7 + (0,)),
    tensor_header("bfloat16", (2**31 - 1,) * 3 + (0,) + (2**31 - 1,) * 4),
    b"d" + U32.pack(1) + b"s" + U32.pack(1) + b"t" + tensor_header("bool", (2**31 - 1,) * 4 + (0,)),
]


@pytest.mark.parametrize("frame", OVERFLOWING, ids=["first", "last", "middle", "in-a-mapping"])
def test_a_shape_torch_refuses_is_a_bad_frame(frame):
    with pytest.raises(BadFrame, match="cannot be decoded"):
        decode(frame)


@pytest.mark.parametrize("error", [ValueError, OverflowError, MemoryError, TypeError, IndexError])
def test_any_failure_while_decoding_is_a_bad_frame(monkeypatch, error):
    """Whatever torch (or anything else) raises on a sender's bytes is the sender's fault."""

    def refuse(*args, **kwargs):
        raise error("refused")

    monkeypatch.setattr(torch, "frombuffer", refuse)
    with pytest.raises(BadFrame, match=f"{error.__name__}: refused"):
        decode(tensor_header("float32", (2,)) + b"\x00" * 8)


def test_the_element_budget_counts_every_tensor():
    one = tensor_header("uint8", (600,)) + b"\x00" * 600
    frame = b"l" + U32.pack(2) + one + one
    decode(frame, Budget(max_elements=1200))
    with pytest.raises(BadFrame, match="tensor elements"):
        decode(frame, Budget(max_elements=1199))


def test_decoding_counts_against_the_deadline():
    frame = b"l" + U32.pack(100_000) + b"N" * 100_000
    with pytest.raises(ChannelTimeout):
        decode(frame, deadline=time.monotonic() - 1)


def test_a_frame_larger_than_the_budget_is_refused_before_it_is_read():
    theirs, ours = __import__("socket").socketpair()
    theirs.sendall(U64.pack(1 << 40))  # announces a terabyte, sends nothing more
    with pytest.raises(BadFrame, match="larger than the limit"):
        channel.recv(ours, timeout=5)
    theirs.close()
    ours.close()


def test_the_old_torch_save_bombs_cannot_even_be_expressed():
    """What a few kilobytes of torch.save could say (a zero-stride tensor of 10^9 elements,
    views sharing one storage, a list shared at every level) is refused by the sender before
    anything is materialised, and no frame can refer back to an earlier value."""
    with pytest.raises(TypeError, match="more tensor elements"):
        encode(torch.zeros(1).expand(10**9))
    shared = torch.zeros(4 << 20)
    with pytest.raises(TypeError, match="more tensor elements"):
        encode([shared[i:] for i in range(5)])  # 5 views of one storage: 20 M elements
    fanout: list = []
    for _ in range(40):
        fanout = [fanout, fanout]  # 2^40 leaves through sharing
    with pytest.raises(TypeError, match="too large or nested"):
        encode(fanout)
    buffer = io.BytesIO()
    torch.save({"x": torch.zeros(1).expand(10**6)}, buffer)
    with pytest.raises(BadFrame):
        decode(buffer.getvalue())


@pytest.mark.parametrize(
    "value",
    [
        torch.zeros(2).as_subclass(type("Liar", (torch.Tensor,), {})),
        type("Str", (str,), {})("x"),
        {1: "not a str key"},
        2**70,
        object(),
    ],
    ids=["tensor-subclass", "str-subclass", "int-key", "huge-int", "object"],
)
def test_only_exact_plain_types_are_sent(value):
    with pytest.raises(TypeError):
        encode({"value": value})


BOMB = """
import os, socket, stat, struct
U32, U64 = struct.Struct("!I"), struct.Struct("!Q")
FRAME = {frame}
for name in os.listdir("/proc/self/fd"):
    fd = int(name)
    try:
        if stat.S_ISSOCK(os.fstat(fd).st_mode):
            socket.socket(fileno=fd).sendall(U64.pack(len(FRAME)) + FRAME)
    except OSError:
        pass
import time
time.sleep(30)
"""


@pytest.mark.parametrize(
    "frame",
    [
        'b"l" + U32.pack(2**32 - 1)',
        '(b"l" + U32.pack(1)) * 5000 + b"N"',
        'b"x\\x00\\x02" + U64.pack(2**31 - 1) * 2',
        'b"l" + U32.pack(500_000) + b"N" * 500_000',
        'b"x\\x00\\x08" + U64.pack(0) + U64.pack(2**31 - 1) * 7',
        'b"d" + U32.pack(2) + b"s" + U32.pack(2) + b"id" + b"i" + U64.pack(1) + b"s" + U32.pack(5)'
        ' + b"reply" + b"x\\x05\\x08" + U64.pack(2**31 - 1) * 7 + U64.pack(0)',
    ],
    ids=["4-billion-items", "deep", "huge-tensor", "many-nodes", "overflowing", "reply"],
)
def test_a_runner_writing_bombs_on_the_channel_is_stopped_at_once(grade_source, frame):
    """Learner code finds the channel's socket and writes its own reply: refused within the
    budget, quickly, with the checker's memory unchanged."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.monotonic()
    result = grade_source(EX1, textwrap.dedent(BOMB).format(frame=frame) + WRONG)
    assert time.monotonic() - start < 30  # the runner sleeps 30 s after its bomb
    assert result.score == 0
    assert "not plain data" in " ".join(c.message for c in result.checks)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) >> 10
    assert grown_mib < 200
