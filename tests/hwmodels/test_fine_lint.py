"""Kernel hygiene (STYLE.md 4.2): every @njit in hwmodels is cached and takes its flags from hwmodels.config."""

import re
from pathlib import Path

HWMODELS = Path(__file__).resolve().parents[2] / "hwmodels"


def test_every_njit_is_cached_and_uses_config_flags():
    offenders = []
    for path in sorted(HWMODELS.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if re.match(r"\s*@(numba\.)?njit", line):
                if "cache=True" not in line or "**config.NJIT_FLAGS" not in line:
                    offenders.append(f"{path.name}:{number}: {line.strip()}")
            if "fastmath=" in line and "config.py" not in path.name:
                offenders.append(f"{path.name}:{number}: hard-coded fastmath")
    assert not offenders, "\n".join(offenders)
