"""Assemble EXPERIMENTS.md: refill every generated block from the files the experiment scripts wrote.

EXPERIMENTS.md is hand-written prose with generated blocks; each block is delimited by

    <!-- generated: table5_dataflows/table5.md -->
    ...the file's text, verbatim...
    <!-- end generated -->

where the path is relative to `experiments/results/`. Prose cites numbers only through these blocks (tables,
`notes.md` lists of computed statements, `env.md` run records). Refilling replaces each block's body with the
file's current text and touches nothing else, so sections written by other hands stay as they are.

    python experiments/assemble.py            # rewrite EXPERIMENTS.md in place
    python experiments/assemble.py --check    # exit 1 (listing the stale blocks) when it differs from the results
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import common

DOCUMENT = Path(__file__).resolve().parent / "EXPERIMENTS.md"
BLOCK = re.compile(r"(<!-- generated: (?P<path>[^\s]+) -->\n)(?P<body>.*?)(<!-- end generated -->)", re.S)


class MissingResult(Exception):
    """A generated block names a file that does not exist under the results folder."""


def assemble(text: str, results: Path = common.RESULTS) -> str:
    """`text` with every generated block's body replaced by the named results file's text.

    Raises:
        MissingResult: a block names a file that is missing.
    """
    def refill(match):
        path = results / match.group("path")
        if not path.is_file():
            raise MissingResult(f"{match.group('path')}: no such file under {results}")
        body = path.read_text()
        return match.group(1) + body + ("" if body.endswith("\n") else "\n") + match.group(4)

    return BLOCK.sub(refill, text)


def stale_blocks(text: str, results: Path = common.RESULTS) -> list:
    """Paths of the generated blocks whose body differs from their results file."""
    fresh = {m.group("path"): m.group("body") for m in BLOCK.finditer(assemble(text, results))}
    return [m.group("path") for m in BLOCK.finditer(text) if fresh[m.group("path")] != m.group("body")]


def included(text: str) -> list:
    """Results paths the document includes, in order."""
    return [m.group("path") for m in BLOCK.finditer(text)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when a block is stale")
    parser.add_argument("--document", default=str(DOCUMENT), help="the markdown file (default EXPERIMENTS.md)")
    args = parser.parse_args(argv)
    document = Path(args.document)
    text = document.read_text()
    try:
        stale = stale_blocks(text)
    except MissingResult as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.check:
        for path in stale:
            print(f"stale: {path}")
        return 1 if stale else 0
    document.write_text(assemble(text))
    print(f"{document}: {len(included(text))} generated blocks, {len(stale)} refilled")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
