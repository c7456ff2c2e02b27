"""Test-session fixtures: every session gets its own FlowQ cache folder, never the user's ~/.cache/flowq."""

import os
import tempfile
from pathlib import Path

import pytest

_USER_CACHE = os.environ.get("FLOWQ_CACHE_DIR")


_SESSION_DIR: list = []


def pytest_configure(config):
    """Set the private cache before collection, so that objects built while test modules import use it too."""
    _SESSION_DIR.append(tempfile.mkdtemp(prefix="flowq-cache-"))
    os.environ["FLOWQ_CACHE_DIR"] = _SESSION_DIR[-1]


@pytest.fixture(scope="session", autouse=True)
def private_flowq_cache(tmp_path_factory):
    """Point $FLOWQ_CACHE_DIR at a fresh folder for the whole session (subprocesses inherit os.environ).

    Yields:
        Path of the session's cache folder (float weights, results.sqlite).
    """
    path = Path(os.environ["FLOWQ_CACHE_DIR"])  # the folder pytest_configure made, or a fresh one
    if not path.is_dir() or path == Path.home() / ".cache" / "flowq":
        path = tmp_path_factory.mktemp("flowq-cache")
    old = _USER_CACHE
    os.environ["FLOWQ_CACHE_DIR"] = str(path)
    yield path
    if old is None:
        os.environ.pop("FLOWQ_CACHE_DIR", None)
    else:
        os.environ["FLOWQ_CACHE_DIR"] = old


def pytest_unconfigure(config):
    """Remove the session's cache folder (made by pytest_configure) and restore the user's setting."""
    import shutil

    for path in _SESSION_DIR:
        shutil.rmtree(path, ignore_errors=True)
    if _USER_CACHE is None:
        os.environ.pop("FLOWQ_CACHE_DIR", None)
    else:
        os.environ["FLOWQ_CACHE_DIR"] = _USER_CACHE
