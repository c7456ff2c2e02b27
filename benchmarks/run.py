"""Run every `benchmarks/bench_*.py` and rewrite BENCHMARKS.md with the machine and date.

Each bench module defines `run() -> str`, returning a markdown section (a `## title` and a table).
"""

from __future__ import annotations

import datetime
import importlib.util
import os
import platform
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def machine_line() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        if names:
            cpu = names[0]
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def main(argv=None) -> int:
    only = set(argv if argv is not None else sys.argv[1:])
    sections = {}
    for path in sorted(HERE.glob("bench_*.py")):
        if only and path.stem not in only:
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module  # dataclasses in bench modules look themselves up here
        spec.loader.exec_module(module)
        print(f"running {path.name} ...", flush=True)
        sections[path.stem] = module.run().strip()
    header = ["# FlowQ benchmarks", "",
              f"Machine: {machine_line()}  ", f"Date: {datetime.date.today().isoformat()}  ",
              "Written by `make bench` (benchmarks/run.py); targets are stated in each section.", ""]
    out = HERE.parent / "BENCHMARKS.md"
    body = list(sections.values())
    if only and out.exists():  # a subset replaces its own sections and keeps the others
        body = merge_sections(out.read_text(), sections)
    out.write_text("\n".join(header) + "\n\n".join(body) + "\n")
    print(f"wrote {out}")
    return 0


def merge_sections(existing: str, sections: dict) -> list:
    """The "## " sections of `existing` with each of `sections` (bench stem -> text) put in place of the one with
    the same title line or whose title names `<stem>.py`, or appended."""
    body = ["## " + part.strip() for part in existing.split("\n## ")[1:]]
    for stem, text in sections.items():
        title = text.splitlines()[0]
        at = next((k for k, old in enumerate(body) if old.splitlines()[0] == title
                   or f"{stem}.py" in old.splitlines()[0]), None)
        if at is None:
            body.append(text)
        else:
            body[at] = text
    return body

if __name__ == "__main__":
    raise SystemExit(main())
