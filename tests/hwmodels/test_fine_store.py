"""Persistent Fine layer results (`hwmodels.fine.mapper.use_store` / `stored_in`, `flowq.cache.MappingStore`)."""

import json
import os
import subprocess
import sys
from dataclasses import replace

from flowq.cache import MappingStore, ResultCache
from hwmodels.fine import mapper
from hwmodels.spec import load_spec
from hwmodels.zoo import get_workload

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class CountingStore:
    def __init__(self):
        self.rows, self.gets, self.hits = {}, 0, 0

    def get(self, key):
        self.gets += 1
        value = self.rows.get(key)
        self.hits += value is not None
        return None if value is None else json.loads(value)

    def put(self, key, value):
        self.rows[key] = json.dumps(value)


def test_stored_result_equals_the_searched_one_and_keys_every_setting():
    layer = get_workload("resnet20")[3]
    spec = load_spec("spatial-256", dataflow="OS")
    store = CountingStore()
    with mapper.stored_in(store):
        mapper.clear_memo()
        searched = mapper.map_layer(layer, spec, 4, 8, 8)
        mapper.clear_memo()
        before = mapper.search_stats()["searches"]
        loaded = mapper.map_layer(layer, spec, 4, 8, 8)
        assert mapper.search_stats()["searches"] == before  # served by the store, no search
        assert loaded == searched and store.hits == 1
        # another spec, objective, tolerance or bitwidth is another key
        mapper.clear_memo()
        mapper.map_layer(layer, replace(spec, rf_psum_words=32), 4, 8, 8)
        mapper.map_layer(layer, spec, 4, 8, 8, objective="latency")
        mapper.map_layer(layer, spec, 4, 8, 8, tolerance=0.0)
        mapper.map_layer(layer, spec, 8, 8, 8)
        assert store.hits == 1 and len(store.rows) == 5  # four new keys, four new rows
    assert mapper._STORE is None  # stored_in restores the previous store
    mapper.clear_memo()


def test_mapping_store_rows_live_in_the_result_cache(tmp_path):
    cache = ResultCache.default(tmp_path)
    store = MappingStore(cache)
    store.put("fine-x", {"energy": 1.0})
    assert store.get("fine-x") == {"energy": 1.0} and cache.stats()["models"] == {"": {"fine-mapping": 1}}


def test_second_flowq_hw_process_maps_from_the_store_without_numba(tmp_path):
    env = dict(os.environ, FLOWQ_CACHE_DIR=str(tmp_path))
    probe = ("import sys; from flowq.cli import main; code = main(['hw', 'resnet20', '--hw', 'spatial-256', "
             "'--bits', '8', '--json']); print('numba' in sys.modules, file=sys.stderr); sys.exit(code)")
    runs = [subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True)
            for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0]
    assert runs[0].stdout == runs[1].stdout and json.loads(runs[1].stdout)["total"]["energy"] > 0
    assert runs[0].stderr.split()[-1] == "True" and runs[1].stderr.split()[-1] == "False"
