"""torch._dynamo, imported only when something compiles.

Every optimizer step imports torch._dynamo (`torch.optim.optimizer._use_grad_for_differentiable`)
for two calls that do nothing outside `torch.compile`: `graph_break()` and `disable(fn)`.
That import costs most of an `import torch` again, in the checker and in the zygote alike.
`install()` puts a stand-in in its place that answers those two calls as eager mode does and
imports the real torch._dynamo, in place of itself, as soon as anything else of it is used
(`torch.compile`, `torch._dynamo.config`, `import torch._dynamo.utils`, ...).
"""

from __future__ import annotations

import functools
import importlib
import importlib.abc
import importlib.util
import sys
import types

NAME = "torch._dynamo"


class _StandIn(types.ModuleType):
    """torch._dynamo until the real one is needed: `graph_break` and `disable` answered
    here, every other attribute read from the real module."""

    def __getattr__(self, attribute: str):
        if attribute.startswith("__") and attribute.endswith("__"):  # hasattr(m, "__file__")
            raise AttributeError(attribute)
        return getattr(_real(), attribute)


def _graph_break(msg: str = "") -> None:
    """Outside torch.compile, a graph break is nothing to do."""


def _disable(fn=None, recursive=True, **options):
    """Outside torch.compile, `disable(fn)` is `fn`; once the real module is loaded (the
    learner compiles), each call goes through the real `disable`."""
    if fn is None:
        return functools.partial(_disable, recursive=recursive, **options)

    @functools.wraps(fn)
    def eager(*args, **kwargs):
        dynamo = sys.modules.get(NAME)
        if dynamo is None or isinstance(dynamo, _StandIn):
            return fn(*args, **kwargs)
        return dynamo.disable(fn, recursive, **options)(*args, **kwargs)

    return eager


def _real() -> types.ModuleType:
    """Import the real torch._dynamo in place of the stand-in (once), and return it."""
    current = sys.modules.get(NAME)
    if current is not None and not isinstance(current, _StandIn):
        return current
    sys.modules.pop(NAME, None)
    real = importlib.import_module(NAME)
    sys.modules["torch"]._dynamo = real
    return real


class _Submodules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """`import torch._dynamo.X` while the stand-in is in place: import the real torch._dynamo
    first; X is then either loaded already (handed back as it is) or found in its folder."""

    def find_spec(self, fullname: str, path, target=None):
        if not fullname.startswith(NAME + ".") or not deferred():
            return None  # the real torch._dynamo imports its own parts as usual
        _real()
        if fullname in sys.modules:
            return importlib.util.spec_from_loader(fullname, self)
        return None  # the path finder finds it, in the folder the stand-in names

    def create_module(self, spec):
        return sys.modules[spec.name]

    def exec_module(self, module) -> None:
        """Loaded already, by the real torch._dynamo."""


def install() -> None:
    """Put the stand-in in place of torch._dynamo, unless the real one is imported already.
    Call it after `import torch` and before any optimizer runs."""
    import torch

    if NAME in sys.modules:
        return
    found = importlib.util.find_spec(NAME)  # its folder, without importing it
    stand_in = _StandIn(NAME, __doc__)
    stand_in.__path__ = list(found.submodule_search_locations or [])
    stand_in.graph_break = _graph_break
    stand_in.disable = _disable
    sys.modules[NAME] = stand_in
    torch._dynamo = stand_in
    if not any(isinstance(f, _Submodules) for f in sys.meta_path):
        sys.meta_path.insert(0, _Submodules())


def deferred() -> bool:
    """True while the stand-in is in place (nothing has needed the real torch._dynamo)."""
    return isinstance(sys.modules.get(NAME), _StandIn)
