"""Register the rope types with transformers when ``resonance_rope`` is imported.

transformers looks a ``rope_type`` up in ``transformers.modeling_rope_utils.ROPE_INIT_FUNCTIONS``
and has no plug-in hook (no entry point) for new types, so a serving stack that builds a
model from a config with ``rope_type: "resonance_yarn"`` needs the type in that dict before
the model is built. ``import resonance_rope`` arranges it without importing torch or
transformers itself:

* if ``transformers.modeling_rope_utils`` is already imported, the types are registered now;
* otherwise a finder on ``sys.meta_path`` waits for that module and registers the types right
  after it is executed (whatever imports it: ``AutoConfig``, ``LlamaConfig``, vLLM ...).

So ``import resonance_rope`` anywhere before the model is built (in a serving stack: in the
process that builds the model, e.g. a ``sitecustomize`` or the plug-in module of the server)
is all it takes. ``register_hf_rope_types()`` stays available and idempotent.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import warnings
from typing import Any

TARGET = "transformers.modeling_rope_utils"

__all__ = ["install"]


def _register(module: Any = None) -> None:
    try:
        from resonance_rope.hf import register_hf_rope_types

        register_hf_rope_types()
    except Exception as err:  # never break the import of transformers
        warnings.warn(f"resonance_rope: could not register rope types ({err})", stacklevel=2)


class _Loader(importlib.abc.Loader):
    """Runs the real loader, then registers the rope types."""

    def __init__(self, inner: Any, hook: Any) -> None:
        self.inner = inner
        self.hook = hook

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Any:
        return self.inner.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self.inner.exec_module(module)
        self.hook(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class _Finder(importlib.abc.MetaPathFinder):
    """Finds module ``target`` (transformers' rope module) with the other finders and wraps
    its loader so that ``hook(module)`` runs right after the module is executed."""

    def __init__(self, target: str = TARGET, hook: Any = _register) -> None:
        self.target = target
        self.hook = hook

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != self.target:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _Loader(spec.loader, self.hook)
                return spec
        return None


def install() -> None:
    """Register now if transformers' rope module is loaded, else when it gets imported."""
    if TARGET in sys.modules:
        _register()
        return
    if not any(isinstance(f, _Finder) and f.target == TARGET for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
