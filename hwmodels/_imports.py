"""Start-up time: let numba initialise without importing scipy.linalg (about 0.3 s of CPU per process).

When numba sets up its CPU target (the first time any njit function is compiled or loaded from the cache), it
imports `numba.np.arraymath`, whose module body probes for BLAS with `import scipy.linalg.cython_blas` just to
decide whether `np.dot` & co. can be offered; that import loads all of scipy.linalg. FlowQ's kernels use no BLAS.
`install()` adds an import hook that, only while `numba.np.arraymath` executes and only when scipy is installed
but scipy.linalg is not imported yet, answers that probe with an empty placeholder module, then removes it. The
probe's answer is the true one (scipy is installed), and any later real use of BLAS by numba calls its
`ensure_blas()` again, which then imports the real scipy.linalg.cython_blas. Nothing changes when numba is
already initialised, scipy is absent, or a future numba stops probing at import.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types

_TARGET = "numba.np.arraymath"
_PROBE = "scipy.linalg.cython_blas"


class _PlaceholderLoader(importlib.abc.Loader):
    """Delegates to the real loader; the BLAS probe finds a placeholder while the module body runs."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        placeholder = None
        if _PROBE not in sys.modules and "scipy.linalg" not in sys.modules:
            placeholder = types.ModuleType(_PROBE)
            sys.modules[_PROBE] = placeholder
        try:
            self._loader.exec_module(module)
        finally:
            if placeholder is not None and sys.modules.get(_PROBE) is placeholder:
                del sys.modules[_PROBE]

    def __getattr__(self, name):  # get_source, get_filename, ... of the real loader
        return getattr(self._loader, name)


class _ArraymathFinder(importlib.abc.MetaPathFinder):
    """Finds `numba.np.arraymath` as usual and wraps its loader in `_PlaceholderLoader`."""

    def find_spec(self, name, path, target=None):
        if name != _TARGET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _PlaceholderLoader(spec.loader)
        return spec


def install() -> None:
    """Add the hook (idempotent); a no-op when numba's target is already set up or scipy is not installed."""
    if _TARGET in sys.modules or any(isinstance(f, _ArraymathFinder) for f in sys.meta_path):
        return
    if importlib.util.find_spec("scipy") is None:
        return
    sys.meta_path.insert(0, _ArraymathFinder())
