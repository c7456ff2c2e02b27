"""Test-session fixtures: every session gets its own FlowQ cache folder, never the user's ~/.cache/flowq."""

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def private_flowq_cache(tmp_path_factory):
    """Point $FLOWQ_CACHE_DIR at a fresh folder for the whole session (subprocesses inherit os.environ).

    Yields:
        Path of the session's cache folder (float weights, results.sqlite).
    """
    path = tmp_path_factory.mktemp("flowq-cache")
    old = os.environ.get("FLOWQ_CACHE_DIR")
    os.environ["FLOWQ_CACHE_DIR"] = str(path)
    yield path
    if old is None:
        os.environ.pop("FLOWQ_CACHE_DIR", None)
    else:
        os.environ["FLOWQ_CACHE_DIR"] = old
