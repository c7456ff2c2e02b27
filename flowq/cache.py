"""On-disk caches: pretrained float weights (one file per key) and evaluated genomes (sqlite, keyed by everything)."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path

#: Bump when training, quantisation or data code changes results, so old cache entries stop matching.
CODE_VERSION = "torch-2"


def default_cache_dir() -> Path:
    """$FLOWQ_CACHE_DIR if set, else ~/.cache/flowq."""
    return Path(os.environ.get("FLOWQ_CACHE_DIR") or Path.home() / ".cache" / "flowq").expanduser()


def cache_key(**parts) -> str:
    """Stable hex digest of keyword parts (JSON with sorted keys; lists and numpy ints must be converted first)."""
    text = json.dumps({"code_version": CODE_VERSION, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class ResultCache:
    """Evaluated-genome store: sqlite table key -> JSON result, safe for several processes (WAL, busy timeout).

    Picklable: it holds only the file path and opens a connection per call.

    Args:
        path: sqlite file; its folder is created.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, value TEXT NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=60)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def get(self, key: str) -> dict | None:
        """The stored dict for `key`, or None."""
        db = self._connect()
        try:
            row = db.execute("SELECT value FROM results WHERE key = ?", (key,)).fetchone()
        finally:
            db.close()
        return None if row is None else json.loads(row[0])

    def put(self, key: str, value: dict) -> None:
        """Store (or overwrite) `value` (JSON-serialisable) under `key`."""
        db = self._connect()
        try:
            with db:
                db.execute("INSERT OR REPLACE INTO results (key, value) VALUES (?, ?)", (key, json.dumps(value)))
        finally:
            db.close()

    def __len__(self) -> int:
        db = self._connect()
        try:
            return db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        finally:
            db.close()
