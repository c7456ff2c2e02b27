"""The flow's last step (hw-flowq 6): train a run's chosen genome, measure it on the TEST split, save and export it.

    RUN/trained/trained.json   test_accuracy (fraction), bits_w, bits_a, metrics (the run's hardware figures of
                               the genome), pick, epochs, mode, search accuracy (validation psi), float network
    RUN/trained/model.pt       the quantised model's state_dict with its bits
    RUN/trained/model.onnx     weights on their quantisation grids, per-layer bits as metadata (needs onnx)
    RUN/trained/model_qdq.onnx, model_qonnx.onnx
                               `export=("qdq", "qonnx")`: standard quantised ONNX (`flowq.quantized_onnx`), each
                               run on the validation split and compared with the PyTorch model (trained.json
                               "exports": argmax agreement, largest logit difference)
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from flowq import runs

ACCURACY_KEYS_PREFIX = "accuracy"


def train_run(run, *, pick="hv", epochs: float | None = None, from_scratch: bool = True, out=None,
              evaluator_kwargs: dict | None = None, evaluator_seed: int | None = None,
              verbose: bool = False, export=()) -> dict:
    """Train the picked genome of run folder `run` and write `out` (default RUN/trained).

    The evaluator is a `FineTuneEvaluator` with the run's recorded model, dataset, quantiser, data folder and own
    seed (so "fine-tune longer" starts from the same float network the search used); `evaluator_kwargs` override.

    Args:
        run: run folder.
        pick: "hv", "accuracy", "compression" or a front index (`flowq.runs.pick`).
        epochs: training epochs (default: the base recipe's).
        from_scratch: True: random initialisation (hw-flowq 6); False: fine-tune the pretrained float network.
        out: output folder.
        evaluator_kwargs: evaluator options (device, quantizer, data_root, ...).
        evaluator_seed: overrides the run's evaluator seed.
        export: standard quantised ONNX files to write and check: any of "qdq", "qonnx" (`flowq.quantized_onnx`).

    Returns:
        The trained.json content plus "folder".
    """
    import torch

    from flowq.accuracy import FineTuneEvaluator
    from flowq.export import export_onnx, onnx_available

    from flowq.quantized_onnx import check_export_formats

    export = check_export_formats(export)  # a missing onnxruntime / qonnx is reported before training
    data = runs.read_results(run)
    index, solution = runs.pick(data, pick)
    config, recorded = data["config"], dict(data.get("evaluator") or {})
    options = {k: v for k, v in dict(recorded.get("options") or {}).items()
               if k in ("quantizer", "weight_quantizer", "act_quantizer", "data_root", "image_size", "device",
                        "threads", "weights")}  # weights: the run's pretrained float network (--finetune starts there)
    options.update(evaluator_kwargs or {})
    if "quantizer" in (evaluator_kwargs or {}):
        options.pop("weight_quantizer", None)
        options.pop("act_quantizer", None)
    seed = recorded.get("seed", 0) if evaluator_seed is None else evaluator_seed
    evaluator = FineTuneEvaluator(config["model"], config["dataset"], seed=seed, **options)
    bits_w, bits_a = list(solution["bits_w"]), list(solution["bits_a"])
    folder = Path(out) if out is not None else runs.results_path(run).parent / runs.TRAINED
    mode = "scratch" if from_scratch else "finetune"
    if verbose:
        print(f"training {config['model']} genome #{index} ({pick}) {mode} for "
              f"{epochs if epochs is not None else evaluator.train_config.epochs} epochs on {evaluator.device}",
              file=sys.stderr, flush=True)
    result, model = evaluator.train_final(bits_w, bits_a, epochs=epochs, from_scratch=from_scratch)
    metrics = {k: v for k, v in solution["metrics"].items() if not k.startswith(ACCURACY_KEYS_PREFIX)}
    summary = {
        "run_id": data["run_id"], "pick": str(pick), "index": index, "mode": mode,
        "epochs": epochs if epochs is not None else evaluator.train_config.epochs,
        "test_accuracy": None if result.failed else result.psi, "test_loss": result.loss,
        "failed": result.failed, "reason": result.reason, "seconds": result.seconds,
        "bits_w": bits_w, "bits_a": bits_a, "level": data["level"], "hw": config.get("hw"),
        "dataflow": config.get("dataflow"), "metrics": metrics,
        "search_accuracy": solution["metrics"].get(ACCURACY_KEYS_PREFIX), "model": config["model"],
        "dataset": config["dataset"], "layer_names": config.get("layer_names"),
        "float_test_accuracy": evaluator.float_test_accuracy if not from_scratch else None,
        "evaluator": evaluator.identity(float_weights=not from_scratch),  # scratch never trains a float net
    }
    if model is not None:
        buffer = io.BytesIO()
        torch.save({"state_dict": model.state_dict(), "bits_w": bits_w, "bits_a": bits_a, "model": config["model"],
                    "dataset": config["dataset"], "weight_quantizer": evaluator.weight_quantizer,
                    "act_quantizer": evaluator.act_quantizer}, buffer)
        runs.write_atomic(folder / runs.TRAINED_WEIGHTS, buffer.getvalue())
        summary["weights"] = runs.TRAINED_WEIGHTS
        if onnx_available():
            example = evaluator._data().test_x[:1]
            export_onnx(model, example, folder / runs.TRAINED_ONNX, {
                "bits_w": bits_w, "bits_a": bits_a, "model": config["model"], "test_accuracy": result.psi})
            summary["onnx"] = runs.TRAINED_ONNX
        else:
            summary["onnx"] = None
            summary["onnx_skipped"] = "onnx is not installed (pip install onnx)"
        if export:
            summary["exports"] = _export_checked(model, evaluator._data(), folder, export, {
                "bits_w": bits_w, "bits_a": bits_a, "model": config["model"], "test_accuracy": result.psi}, verbose)
    runs.write_trained(folder, summary)
    return dict(summary, folder=str(folder))


def _export_checked(model, data, folder: Path, formats, metadata: dict, verbose: bool) -> dict:
    """Write each standard quantised ONNX file and run it on the validation split against the PyTorch model."""
    from flowq.quantized_onnx import FILES, check, export_quantized

    out = {}
    for fmt in formats:
        path = export_quantized(model, data.val_x[:1], folder / FILES[fmt], fmt, metadata)
        out[fmt] = {"file": FILES[fmt], "split": "validation", **check(path, model, data.val_x, fmt)}
        if verbose:
            print(f"{FILES[fmt]}: {out[fmt]['runtime']} on {out[fmt]['images']} validation images: argmax agrees "
                  f"on {100 * out[fmt]['argmax_agreement']:.2f} %, largest logit difference "
                  f"{out[fmt]['max_abs_logit_diff']:.3g}", file=sys.stderr, flush=True)
    return out
