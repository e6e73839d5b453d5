"""Messages every exercise repeats, written once: a check formats them with its own names
(`what` is the learner's code, "Your forward"; `name` an input or parameter)."""

DTYPE = (
    "{what} returned {got} for {want} input: compute in the input's dtype (make new tensors "
    "with x.new_zeros(...) or dtype=x.dtype, never a bare torch.zeros)."
)
DEVICE = (
    "{what} returned a tensor on {got} for input on {want}: make new tensors on the input's "
    "device (x.new_zeros(...) or device=x.device)."
)
INPUT_CHANGED = (
    "{what} changed its input {name} in place (+=, [...] =, or a method ending in _): compute "
    "a new tensor instead; the caller still needs {name} as it was."
)
MUTATED_ARGUMENT = (
    "{what} changed the argument {name} it was given: leave what a caller passes as it was and "
    "return what is new."
)
NO_GRADIENT = (
    "No gradient reaches {name} through {what}: the result was computed from a detached value "
    "(.detach(), .item(), torch.no_grad()) or without {name}."
)
MISSING_PARAMETER = (
    "{what} has no parameter {name}: register it in __init__ as nn.Parameter (or a layer), so "
    "that the optimizer and state_dict see it."
)
WRONG_RETURN_TYPE = "{what} returned {got}; it must return {want}."
NONE_MATCH = "and it matches none of the usual mistakes."
PARAMETER_NO_GRADIENT = (
    "{name} (shape {shape}) received no gradient, though {result}: it is used outside autograd "
    "(.detach(), .data, torch.no_grad()) or not at all."
)
PARAMETER_WRONG_GRADIENT = (
    "The gradient of {name} (shape {shape}) differs from the reference's (largest difference "
    "{diff:.3g}), though {result}: is part of the computation done outside autograd (.data, "
    ".detach(), torch.no_grad())?"
)
EXTRA_PARAMETERS = "{what} has parameters besides {expected}: shapes {shapes}."
NOT_A_MODULE = "{name} must subclass nn.Module."


def dtype_name(dtype: object) -> str:
    """A dtype as a learner writes it in a message: float64, not torch.float64."""
    return str(dtype).removeprefix("torch.")
