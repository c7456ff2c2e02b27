"""A user's own network: `pkg.module:factory`, `path/to/file.py:factory` or an nn.Module given from Python.

A factory is any callable returning an `nn.Module`; it is given `num_classes` and `input_size` ((C, H, W) of one
input) when its signature accepts them (by name, or through **kwargs), so one factory serves every dataset.
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import inspect
import os
import re
import sys
from pathlib import Path
from typing import Callable

from torch import nn

from flowq.errors import WorkloadError


def is_spec(model) -> bool:
    """Whether `model` is an import spec (`module:factory` or `file.py:factory`) rather than a zoo name."""
    return isinstance(model, str) and ":" in model


def canonical_spec(spec: str) -> str:
    """`spec` with a file path made absolute, and a one-module spec that only the current folder provides
    (`mynet:build` next to the user, not installed) written as that file's absolute path, so that a run recorded
    with it resolves from any directory (refine, train)."""
    target, _, attr = spec.rpartition(":")
    if target.endswith(".py") or os.sep in target or "/" in target:
        return f"{Path(target).expanduser().resolve()}:{attr}"
    local = Path.cwd() / f"{target}.py"
    if target.isidentifier() and local.is_file() and importlib.util.find_spec(target) is None:
        return f"{local.resolve()}:{attr}"
    return spec


def _import_target(target: str, spec: str):
    if target.endswith(".py") or "/" in target or os.sep in target:
        path = Path(target).expanduser()
        if not path.is_file():
            raise WorkloadError(f"--model {spec!r}: {path} is not a file; write path/to/file.py:factory or "
                                f"package.module:factory")
        name = "flowq_user_model_" + re.sub(r"\W", "_", str(path.resolve()))
        if name in sys.modules:
            return sys.modules[name]
        loader_spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[name] = module  # pickling a model of this module (worker processes) finds it by name
        try:
            loader_spec.loader.exec_module(module)
        except Exception as error:
            del sys.modules[name]
            raise WorkloadError(f"--model {spec!r}: importing {path} raised {type(error).__name__}: {error}") \
                from None
        return module
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as error:
        if os.getcwd() not in sys.path and error.name == target.split(".")[0]:
            sys.path.append(os.getcwd())  # `flowq` is a console script: the current folder is not on sys.path
            return _import_target(target, spec)
        raise WorkloadError(f"--model {spec!r}: cannot import {target!r} ({error}); give an importable module "
                            f"or a path to a .py file") from None
    except Exception as error:
        raise WorkloadError(f"--model {spec!r}: importing {target!r} raised {type(error).__name__}: {error}") \
            from None


def load_factory(spec: str) -> Callable[..., nn.Module]:
    """The callable named by `spec` (`pkg.module:factory` or `path/to/file.py:factory`).

    Raises:
        WorkloadError: malformed spec, missing file or module, import error, missing or non-callable attribute.
    """
    target, _, attr = spec.rpartition(":")
    if not target or not attr:
        raise WorkloadError(f"--model {spec!r}: write package.module:factory or path/to/file.py:factory")
    module = _import_target(target, spec)
    factory = module
    for part in attr.split("."):
        factory = getattr(factory, part, None)
        if factory is None:
            raise WorkloadError(f"--model {spec!r}: {target} has no attribute {attr!r}")
    if not callable(factory):
        raise WorkloadError(f"--model {spec!r}: {attr} is a {type(factory).__name__}, not a callable returning an "
                            f"nn.Module")
    return factory


def call_factory(factory: Callable[..., nn.Module], num_classes: int, input_size: tuple, what: str) -> nn.Module:
    """`factory(num_classes=..., input_size=...)`, passing each only when the signature accepts it.

    Raises:
        WorkloadError: the factory raised, or returned something other than an nn.Module.
    """
    kwargs = {}
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):  # builtins without a signature
        parameters = {}
    var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    for name, value in (("num_classes", int(num_classes)), ("input_size", tuple(input_size))):
        if var_kw or name in parameters:
            kwargs[name] = value
    try:
        model = factory(**kwargs)
    except Exception as error:
        raise WorkloadError(f"model {what}: calling it with {kwargs} raised {type(error).__name__}: {error}") \
            from None
    if not isinstance(model, nn.Module):
        raise WorkloadError(f"model {what}: returned a {type(model).__name__}, expected a torch nn.Module")
    return model


def copy_module(module: nn.Module) -> nn.Module:
    """An independent copy of a user's module (its current weights are the copy's initial weights)."""
    return copy.deepcopy(module)


def module_name(module: nn.Module) -> str:
    """The recorded name of a module given from Python: `<module pkg.Class>` (not rebuildable from the name)."""
    cls = type(module)
    return f"<module {cls.__module__}.{cls.__qualname__}>"
