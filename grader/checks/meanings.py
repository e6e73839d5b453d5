"""This module's own explanations of torch's errors, in LSTM words: tried before the grader's
generic ones (courseware/meanings.py says how; literals only, read as data)."""

MEANINGS = [
    (
        r"input.size\(-1\) must be equal to input_size. Expected (\d+), got (\d+)",
        "The LSTM was built for input_size={0} but given input whose last dimension is {1}: "
        "the last dimension of its input must be the features.",
    ),
    (
        r"Expected hidden\[0\] size \(([^)]*)\), got \[([^\]]*)\]",
        "The initial state h0 has shape ({1}), but for this input the LSTM expects ({0}): "
        "(num_layers, batch, hidden_size), with the batch read the way the LSTM reads its input.",
    ),
    (
        r"tuple indices must be integers or slices, not tuple",
        "A tuple was indexed like a tensor ([:, -1, :]): nn.LSTM returns a pair, out and "
        "(h_n, c_n), not one tensor. Unpack it first, out, (h_n, c_n) = self.lstm(x), and "
        "index out.",
    ),
    (
        r"(cannot unpack non-iterable|too many values to unpack|not enough values to unpack)",
        "The unpacking on this line (a, b = ...) got another number of values than it names: "
        "check what the call on the right returns (nn.LSTM returns out, (h_n, c_n)).",
    ),
]
