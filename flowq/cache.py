"""On-disk caches: pretrained float weights (one file per key) and evaluated genomes (sqlite, keyed by everything).

The result cache is one sqlite file (`<cache dir>/results.sqlite`) shared by every run, level, worker process and
host that sees the folder. It is written in WAL mode with a busy timeout, and every statement is retried with
back-off while another writer holds the lock, so concurrent searches neither corrupt it nor lose rows. A row is
keyed by a digest of everything that determines the result (see `cache_key`); the model name and evaluator kind
are stored beside it for `flowq cache stats|list|clear [--model M]`.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
import time
from pathlib import Path

from hwmodels.errors import FlowQError

#: Bump when training, quantisation or data code changes results, so old cache entries stop matching.
CODE_VERSION = "torch-2"
#: File name of the result cache inside the cache folder.
RESULTS_FILE = "results.sqlite"
#: Seconds sqlite itself waits for a lock (busy timeout) before `_retry` takes over.
BUSY_TIMEOUT_S = 30.0
#: Attempts of one statement while the database stays locked (exponential back-off from 10 ms, capped at 1 s).
RETRIES = 20

_SCHEMA = """CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY, value TEXT NOT NULL, model TEXT NOT NULL DEFAULT '', kind TEXT NOT NULL DEFAULT '',
    parts TEXT NOT NULL DEFAULT '{}', created REAL NOT NULL DEFAULT 0)"""

_COLUMNS = {"model": "TEXT NOT NULL DEFAULT ''", "kind": "TEXT NOT NULL DEFAULT ''",
            "parts": "TEXT NOT NULL DEFAULT '{}'", "created": "REAL NOT NULL DEFAULT 0"}


def default_cache_dir() -> Path:
    """$FLOWQ_CACHE_DIR if set, else ~/.cache/flowq."""
    return Path(os.environ.get("FLOWQ_CACHE_DIR") or Path.home() / ".cache" / "flowq").expanduser()


def cache_key(**parts) -> str:
    """Stable hex digest of keyword parts (JSON with sorted keys; lists and numpy ints must be converted first).

    An accuracy result's parts are its evaluator kind, the float network's identity (model definition, weights
    hash, training recipe and seed), dataset and split, quantisers, genome (bits_w, bits_a and any ADC genes),
    fine-tune settings, seed and device type; `CODE_VERSION` is always mixed in.
    """
    text = json.dumps({"code_version": CODE_VERSION, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def digest_bytes(data: bytes) -> str:
    """Short sha256 hex digest of raw bytes (weights files, label arrays)."""
    return hashlib.sha256(data).hexdigest()[:16]


def _locked(error: sqlite3.OperationalError) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text


class ResultCache:
    """Evaluated-genome store: sqlite table key -> JSON result, safe for several processes and hosts.

    Picklable: it holds only the file path and opens a connection per call (a connection must never cross a fork
    or a pickle).

    Args:
        path: sqlite file; its folder is created.

    Raises:
        FlowQError: the file exists but is not a FlowQ result cache (or not sqlite at all), or its folder cannot be
            made or written (FLOWQ_CACHE_DIR a file, read-only, disk full); the message names the path.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path).expanduser()
        if self.path.parent.exists() and not self.path.parent.is_dir():
            raise FlowQError(f"result cache folder {self.path.parent} is a file, not a folder; set FLOWQ_CACHE_DIR to "
                             f"a writable folder")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise FlowQError(f"result cache folder {self.path.parent}: cannot create it ({error.strerror or error}); "
                             f"set FLOWQ_CACHE_DIR to a writable folder") from None
        if self.path.exists() and not self.path.is_file():
            raise FlowQError(f"result cache {self.path} is not a file; remove it or set FLOWQ_CACHE_DIR to another "
                             f"folder")
        self._retry(lambda db: db.execute("PRAGMA journal_mode=WAL"))  # persistent: stored in the file
        self._retry(self._create, write=True)

    @classmethod
    def default(cls, cache_dir: str | os.PathLike | None = None) -> "ResultCache":
        """The cache in `cache_dir` (default `default_cache_dir()`)."""
        folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        return cls(folder / RESULTS_FILE)

    @staticmethod
    def _create(db: sqlite3.Connection) -> None:
        db.execute(_SCHEMA)
        have = {row[1] for row in db.execute("PRAGMA table_info(results)")}
        for column, declaration in _COLUMNS.items():
            if column not in have:  # a cache written before these columns existed
                db.execute(f"ALTER TABLE results ADD COLUMN {column} {declaration}")

    def __repr__(self) -> str:
        return f"ResultCache({str(self.path)!r})"

    # ---- connection handling -------------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across process crashes, never corrupt
        return db

    def _retry(self, action, *, write: bool = False):
        """Run `action(db)` (in one IMMEDIATE transaction when `write`), retrying while the database is locked."""
        delay = 0.01
        for attempt in range(RETRIES):
            try:
                db = self._connect()
            except sqlite3.OperationalError as error:
                if not _locked(error):
                    raise FlowQError(f"result cache {self.path}: cannot open it ({error}); check that the folder is "
                                     f"writable, or set FLOWQ_CACHE_DIR to another folder") from None
                if attempt == RETRIES - 1:
                    raise
                time.sleep(delay * (1 + random.random()))
                delay = min(1.0, 2 * delay)
                continue
            except sqlite3.DatabaseError as error:
                raise FlowQError(f"{self.path} is not a FlowQ result cache ({error}); delete it or set "
                                 f"FLOWQ_CACHE_DIR to another folder") from None
            try:
                if write:
                    db.execute("BEGIN IMMEDIATE")
                    try:
                        value = action(db)
                        db.execute("COMMIT")
                    except BaseException:
                        db.execute("ROLLBACK")
                        raise
                    return value
                return action(db)
            except sqlite3.OperationalError as error:
                if not _locked(error):
                    raise FlowQError(f"result cache {self.path}: {error} (read-only, disk full or damaged?); check "
                                     f"the file, or set FLOWQ_CACHE_DIR to another folder") from None
                if attempt == RETRIES - 1:
                    raise
                time.sleep(delay * (1 + random.random()))
                delay = min(1.0, 2 * delay)
            except sqlite3.DatabaseError as error:
                raise FlowQError(f"{self.path} is not a FlowQ result cache ({error}); delete it or set "
                                 f"FLOWQ_CACHE_DIR to another folder") from None
            finally:
                db.close()
        raise AssertionError("unreachable")

    # ---- the get/put API used by the evaluators ------------------------------------------------------------
    def get(self, key: str) -> dict | None:
        """The stored dict for `key`, or None."""
        row = self._retry(lambda db: db.execute("SELECT value FROM results WHERE key = ?", (key,)).fetchone())
        return None if row is None else json.loads(row[0])

    def put(self, key: str, value: dict, *, model: str = "", kind: str = "", parts: dict | None = None) -> None:
        """Store (or overwrite) `value` (JSON-serialisable) under `key`.

        Args:
            key: `cache_key(**parts)`.
            value: the result.
            model, kind: model name and evaluator kind, for `stats`/`entries`/`clear(model=...)`.
            parts: the key's parts (kept readable for `flowq cache list`).
        """
        row = (key, json.dumps(value), str(model), str(kind), json.dumps(parts or {}, sort_keys=True, default=str),
               time.time())
        self._retry(lambda db: db.execute("INSERT OR REPLACE INTO results (key, value, model, kind, parts, created) "
                                          "VALUES (?, ?, ?, ?, ?, ?)", row), write=True)

    def delete(self, key: str) -> bool:
        """Remove `key`; True when it was there."""
        return self._retry(lambda db: db.execute("DELETE FROM results WHERE key = ?", (key,)).rowcount, write=True) > 0

    def __len__(self) -> int:
        return self._retry(lambda db: db.execute("SELECT COUNT(*) FROM results").fetchone()[0])

    def __contains__(self, key: str) -> bool:
        return self._retry(lambda db: db.execute("SELECT 1 FROM results WHERE key = ?", (key,)).fetchone()) is not None

    # ---- maintenance (`flowq cache ...`) -------------------------------------------------------------------
    def stats(self) -> dict:
        """{"path", "rows", "bytes", "models": {model: {kind: rows}}} of the cache file."""
        rows = self._retry(lambda db: db.execute(
            "SELECT model, kind, COUNT(*) FROM results GROUP BY model, kind ORDER BY model, kind").fetchall())
        models: dict = {}
        for model, kind, count in rows:
            models.setdefault(model, {})[kind] = count
        size = sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())
        return {"path": str(self.path), "rows": sum(c for _, _, c in rows), "bytes": size, "models": models}

    def entries(self, model: str | None = None, limit: int | None = None) -> list[dict]:
        """Rows (newest first) as {"key", "model", "kind", "created", "parts", "value"}, optionally of one model."""
        query, args = "SELECT key, model, kind, created, parts, value FROM results", []
        if model is not None:
            query, args = query + " WHERE model = ?", [model]
        query += " ORDER BY created DESC, key"
        if limit is not None:
            query, args = query + " LIMIT ?", args + [int(limit)]
        rows = self._retry(lambda db: db.execute(query, args).fetchall())
        return [{"key": k, "model": m, "kind": kind, "created": c, "parts": json.loads(p), "value": json.loads(v)}
                for k, m, kind, c, p, v in rows]

    def clear(self, model: str | None = None) -> int:
        """Delete every row (or those of `model`); returns how many went."""
        if model is None:
            return self._retry(lambda db: db.execute("DELETE FROM results").rowcount, write=True)
        return self._retry(lambda db: db.execute("DELETE FROM results WHERE model = ?", (model,)).rowcount,
                           write=True)

    def check(self) -> str:
        """sqlite's `PRAGMA integrity_check` ("ok" for a sound file)."""
        return self._retry(lambda db: db.execute("PRAGMA integrity_check").fetchone()[0])


class MappingStore:
    """Fine-mapper layer results kept in a `ResultCache` (rows of kind "fine-mapping"), for
    `hwmodels.fine.mapper.use_store`: a later process maps a known layer configuration without starting numba."""

    KIND = "fine-mapping"

    def __init__(self, cache: ResultCache):
        self.cache = cache

    def get(self, key: str) -> dict | None:
        """The stored layer result for `key`, or None."""
        return self.cache.get(key)

    def put(self, key: str, value: dict) -> None:
        """Store a layer result."""
        self.cache.put(key, value, kind=self.KIND)
