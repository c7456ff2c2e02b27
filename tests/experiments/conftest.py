"""Fixtures of the experiment tests: the scripts in experiments/ import as top-level modules (as they run)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"


@pytest.fixture(scope="module")
def experiments_on_path():
    """Put experiments/ first on sys.path for one test module.

    Yields:
        Path of the experiments folder.
    """
    sys.path.insert(0, str(EXPERIMENTS))
    yield EXPERIMENTS
    sys.path.remove(str(EXPERIMENTS))
