"""The sqlite result cache: get/put, maintenance, old files, corrupt files, and concurrent writers."""

import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowq.cache import ResultCache, cache_key
from hwmodels.errors import FlowQError


def test_put_get_overwrite_and_len(tmp_path):
    cache = ResultCache(tmp_path / "sub" / "results.sqlite")
    assert cache.get("k") is None and len(cache) == 0
    cache.put("k", {"psi": 0.5, "loss": 1.0})
    assert cache.get("k") == {"psi": 0.5, "loss": 1.0}
    cache.put("k", {"psi": 0.75})
    assert cache.get("k") == {"psi": 0.75} and len(cache) == 1 and "k" in cache
    assert cache.delete("k") and not cache.delete("k") and len(cache) == 0


def test_stats_entries_and_clear_by_model(tmp_path):
    cache = ResultCache(tmp_path / "results.sqlite")
    for i in range(3):
        cache.put(f"a{i}", {"psi": i / 10}, model="lenet5", kind="finetune", parts={"bits_w": [i]})
    cache.put("b", {"psi": 1.0}, model="resnet20", kind="lossproxy")
    stats = cache.stats()
    assert stats["rows"] == 4
    assert stats["models"] == {"lenet5": {"finetune": 3}, "resnet20": {"lossproxy": 1}}
    assert stats["bytes"] > 0
    rows = cache.entries(model="lenet5")
    assert sorted(r["key"] for r in rows) == ["a0", "a1", "a2"]
    assert {tuple(r["parts"]["bits_w"]) for r in rows} == {(0,), (1,), (2,)}
    assert len(cache.entries(limit=2)) == 2
    assert cache.clear(model="lenet5") == 3
    assert [r["key"] for r in cache.entries()] == ["b"]
    assert cache.clear() == 1 and len(cache) == 0


def test_cache_written_before_the_new_columns_still_opens(tmp_path):
    path = tmp_path / "results.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE results (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("INSERT INTO results VALUES ('old', '{\"psi\": 0.25}')")
    cache = ResultCache(path)
    assert cache.get("old") == {"psi": 0.25}
    cache.put("new", {"psi": 0.5}, model="lenet5")
    assert cache.stats()["models"] == {"": {"": 1}, "lenet5": {"": 1}}


def test_a_file_that_is_not_sqlite_gives_the_project_error(tmp_path):
    path = tmp_path / "results.sqlite"
    path.write_bytes(b"this is not a database, just text " * 100)
    with pytest.raises(FlowQError, match="not a FlowQ result cache"):
        ResultCache(path)


def test_cache_pickles_as_its_path(tmp_path):
    import pickle

    cache = ResultCache(tmp_path / "results.sqlite")
    cache.put("k", {"v": 1})
    clone = pickle.loads(pickle.dumps(cache))
    assert clone.get("k") == {"v": 1}


@settings(max_examples=60, deadline=None)
@given(parts=st.dictionaries(st.sampled_from(["bits_w", "bits_a", "seed", "steps", "device", "adc_bits"]),
                             st.one_of(st.integers(-5, 40), st.lists(st.integers(1, 16), max_size=6),
                                       st.sampled_from(["cpu", "cuda"])), min_size=1),
       data=st.data())
def test_cache_key_is_order_free_and_sees_every_part(parts, data):
    assert cache_key(**parts) == cache_key(**dict(reversed(list(parts.items()))))
    name = data.draw(st.sampled_from(sorted(parts)))
    changed = dict(parts, **{name: [parts[name], "changed"]})
    assert cache_key(**changed) != cache_key(**parts)
    assert cache_key(**dict(parts, extra_gene=1)) != cache_key(**parts)


WRITER = textwrap.dedent("""
    import os, sys, time
    from flowq.cache import ResultCache
    path, name, go = sys.argv[1], sys.argv[2], sys.argv[3]
    while not os.path.exists(go):
        time.sleep(0.005)
    cache = ResultCache(path)
    for i in range(200):
        cache.put(f"{name}-{i}", {"writer": name, "i": i, "pad": "x" * 200}, model=name)
        cache.put(f"shared-{i}", {"i": i}, model="shared")   # both processes write these keys too
        assert cache.get(f"{name}-{i}")["i"] == i
    print("done")
""")


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    path, go = tmp_path / "results.sqlite", tmp_path / "go"
    ResultCache(path)
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, str(go)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for name in ("A", "B")]
    time.sleep(0.5)
    go.write_text("")  # both start writing together
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert out.strip() == "done"
    cache = ResultCache(path)
    assert cache.check() == "ok"
    assert len(cache) == 2 * 200 + 200
    for name in ("A", "B"):
        for i in range(200):
            assert cache.get(f"{name}-{i}") == {"writer": name, "i": i, "pad": "x" * 200}
    assert all(cache.get(f"shared-{i}") == {"i": i} for i in range(200))
    assert cache.stats()["models"] == {"A": {"": 200}, "B": {"": 200}, "shared": {"": 200}}
