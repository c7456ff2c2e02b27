"""The run folder: the one module that defines, writes and reads it (schema-versioned JSON, atomic writes).

A run folder holds one search at one level:

    results.json              the result (`read_results`); "complete": false while the search runs
    generations/gen_NNNN.json population and front of generation NNNN, tagged with the run's `run_id`
    progress.csv              one line per generation: evaluations, hypervolume, best value per objective
    checkpoint.pkl            the pickled pymoo algorithm the next generation starts from (resume)
    pareto.png, hypervolume.png, bitwidths.png
    report.html               the run's HTML report (`flowq.report`, written when the search ends)
    trained/                  `flowq train`: trained.json, model.pt, model.onnx (when onnx is installed)
    <level>/                  a refined run (its own run folder)

Every JSON file carries `schema_version` (`SCHEMA_VERSION`) and the `run_id` of the search that wrote it, so
files left by an earlier run in a reused folder are never read as this run's. Files are written through a
temporary file in the same folder, flushed, fsync'ed and renamed over the target: a crash or a kill leaves either
the old or the new file, never a half-written one.

results.json keys (schema 1): schema_version, run_id, complete, level, objectives, constraints, ref_point,
baseline, baseline_bits, feasible, front (solutions: bits_w, bits_a, genome, metrics, F, constraint_violation),
hv_leader, hv_leader_rule, accuracy_leader, compression_leader, failed (solutions whose accuracy evaluation
failed), least_violation, hypervolume, n_evaluations, front_history, config (the problem, enough to rebuild it),
algorithm, seed, pop_size, n_gen, evaluator (the accuracy evaluator's identity, incl. its float network), soga_best
(SOGA runs: the best individual by hw-flowq eq. 1), and counters/timings.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import numpy as np

from hwmodels.errors import FlowQError, GenomeError

SCHEMA_VERSION = 1
RESULTS, CHECKPOINT, PROGRESS, GENERATIONS = "results.json", "checkpoint.pkl", "progress.csv", "generations"
PLOTS = ("pareto.png", "hypervolume.png", "bitwidths.png", "report.html")  # report.html: flowq.report
TRAINED, TRAINED_JSON, TRAINED_WEIGHTS, TRAINED_ONNX = "trained", "trained.json", "model.pt", "model.onnx"
#: results.json keys every reader relies on.
REQUIRED_KEYS = ("schema_version", "run_id", "complete", "level", "objectives", "constraints", "front",
                 "hv_leader", "hypervolume", "config")
#: problem settings a resumed run must share with the run it continues (level, model, hardware, genome).
RESUME_KEYS = {"level": "--level", "model": "--model", "dataset": "--dataset", "hw": "--hw", "dataflow": "--dataflow",
               "bitwidths": "--bitwidths", "tie": "--tie", "fixed_bits": "--fixed-bits", "batch": "--batch",
               "objectives": "--objectives", "constraints": "--constraint",
               "soga_threshold": "--algo soga / --soga-threshold", "mapper_objective": "mapper_objective"}
#: search settings a resumed run cannot change (the checkpoint holds the algorithm, its population and random
#: state): results.json key -> the option that sets it. `--gen`, `--workers`, `--dask`, `--quiet` are applied.
RESUME_FIXED = {"algorithm": "--algo", "seed": "--seed", "pop_size": "--pop"}
#: evaluator identity keys -> the option that sets them (the rest are named as they are)
EVALUATOR_OPTIONS = {"kind": "--evaluator", "epochs": "--epochs", "weight_quantizer": "--quantizer",
                     "act_quantizer": "--quantizer", "data_root": "--data-dir", "seed": "--evaluator-seed",
                     "float_key": "--weights / the float network's recipe", "model": "--model",
                     "dataset": "--dataset", "threads": "--threads", "torch": "the torch version"}
#: evaluator identity keys a resume may change: the float-weight hash (known only after training) and the constructor
#: options (device placement); the thread count changes psi (`flowq.environment`), so it is not free
RESUME_FREE_IDENTITY = frozenset({"float_weights_sha256", "options"})

PICKS = ("hv", "accuracy", "compression")


class RunError(FlowQError, ValueError):
    """A run folder is missing, unreadable, of another schema, or holds a different run than expected."""


#: Permissions of the files FlowQ writes (tempfile.mkstemp makes 0600): readable like the PNGs, minus the umask.
FILE_MODE = 0o666


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once, at import (os.umask can only be read by setting it)


def check_output_folder(folder, what: str = "--out") -> Path:
    """Create `folder` if needed and prove it writable (a probe file is written and removed), before any work.

    Raises:
        RunError: an empty path, a path that is a file, or a folder that cannot be created or written (read-only,
            permissions, /proc, disk full), naming the path and the reason.
    """
    if folder is None or str(folder).strip() == "":
        raise RunError(f"{what} {str(folder)!r}: give a folder path")
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise RunError(f"{what} {folder}: is a file, not a folder; give a folder path")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".flowq-write-probe.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise RunError(f"{what} {folder}: cannot write there ({error.strerror or error}); give a writable "
                       f"folder") from None
    return folder


def write_atomic(path, data) -> None:
    """Write text or bytes to `path`: temporary file in the same folder, flush + fsync, then atomic rename; the
    file gets `FILE_MODE` minus the umask (0644 under the usual umask 022).

    Raises:
        RunError: the file cannot be written (read-only folder, disk full, ...); the old file, if any, is kept.
    """
    path = Path(path)
    mode = "wb" if isinstance(data, bytes) else "w"
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        os.fchmod(fd, FILE_MODE & ~_UMASK)
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as error:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        raise RunError(f"{path}: cannot write it ({error.strerror or error}); finished files in {path.parent} are "
                       f"kept") from None
    except BaseException:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, Path):
        return str(value)
    return value


def dumps(obj) -> str:
    """JSON text of `obj` with numpy values converted and non-finite floats written as null."""
    return json.dumps(_jsonable(obj), indent=1)


def new_run_id() -> str:
    """A fresh identifier for one search (tags every file it writes)."""
    return uuid.uuid4().hex[:16]


def write_results(folder, data: dict) -> Path:
    """Write `data` (which must carry run_id) as folder/results.json with the current schema version."""
    path = Path(folder) / RESULTS
    write_atomic(path, dumps({"schema_version": SCHEMA_VERSION, **data}))
    return path


def write_generation(folder, gen: int, run_id: str, snapshot: dict) -> Path:
    """Write generation `gen`'s snapshot (population, front, ...) as folder/generations/gen_NNNN.json."""
    path = Path(folder) / GENERATIONS / f"gen_{gen:04d}.json"
    write_atomic(path, dumps({"schema_version": SCHEMA_VERSION, "run_id": run_id, "gen": gen, **snapshot}))
    return path


def write_progress(folder, text: str) -> None:
    """Write progress.csv (CSV text)."""
    write_atomic(Path(folder) / PROGRESS, text)


def write_checkpoint(folder, payload: bytes) -> None:
    """Write the pickled algorithm as folder/checkpoint.pkl (atomically)."""
    write_atomic(Path(folder) / CHECKPOINT, payload)


def read_checkpoint(folder) -> bytes | None:
    """The checkpoint bytes, or None when the folder has none."""
    path = Path(folder) / CHECKPOINT
    return path.read_bytes() if path.is_file() else None


# ---- reading ---------------------------------------------------------------------------------------------
def results_path(run) -> Path:
    """folder/results.json for a folder, the path itself for a file."""
    path = Path(run)
    return path / RESULTS if path.is_dir() else path


def _read_json(path: Path, what: str):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{path} does not exist; pass a run folder written by `flowq search` (it holds "
                       f"{RESULTS})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RunError(f"{path} is not a readable {what} ({type(error).__name__}: {error}); the file is corrupt or "
                       f"not FlowQ's: rerun the search (or pass --force to overwrite the folder)") from None
    except OSError as error:
        raise RunError(f"{path}: cannot read it ({error})") from None


def _check_solution(solution, where: str, n_obj: int | None = None) -> None:
    if not isinstance(solution, dict):
        raise RunError(f"{where}: expected an object with bits_w, bits_a, metrics, F; got {type(solution).__name__}")
    for key in ("bits_w", "bits_a"):
        _bits_list(solution.get(key), f"{where}.{key}", RunError)
    if len(solution["bits_w"]) != len(solution["bits_a"]):
        raise RunError(f"{where}: bits_w and bits_a have different lengths")
    metrics = solution.get("metrics")
    if not isinstance(metrics, dict) or not all(_number(v) or isinstance(v, (str, bool)) for v in metrics.values()):
        raise RunError(f"{where}.metrics: expected an object of metric name -> number")
    if n_obj is not None:
        _check_vector(solution.get("F"), n_obj, f"{where}.F")


def _number(value) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def _check_vector(values, n: int, where: str) -> None:
    if not isinstance(values, list) or len(values) != n or not all(_number(v) for v in values):
        raise RunError(f"{where}: expected a list of {n} numbers (one per objective), got {values!r:.80}")


def validate_results(data, path="results.json") -> dict:
    """Check a results.json dict (schema version, required keys, front entries, leader indices); returns it.

    Raises:
        RunError: naming the file and what is wrong.
    """
    if not isinstance(data, dict):
        raise RunError(f"{path}: expected a JSON object, got {type(data).__name__}")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        found = "no schema_version (written before run folders were versioned)" if version is None else \
            f"schema_version {version!r}"
        raise RunError(f"{path}: {found}; this FlowQ reads schema_version {SCHEMA_VERSION}. Rerun the search with "
                       f"this version (e.g. `flowq search ... --out NEW`)")
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise RunError(f"{path}: missing keys {missing}; the file is incomplete or not a FlowQ results.json")
    if not isinstance(data["front"], list):
        raise RunError(f"{path}: 'front' must be a list of solutions")
    objectives = data["objectives"]
    if not isinstance(objectives, list) or not objectives or not all(isinstance(o, str) for o in objectives):
        raise RunError(f"{path}: 'objectives' must be a non-empty list of metric names")
    for i, solution in enumerate(data["front"]):
        _check_solution(solution, f"{path}: front[{i}]", len(objectives))
    if not isinstance(data["hypervolume"], list) or not all(_number(v) for v in data["hypervolume"]):
        raise RunError(f"{path}: 'hypervolume' must be a list of numbers (one per generation)")
    history = data.get("front_history", [])
    if not isinstance(history, list):
        raise RunError(f"{path}: 'front_history' must be a list (one front per generation)")
    for g, front in enumerate(history):
        if not isinstance(front, list):
            raise RunError(f"{path}: front_history[{g}] must be a list of objective vectors")
        for j, F in enumerate(front):
            _check_vector(F, len(objectives), f"{path}: front_history[{g}][{j}]")
    ref_point = data.get("ref_point")
    if "ref_point" in data and (not isinstance(ref_point, list) or len(ref_point) != len(objectives)
                                or not all(_number(v) and v is not None for v in ref_point)):
        raise RunError(f"{path}: 'ref_point' must be a list of {len(objectives)} numbers (the hypervolume's "
                       f"reference point), got {ref_point!r:.80}")
    if data.get("least_violation") is not None:
        _check_solution(data["least_violation"], f"{path}: least_violation")
    for kind in PICKS:
        index = data.get(f"{kind}_leader")
        if index is not None and (isinstance(index, bool) or not isinstance(index, int)
                                  or not 0 <= index < len(data["front"])):
            raise RunError(f"{path}: {kind}_leader={index!r} is not an index of the {len(data['front'])}-solution "
                           f"front")
    if not isinstance(data["config"], dict):
        raise RunError(f"{path}: 'config' must be an object")
    names = data["config"].get("layer_names")
    if names is not None and (not isinstance(names, list) or not all(isinstance(n, str) for n in names)):
        raise RunError(f"{path}: config.layer_names must be a list of layer names, got {names!r:.80}")
    return data


def read_results(run) -> dict:
    """The validated results.json of a run folder (or of a results.json path).

    Raises:
        RunError: missing, not UTF-8 / JSON, another schema version, or malformed.
    """
    path = results_path(run)
    return validate_results(_read_json(path, "results.json"), path)


def holds_run(folder) -> bool:
    """Whether `folder` holds files of a search (results.json, checkpoint.pkl or generations/)."""
    folder = Path(folder)
    return any((folder / name).exists() for name in (RESULTS, CHECKPOINT, GENERATIONS))


def read_generations(folder, run_id: str):
    """Yield the generation snapshots of run `run_id` in folder/generations (files of other runs are skipped)."""
    for path in sorted((Path(folder) / GENERATIONS).glob("gen_*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, OSError):
            continue  # a stray or foreign file: never this run's
        if isinstance(data, dict) and data.get("schema_version") == SCHEMA_VERSION and data.get("run_id") == run_id:
            yield data


def _same_evaluator(recorded, current) -> bool:
    """Equal identities; the float network's weight hash is compared only when both sides know it."""
    if not isinstance(recorded, dict) or not isinstance(current, dict):
        return False
    a, b = dict(recorded), dict(current)
    ha, hb = a.pop("float_weights_sha256", None), b.pop("float_weights_sha256", None)
    return a == b and (ha is None or hb is None or ha == hb)


def accuracy_records(run, evaluator_identity: dict, accuracy: str = "accuracy") -> dict:
    """Accuracy metrics measured by run `run` with the same evaluator, keyed by genome (bits_w + bits_a tuple).

    Only this run's files (its run_id) are read, only when its recorded evaluator identity (kind, model, dataset,
    float network, quantiser, fine-tuning length) equals `evaluator_identity`, and never failed evaluations.
    """
    data = read_results(run)
    if not _same_evaluator(data.get("evaluator"), evaluator_identity):
        return {}
    folder = results_path(run).parent
    records = {}
    for snapshot in [*read_generations(folder, data["run_id"]), data]:
        for solution in snapshot.get("population", []) + snapshot.get("front", []):
            metrics = solution.get("metrics", {})
            if accuracy not in metrics or metrics.get(f"{accuracy}_failed") or metrics[accuracy] is None:
                continue
            key = tuple(int(b) for b in solution["bits_w"]) + tuple(int(b) for b in solution["bits_a"])
            records.setdefault(key, {k: v for k, v in metrics.items() if k.startswith(accuracy)})
    return records


# ---- folder lifecycle ----------------------------------------------------------------------------------
def clear_run(folder) -> None:
    """Remove the files a search writes (results, checkpoint, progress, generations, plots, trained/) from folder;
    anything else (e.g. refined sub-level folders) stays."""
    folder = Path(folder)
    for name in (RESULTS, CHECKPOINT, PROGRESS) + PLOTS:
        (folder / name).unlink(missing_ok=True)
    for name in (GENERATIONS, TRAINED):
        if (folder / name).is_dir():
            shutil.rmtree(folder / name)


def prepare_folder(folder, config: dict, *, resume: bool = False, force: bool = False) -> bool:
    """Make `folder` ready for a search of problem `config`; returns True when the search resumes a checkpoint.

    Args:
        folder: the run folder (created when missing).
        config: the problem's `config()` (level, model, hardware, genome settings).
        resume: continue the run found there (its problem settings must equal `config`'s `RESUME_KEYS`).
        force: discard the run found there and start over.

    Raises:
        RunError: the folder holds a run and neither resume nor force is given; or resume finds a different
            problem, or nothing to resume from.
    """
    folder = check_output_folder(folder)
    if resume and not (folder / CHECKPOINT).is_file():
        raise RunError(f"--resume: {folder} has no {CHECKPOINT} to resume from (" +
                       ("the run finished or never checkpointed" if holds_run(folder) else "no run there") +
                       "); drop --resume to start a new run" + (" with --force" if holds_run(folder) else ""))
    if not holds_run(folder):
        return False
    if force and not resume:
        clear_run(folder)
        return False
    if not resume:
        raise RunError(f"{folder} already holds a run: pass --resume to continue it, --force to overwrite it, or "
                       f"another --out")
    previous = read_results(folder).get("config", {})
    changed = [f"{option} {config.get(k)!r} (the run's: {previous.get(k)!r})" for k, option in RESUME_KEYS.items()
               if _jsonable(previous.get(k)) != _jsonable(config.get(k))]
    if changed:
        raise RunError(f"--resume of {folder} cannot change the problem: {'; '.join(changed)}. Resume with the "
                       f"run's settings, or start a new run with --force or another --out")
    return True


def check_resume_settings(folder, meta: dict, evaluator_identity: dict | None = None) -> None:
    """Refuse a resume whose search settings differ from the run's: `meta` holds algorithm, seed and pop_size as
    requested, `evaluator_identity` the requested evaluator's identity (its float-weight hash may be missing).

    Raises:
        RunError: naming every option that differs, with the run's value and the one given.
    """
    data = read_results(folder)
    changed = [f"{option} {meta[key]!r} (the run's: {data.get(key)!r})" for key, option in RESUME_FIXED.items()
               if key in meta and key in data and _jsonable(meta[key]) != _jsonable(data.get(key))]
    recorded = data.get("evaluator")
    if evaluator_identity is not None and isinstance(recorded, dict):
        keys = sorted(k for k in set(recorded) | set(evaluator_identity) if k not in RESUME_FREE_IDENTITY
                      and _jsonable(recorded.get(k)) != _jsonable(evaluator_identity.get(k)))
        if keys:
            options = sorted({EVALUATOR_OPTIONS.get(k, k) for k in keys})
            changed.append(f"{', '.join(options)} (evaluator {', '.join(keys)} differ from the run's)")
    if changed:
        raise RunError(f"--resume of {folder} cannot change " + "; ".join(changed) + ": the checkpoint continues "
                       f"the run's own search. Resume without them (--gen, --workers, --dask, --quiet apply), or "
                       f"start a new run with --force or another --out")


# ---- picking a solution --------------------------------------------------------------------------------
def _bits_list(values, what: str, error=GenomeError) -> list:
    if not isinstance(values, list) or not values:
        raise error(f"{what} must be a non-empty list of bitwidths (integers >= 1), got {values!r}")
    out = []
    for i, b in enumerate(values):
        if isinstance(b, bool) or not isinstance(b, (int, float)) or not float(b).is_integer() or b < 1:
            raise error(f"{what}[{i}] = {b!r} is not a bitwidth; allowed: integers >= 1")
        out.append(int(b))
    return out


def pick(data: dict, which="hv") -> tuple[int, dict]:
    """(front index, solution) of a results dict: "hv", "accuracy", "compression" leader or a front index.

    Raises:
        RunError: empty front, unknown pick, or index out of range.
    """
    front = data["front"]
    if not front:
        raise RunError("the run's front is empty (no candidate met the constraints): nothing to pick")
    text = str(which)
    if text in PICKS:
        index = data.get(f"{text}_leader")
        if index is None:
            raise RunError(f"this run has no {text} leader (objectives {data.get('objectives')}); pick another one "
                           f"or an index 0..{len(front) - 1}")
        return int(index), front[index]
    try:
        index = int(text)
    except ValueError:
        raise RunError(f"--pick {which!r}; allowed: {', '.join(PICKS)} or a front index 0..{len(front) - 1}") from None
    if not 0 <= index < len(front):
        raise RunError(f"--pick {index}: the front has {len(front)} solutions (0..{len(front) - 1})")
    return index, front[index]


def read_genome(path, n_layers: int | None = None) -> tuple[list, list]:
    """(bits_w, bits_a) from a genome JSON file: {"bits_w": [...], "bits_a": [...]}, a results.json (its
    HV-leader), or a trained.json.

    Raises:
        GenomeError: missing file, not UTF-8 JSON, malformed bits, out-of-range leader, wrong layer count.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GenomeError(f"--genome {path}: no such file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise GenomeError(f"--genome {path}: not a UTF-8 JSON file ({type(error).__name__}: {error})") from None
    if isinstance(data, dict) and "front" in data and "bits_w" not in data:
        front, index = data["front"], data.get("hv_leader")
        if not isinstance(front, list) or not front or index is None:
            raise GenomeError(f"--genome {path}: this results.json has an empty front; pick one genome file")
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(front):
            raise GenomeError(f"--genome {path}: hv_leader={index!r} is not an index of its {len(front)}-solution "
                              f"front")
        data = front[index]
    if not isinstance(data, dict) or "bits_w" not in data:
        raise GenomeError(f"--genome {path}: expected a JSON object with 'bits_w' (and 'bits_a') lists of "
                          f"bitwidths, e.g. an entry of a results.json 'front'")
    bits_w = _bits_list(data["bits_w"], f"--genome {path}: bits_w")
    bits_a = _bits_list(data.get("bits_a", data["bits_w"]), f"--genome {path}: bits_a")
    if len(bits_a) != len(bits_w) or (n_layers is not None and len(bits_w) != n_layers):
        raise GenomeError(f"--genome {path}: {len(bits_w)} bits_w / {len(bits_a)} bits_a entries, but the workload "
                          f"has {n_layers if n_layers is not None else len(bits_w)} layers")
    return bits_w, bits_a


def write_trained(folder, data: dict) -> Path:
    """Write folder/trained.json (folder is normally RUN/trained; keys test_accuracy, bits_w, bits_a, metrics)."""
    path = Path(folder) / TRAINED_JSON
    write_atomic(path, dumps({"schema_version": SCHEMA_VERSION, **data}))
    return path
