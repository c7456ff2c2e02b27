"""Accuracy fitness psi of a quantised network: brief fine-tuning (hw-flowq 3.2.1), a loss proxy (psum eq. 1),
and the final training from scratch of a chosen genome.

Every evaluator takes full-length per-layer genomes (`bits_w[l]`, `bits_a[l]` = bitwidth of layer l's weights
and INPUT activation, in forward order of the network's conv/linear layers, i.e. `evaluator.workload`);
fixing the first/last layers is the genome's job. psi is measured on the validation split held out of the
training data, never on the test set (hw-flowq 6).
"""

from __future__ import annotations

import copy
import math
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from flowq.cache import ResultCache, cache_key, default_cache_dir, digest_bytes
from flowq.data import ImageData, load_dataset
from flowq.environment import DEFAULT_THREADS, torch_threads
from flowq.errors import EvaluatorError, FlowQError, GenomeError
from flowq.models import build_model, custom, model_name, workload_of
from flowq.models.training import Diverged, TrainConfig, evaluate, steps_per_epoch, train
from flowq.progress import Phase
from flowq.quant import quantize_model
from flowq.quant.quantizers import ACTIVATION_QUANTIZERS, WEIGHT_QUANTIZERS, check_bits, quantizer_scheme

#: Images used to calibrate PACT clipping levels and re-estimate BatchNorm statistics after quantisation.
CALIBRATION_IMAGES = 256
#: Evaluations of a genome that failed (NaN loss, exception) before its failure is returned from the result cache:
#: a failure is retried once on the next request instead of being cached as truth after the first try.
MAX_ATTEMPTS = 2


@dataclass(frozen=True)
class AccuracyResult:
    """Outcome of one accuracy evaluation.

    Attributes:
        psi: accuracy in [0, 1] (validation split; test split for `train_from_scratch`); 0 when failed.
        loss: mean cross-entropy on the same images (LossProxy: quantised minus float, psum eq. 1); inf if failed.
        failed: True when training diverged (NaN/inf loss) instead of raising.
        reason: why it failed ("" otherwise).
        seconds: wall-clock time of the evaluation (of the original run when read from the result cache).
    """

    psi: float
    loss: float
    failed: bool = False
    reason: str = ""
    seconds: float = 0.0


def default_device() -> torch.device:
    """CUDA when available, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _device(device) -> torch.device:
    """A torch.device from None (default), a name or a device; EvaluatorError when unknown or unavailable."""
    if device is None:
        return default_device()
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise EvaluatorError(f"device={device!r}: {error}; use cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise EvaluatorError(f"device={device}: CUDA is not available on this machine; use --device cpu")
    return device


@dataclass
class _State:
    """Heavy, unpicklable-by-design state built on first use (data on the device, float network)."""

    data: ImageData
    float_model: nn.Module | None = None
    float_metrics: dict = field(default_factory=dict)
    float_key: str = ""
    data_fingerprint: dict | None = None  # model definition, split and device hashes (`_fingerprint`)
    fingerprint: dict | None = None       # the same plus the float weights' hash


class _Evaluator:
    """Shared configuration, lazy state and float-model cache of the evaluators.

    Args:
        model: name in `flowq.models.MODELS`.
        dataset: "digits" (default), "cifar10" or "imagefolder" (`data_root` needed).
        seed: seeds float training, fine-tuning and data order (deterministic on CPU).
        device: "cpu", "cuda", a torch.device or None (CUDA if available).
        cache_dir: float weights and the sqlite result cache live here (None: $FLOWQ_CACHE_DIR or ~/.cache/flowq).
        data_root: folder of cifar10 / imagefolder data.
        image_size: digits / imagefolder image side in pixels (None: 32 / 224).
        train_config: base-model SGD hyperparameters (`TrainConfig()`: 15 epochs, lr 0.1, batch 128, cosine).
        weight_quantizer, act_quantizer: names in `flowq.quant.WEIGHT_QUANTIZERS` / `ACTIVATION_QUANTIZERS`.
        quantizer: a scheme of `flowq.quant.QUANTIZER_SCHEMES` ("pact", "dorefa", "wrpn", "xnor") setting both
            (overrides weight_quantizer / act_quantizer).
        use_result_cache: look evaluated genomes up in / store them to `cache_dir/results.sqlite`.
        threads: torch intra-op threads of everything this evaluator computes (float training, fine-tuning,
            evaluation), whichever process runs it; part of its identity and cache keys, since psi depends on it
            (default `flowq.environment.DEFAULT_THREADS`, 1).
        weights: a file with the model's pretrained float state dict (`torch.save(model.state_dict(), f)`, or
            {"state_dict": ...}): it is the float network (no float training); its accuracy is measured once.

    Raises:
        EvaluatorError: unknown quantiser or device, threads not an integer >= 1. WorkloadError: unknown model.
    """

    kind = "base"

    def __init__(self, model: str = "resnet20", dataset: str = "digits", *, seed: int = 0, device=None,
                 cache_dir: str | os.PathLike | None = None, data_root: str | os.PathLike | None = None,
                 image_size: int | None = None, train_config: TrainConfig | None = None,
                 weight_quantizer: str = "dorefa", act_quantizer: str = "pact", quantizer: str | None = None,
                 threads: int = DEFAULT_THREADS,
                 use_result_cache: bool = True, weights: str | os.PathLike | None = None):
        self.model_name = model_name(model)
        self._model = model if isinstance(model, nn.Module) else self.model_name  # what build_model is given
        self.dataset_name = str(dataset).lower()
        self.seed = int(seed)
        if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
            raise EvaluatorError(f"threads={threads!r}; allowed: an integer >= 1 (torch intra-op threads)")
        self.threads = int(threads)
        self.device = _device(device)
        if quantizer is not None:
            try:
                weight_quantizer, act_quantizer = quantizer_scheme(quantizer)
            except GenomeError as error:
                raise EvaluatorError(str(error)) from None
        if weight_quantizer not in WEIGHT_QUANTIZERS or act_quantizer not in ACTIVATION_QUANTIZERS:
            raise EvaluatorError(f"quantisers {weight_quantizer!r} / {act_quantizer!r}; allowed weights: "
                                 f"{', '.join(WEIGHT_QUANTIZERS)}; activations: {', '.join(ACTIVATION_QUANTIZERS)}")
        self.quantizer = quantizer
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        self.data_root = None if data_root is None else str(Path(data_root).expanduser().resolve())  # recorded
        self.image_size = image_size
        self.train_config = train_config or TrainConfig()
        self.weight_quantizer = weight_quantizer
        self.act_quantizer = act_quantizer
        self.use_result_cache = use_result_cache
        if custom.is_spec(self._model):
            custom.load_factory(self._model)  # fail early on a spec that does not import
        elif not isinstance(self._model, nn.Module):
            build_model(self._model)  # fail early on an unknown model name (cheap)
        self.weights = None if weights is None else str(Path(weights).expanduser().resolve())
        if self.weights is not None and not Path(self.weights).is_file():
            raise EvaluatorError(f"--weights {self.weights}: no such file (a torch.save'd state dict of the model)")
        self._weights_digest = None if self.weights is None else digest_bytes(Path(self.weights).read_bytes())
        self._state: _State | None = None
        self._workload = None

    # ---- pickling: configuration only; heavy state is rebuilt lazily in the worker -----------------------
    def __getstate__(self):
        state = self.__dict__.copy()
        state["_state"] = None
        return state

    # ---- lazy state --------------------------------------------------------------------------------------
    def _data(self) -> ImageData:
        if self._state is None:
            data = load_dataset(self.dataset_name, root=self.data_root, image_size=self.image_size)
            self._state = _State(data=data.to(self.device))
        return self._state.data

    def _new_model(self) -> nn.Module:
        data = self._data()
        return build_model(self._model, data.num_classes, data.input_shape).to(self.device)

    @property
    def workload(self):
        """list[hwmodels.workload.Layer] of the network, from `flowq.models.workload_of` (batch 1)."""
        if self._workload is None:
            self._workload = workload_of(self._new_model(), self._data().input_shape)
        return self._workload

    @property
    def n_layers(self) -> int:
        """Number of conv/linear layers = genome length per operand."""
        return len(self.workload)

    def _float_key(self) -> str:
        base = asdict(self.train_config)
        base.pop("finetune_lr_scale")  # fine-tuning only, the float network does not depend on it
        base.update(self._numerics())  # training in another thread count or torch build gives other weights
        extra = {}
        if self._model is not self.model_name or custom.is_spec(self._model):  # the user's own definition
            extra["model_def"] = self._fingerprint(float_weights=False)["model_def"]
        if self.weights is not None:  # pretrained weights: the file's content is the float network
            extra = dict(extra, weights=self._weights_digest)
            base = None
        return cache_key(kind="float", model=self.model_name, dataset=self.dataset_name, seed=self.seed,
                         image_size=self.image_size, data_root=str(self.data_root), train=base, **extra)

    def _numerics(self) -> dict:
        """What changes trained weights and psi in their last bits besides the recipe: torch threads and build."""
        return {"threads": self.threads, "torch": torch.__version__}

    def prepare(self) -> None:
        """Build the one-off state in this process: data, and the float network (trained once if not cached).
        Parallel executors call it in the driver before shipping the evaluator, so that workers load the float
        network instead of all training it at once."""
        self._fingerprint()

    def _float(self) -> nn.Module:
        """The pretrained float network (trained once per key and cached on disk)."""
        data = self._data()
        if self._state.float_model is None:
            key = self._float_key()
            slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.model_name)[-48:]
            path = self.cache_dir / "models" / f"{slug}-{self.dataset_name}-seed{self.seed}-{key}.pt"
            model = self._new_model()
            start = time.perf_counter()
            if self.weights is not None:
                metrics, self._float_source = self._pretrained(model, data), "weights"
            elif path.is_file():
                saved = torch.load(path, map_location=self.device, weights_only=True)
                model.load_state_dict(saved["state_dict"])
                metrics, self._float_source = saved["metrics"], "cache"
            else:
                with torch_threads(self.threads):
                    metrics, self._float_source = self._train_float(model, data), "trained"
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".tmp{os.getpid()}")
                torch.save({"state_dict": model.state_dict(), "metrics": metrics}, tmp)
                os.replace(tmp, path)  # atomic: concurrent workers never read a half-written file
            model.eval()
            self._float_seconds = time.perf_counter() - start
            self._state.float_model, self._state.float_metrics, self._state.float_key = model, metrics, key
        return self._state.float_model

    _float_source = None  # how this process got the float network: "trained", "cache" or "weights" (None: not yet)

    def float_phase(self) -> str | None:
        """A summary line part on the float network of this process (None when it was not needed)."""
        if self._state is None or self._float_source is None:
            return None
        metrics = self._state.float_metrics
        psi = f"validation accuracy {100 * float(metrics['val_accuracy']):.2f} %"
        if self._float_source == "trained":
            return f"float training {self._float_seconds:.1f} s ({psi})"
        if self._float_source == "weights":
            return f"pretrained weights {self.weights} measured in {self._float_seconds:.1f} s ({psi})"
        return f"float network from the cache ({psi})"

    def _pretrained(self, model: nn.Module, data: ImageData) -> dict:
        """Load `self.weights` into `model`; its validation and test accuracy (fractions), no training."""
        try:
            saved = torch.load(self.weights, map_location=self.device, weights_only=True)
        except Exception as error:
            raise EvaluatorError(f"--weights {self.weights}: not a torch state dict ({type(error).__name__}: "
                                 f"{error})") from None
        state = saved.get("state_dict", saved) if isinstance(saved, dict) else saved
        if not isinstance(state, dict):
            raise EvaluatorError(f"--weights {self.weights}: holds a {type(state).__name__}, expected a state dict "
                                 f"(torch.save(model.state_dict(), path))")
        try:
            model.load_state_dict(state)
        except RuntimeError as error:
            raise EvaluatorError(f"--weights {self.weights} does not fit {self.model_name} built for "
                                 f"{data.num_classes} classes and input {data.input_shape}: "
                                 f"{' '.join(str(error).split())[:400]}") from None
        val_acc, val_loss = evaluate(model, data.val_x, data.val_y)
        test_acc, test_loss = evaluate(model, data.test_x, data.test_y)
        return {"val_accuracy": val_acc, "val_loss": val_loss, "test_accuracy": test_acc, "test_loss": test_loss,
                "train_seconds": 0.0, "weights": self.weights}

    def _train_float(self, model: nn.Module, data: ImageData) -> dict:
        torch.manual_seed(self.seed)
        model.load_state_dict(build_model(self._model, data.num_classes, data.input_shape).state_dict())
        generator = torch.Generator().manual_seed(self.seed)
        cfg = self.train_config
        start = time.perf_counter()
        per_epoch = steps_per_epoch(len(data.train_y), cfg.batch_size)
        steps = cfg.epochs * per_epoch
        phase = Phase(f"[float {self.model_name}/{self.dataset_name}]", steps, "step")
        phase.start(f"training the float network: {cfg.epochs} epochs ({steps} steps) on {self.device.type}, "
                    f"{self.threads} thread(s); cached for later runs")
        train(model, data.train_x, data.train_y, steps=steps, lr=cfg.lr, config=cfg, generator=generator,
              padding=data.padding, flip=data.flip,
              on_step=lambda step: phase.step(note=f"epoch {(step - 1) // per_epoch + 1}/{cfg.epochs}"))
        val_acc, val_loss = evaluate(model, data.val_x, data.val_y)
        test_acc, test_loss = evaluate(model, data.test_x, data.test_y)
        phase.end(f"validation accuracy {100 * val_acc:.2f} %")
        return {"val_accuracy": val_acc, "val_loss": val_loss, "test_accuracy": test_acc, "test_loss": test_loss,
                "train_seconds": time.perf_counter() - start}

    @property
    def float_accuracy(self) -> float:
        """psi of the float network on the validation split, in [0, 1]."""
        self._float()
        return float(self._state.float_metrics["val_accuracy"])

    @property
    def float_test_accuracy(self) -> float:
        """Test-split accuracy of the float network (for reports only; never used as fitness)."""
        self._float()
        return float(self._state.float_metrics["test_accuracy"])

    # ---- genome handling -----------------------------------------------------------------------------------
    def _genome(self, bits_w: Sequence[int], bits_a: Sequence[int]) -> tuple[list[int], list[int]]:
        bw, ba = np.asarray(bits_w).ravel().tolist(), np.asarray(bits_a).ravel().tolist()
        for what, values in (("bits_w", bw), ("bits_a", ba)):
            if len(values) != self.n_layers:
                raise GenomeError(f"{what} has {len(values)} entries; {self.model_name} has {self.n_layers} "
                                  f"conv/linear layers (evaluator.workload), give one bitwidth per layer")
        return ([check_bits(b, f"bits_w[{i}]") for i, b in enumerate(bw)],
                [check_bits(b, f"bits_a[{i}]") for i, b in enumerate(ba)])

    def _quantized(self, model: nn.Module, bw: list[int], ba: list[int]) -> nn.Module:
        calibration = self._data().train_x[:CALIBRATION_IMAGES]
        model = quantize_model(model, bw, ba, weight_quantizer=self.weight_quantizer,
                               act_quantizer=self.act_quantizer, example_input=calibration)
        if self.crossbar is not None:  # ReRAM hook: crossbar forward with r-bit ADCs (flowq.quant.crossbar)
            from flowq.quant.crossbar import crossbar_model

            crossbar_model(model, self.crossbar, example_input=calibration)
        return model

    # ---- ReRAM hook: every layer computed on crossbars ------------------------------------------------------
    #: `flowq.quant.crossbar.CrossbarConfig` (bit slicing, chunk rows, per-layer ADC bits) or None (plain)
    crossbar = None

    def with_crossbar(self, config) -> "_Evaluator":
        """This evaluator (sharing its data, float network and caches) with the crossbar-aware forward of
        `config` (a `CrossbarConfig`, e.g. `CrossbarConfig.from_spec(reram_spec, adc_bits)`); None = plain."""
        clone = copy.copy(self)
        clone.crossbar = config
        return clone

    def _result_cache(self) -> ResultCache | None:
        return ResultCache(self.cache_dir / "results.sqlite") if self.use_result_cache else None

    def _cached(self, key: str, compute) -> AccuracyResult:
        """The cached result of `key`, else `compute()` stored under it. A failed result is stored with its attempt
        count and computed again on the next request until `MAX_ATTEMPTS` attempts have failed."""
        cache = self._result_cache()
        hit = cache.get(key) if cache is not None else None
        attempts = 0
        if hit is not None:
            hit = dict(hit)
            attempts = int(hit.pop("attempts", 1))
            cached = AccuracyResult(**{k: v for k, v in hit.items() if k in _RESULT_FIELDS})
            if not cached.failed or attempts >= MAX_ATTEMPTS:
                return cached
        with torch_threads(self.threads):
            result = compute()
        if cache is not None:
            value = asdict(result)
            if result.failed:
                value["attempts"] = attempts + 1
            cache.put(key, value, model=self.model_name, kind=self.kind, parts=self._key_parts)
        return result

    def identity(self, float_weights: bool = True) -> dict:
        """What determines this evaluator's psi, as plain JSON: kind, model, dataset, the float network (its
        training key, own seed and weight hash), quantisers, data folder and the kind's own settings. Two runs
        whose identities are equal measured psi the same way (`flowq.runs.accuracy_records` relies on it).
        `float_weights=False` leaves out the weight hash (which needs the trained float network)."""
        weights = self._fingerprint().get("float_weights") if float_weights else None
        return {"kind": self.kind, "model": self.model_name, "dataset": self.dataset_name, "seed": self.seed,
                "float_key": self._float_key(), "float_weights_sha256": weights,
                "weight_quantizer": self.weight_quantizer, "act_quantizer": self.act_quantizer,
                "data_root": None if self.data_root is None else str(self.data_root), "image_size": self.image_size,
                **self._numerics(), **self._identity_extra(),
                "options": self._options()}

    def _identity_extra(self) -> dict:
        return {}

    def _options(self) -> dict:
        """Constructor options that rebuild this evaluator (`flowq.flow.Flow.from_run`)."""
        options = {"weight_quantizer": self.weight_quantizer, "act_quantizer": self.act_quantizer,
                   "device": str(self.device), "threads": self.threads}
        if self.quantizer is not None:
            options["quantizer"] = self.quantizer
        if self.data_root is not None:
            options["data_root"] = str(self.data_root)
        if self.image_size is not None:
            options["image_size"] = self.image_size
        if self.weights is not None:
            options["weights"] = self.weights
        return options

    def _fingerprint(self, float_weights: bool = True) -> dict:
        """What identifies the float network and the data beyond their names (memoised per process): a hash of
        the model definition (module tree), of the float weights, of the validation split, and the device type.
        `float_weights=False` (training from scratch) leaves the float network out, so it is never trained."""
        data = self._data()
        if self._state.data_fingerprint is None:
            split = b"".join(t.cpu().numpy().tobytes() for t in (data.val_y, data.train_y, data.test_y))
            self._state.data_fingerprint = {"model_def": digest_bytes(repr(self._new_model()).encode()),
                                            "split": digest_bytes(split), "device": self.device.type}
        if not float_weights:
            return dict(self._state.data_fingerprint)
        if self._state.fingerprint is None:
            weights = b"".join(t.detach().cpu().numpy().tobytes() for t in self._float().state_dict().values())
            self._state.fingerprint = {**self._state.data_fingerprint, "float_weights": digest_bytes(weights)}
        return self._state.fingerprint

    def _key(self, bw, ba, float_weights: bool = True, **extra) -> str:
        self._key_parts = dict(kind=self.kind, model=self.model_name, dataset=self.dataset_name,
                               float_key=self._float_key(), bits_w=bw, bits_a=ba,
                               weight_quantizer=self.weight_quantizer, act_quantizer=self.act_quantizer,
                               seed=self.seed, **self._numerics(), **self._fingerprint(float_weights), **extra,
                               **({"crossbar": self.crossbar.key()} if self.crossbar is not None else {}))
        return cache_key(**self._key_parts)


def reestimate_batchnorm(model: nn.Module, x: torch.Tensor, batch_size: int = 256) -> None:
    """Recompute BatchNorm running statistics of `model` on images `x` (no gradient, weights untouched).

    Quantising weights shifts every conv output, so the float network's running statistics no longer fit; a
    cumulative average over a few batches fixes that before fine-tuning starts.
    """
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [bn.momentum for bn in bns]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative moving average
    model.train()
    with torch.no_grad():
        for start in range(0, x.shape[0], batch_size):
            model(x[start:start + batch_size])
    for bn, momentum in zip(bns, momenta):
        bn.momentum = momentum


_RESULT_FIELDS = frozenset(AccuracyResult.__dataclass_fields__)


def _failed(reason: str, start: float) -> AccuracyResult:
    return AccuracyResult(psi=0.0, loss=math.inf, failed=True, reason=reason, seconds=time.perf_counter() - start)


class FineTuneEvaluator(_Evaluator):
    """psi after briefly fine-tuning the quantised pretrained network (hw-flowq 3.2.1).

    Per genome: copy the float network, quantise it (PACT alphas calibrated, BatchNorm statistics re-estimated on
    `CALIBRATION_IMAGES` training images), fine-tune with SGD (base-model momentum, weight decay and batch size;
    learning rate lr * finetune_lr_scale decayed by cosine) for `steps` steps or `epochs` epochs of the training
    split, and measure accuracy on the validation split. A NaN/inf loss gives a failed result (psi = 0).

    Args:
        model, dataset, seed, device, cache_dir, ...: see `_Evaluator`.
        epochs: fine-tuning length in epochs of the training split (fractions allowed); ignored if `steps` given.
        steps: fine-tuning length in SGD steps (0 = quantise and re-estimate BatchNorm only).
    """

    kind = "finetune"

    def __init__(self, model: str = "resnet20", dataset: str = "digits", *, epochs: float = 1.0,
                 steps: int | None = None, seed: int = 0, device=None, cache_dir=None, **kwargs):
        super().__init__(model, dataset, seed=seed, device=device, cache_dir=cache_dir, **kwargs)
        if steps is not None and (isinstance(steps, bool) or int(steps) != steps or steps < 0):
            raise EvaluatorError(f"steps={steps!r}; allowed: an integer >= 0 (or None to use epochs)")
        if isinstance(epochs, bool) or not isinstance(epochs, (int, float)) or not epochs >= 0:
            raise EvaluatorError(f"epochs={epochs!r}; allowed: a number >= 0")
        self.epochs, self.steps = float(epochs), None if steps is None else int(steps)

    @property
    def finetune_steps(self) -> int:
        """SGD steps one evaluation runs."""
        if self.steps is not None:
            return self.steps
        data = self._data()
        return int(round(self.epochs * steps_per_epoch(len(data.train_y), self.train_config.batch_size)))

    def evaluate(self, bits_w: Sequence[int], bits_a: Sequence[int]) -> AccuracyResult:
        """Fine-tune the genome's quantised network and return psi on the validation split.

        Args:
            bits_w, bits_a: per-layer weight / input-activation bitwidths, length `n_layers`, bits.

        Raises:
            GenomeError: wrong length or a bitwidth < 1.
        """
        bw, ba = self._genome(bits_w, bits_a)
        steps = self.finetune_steps
        key = self._key(bw, ba, steps=steps, lr_scale=self.train_config.finetune_lr_scale)
        return self._cached(key, lambda: self._finetune(bw, ba, steps))

    def _finetune(self, bw: list[int], ba: list[int], steps: int) -> AccuracyResult:
        start = time.perf_counter()
        data, cfg = self._data(), self.train_config
        torch.manual_seed(self.seed)
        model = self._quantized(copy.deepcopy(self._float()), bw, ba)
        reestimate_batchnorm(model, data.train_x[:CALIBRATION_IMAGES])
        if steps > 0:
            try:
                train(model, data.train_x, data.train_y, steps=steps, lr=cfg.lr * cfg.finetune_lr_scale, config=cfg,
                      generator=torch.Generator().manual_seed(self.seed), padding=data.padding, flip=data.flip)
            except Diverged as exc:
                return _failed(f"{exc} while fine-tuning (PACT at <= 4 bits can diverge)", start)
            except (RuntimeError, ValueError, ArithmeticError) as exc:  # e.g. out of memory, a NaN-checking op
                if isinstance(exc, FlowQError):
                    raise
                return _failed(f"{type(exc).__name__} while fine-tuning: {exc}", start)
        psi, loss = evaluate(model, data.val_x, data.val_y)
        if not math.isfinite(loss):
            return _failed("validation loss is not finite after fine-tuning", start)
        return AccuracyResult(psi=psi, loss=loss, seconds=time.perf_counter() - start)

    def train_from_scratch(self, bits_w: Sequence[int], bits_a: Sequence[int], *,
                           epochs: int | None = None) -> AccuracyResult:
        """Train the genome's quantised network from random initialisation and report TEST accuracy.

        The final step for a chosen solution (hw-flowq 6): base-model hyperparameters, `epochs`
        (default `train_config.epochs`), quantisation-aware from the first step. psi and loss are on the test split.
        """
        bw, ba = self._genome(bits_w, bits_a)
        epochs = self.train_config.epochs if epochs is None else _check_epochs(epochs)
        key = self._key(bw, ba, float_weights=False, scratch_epochs=epochs)
        return self._cached(key, lambda: self.train_final(bw, ba, epochs=epochs)[0])

    def train_final(self, bits_w: Sequence[int], bits_a: Sequence[int], *, epochs: float | None = None,
                    from_scratch: bool = True) -> tuple[AccuracyResult, nn.Module | None]:
        """Train a chosen genome's quantised network and measure it on the TEST split (not cached).

        Args:
            bits_w, bits_a: per-layer bitwidths, length `n_layers`.
            epochs: training epochs (default `train_config.epochs`); fractions allowed.
            from_scratch: True trains from random initialisation with the base-model recipe (hw-flowq 6: "we train
                it from scratch"); False fine-tunes the pretrained float network longer (lr * finetune_lr_scale).

        Returns:
            (result with psi/loss on the test split, the trained quantised model, or None when training failed).
        """
        bw, ba = self._genome(bits_w, bits_a)
        epochs = self.train_config.epochs if epochs is None else _check_epochs(epochs)
        if not from_scratch:
            self._float()  # trained (if not cached yet) before the clock starts
        with torch_threads(self.threads):
            return self._train_final(bw, ba, epochs, from_scratch)

    def _train_final(self, bw: list[int], ba: list[int], epochs: float, from_scratch: bool):
        cfg = self.train_config
        start = time.perf_counter()
        data = self._data()
        torch.manual_seed(self.seed)
        if from_scratch:
            model, lr = self._quantized(self._new_model(), bw, ba), cfg.lr
        else:
            model, lr = self._quantized(copy.deepcopy(self._float()), bw, ba), cfg.lr * cfg.finetune_lr_scale
            reestimate_batchnorm(model, data.train_x[:CALIBRATION_IMAGES])
        steps = int(round(epochs * steps_per_epoch(len(data.train_y), cfg.batch_size)))
        what = "training from scratch" if from_scratch else "fine-tuning"
        if steps > 0:
            try:
                train(model, data.train_x, data.train_y, steps=steps, lr=lr, config=cfg,
                      generator=torch.Generator().manual_seed(self.seed), padding=data.padding, flip=data.flip)
            except Diverged as exc:
                return _failed(f"{exc} while {what}", start), None
        psi, loss = evaluate(model, data.test_x, data.test_y)
        if not math.isfinite(loss):
            return _failed(f"test loss is not finite after {what}", start), None
        return AccuracyResult(psi=psi, loss=loss, seconds=time.perf_counter() - start), model

    def _identity_extra(self) -> dict:
        return {"epochs": self.epochs, "steps": self.steps, "lr_scale": self.train_config.finetune_lr_scale}


class LossProxyEvaluator(_Evaluator):
    """Cheap screening: cross-entropy of the quantised minus the float network on one fixed batch (psum eq. 1).

    No fine-tuning and no BatchNorm re-estimation: the float network's weights and statistics are quantised as
    they are. `loss` is Cost_accuracy = Loss_quantization - Loss_original (>= 0 when quantisation hurts); `psi` is
    the quantised network's accuracy on that batch. The batch is `batch_size` images of the validation split
    chosen with `seed`.
    """

    kind = "lossproxy"

    def __init__(self, model: str = "resnet20", dataset: str = "digits", *, batch_size: int = 256, seed: int = 0,
                 device=None, cache_dir=None, **kwargs):
        kwargs.setdefault("use_result_cache", False)  # cheaper to recompute than to look up
        super().__init__(model, dataset, seed=seed, device=device, cache_dir=cache_dir, **kwargs)
        if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
            raise EvaluatorError(f"batch_size={batch_size!r}; allowed: an integer >= 1")
        self.batch_size = int(batch_size)
        self._batch = None

    def __getstate__(self):
        state = super().__getstate__()
        state["_batch"] = None
        return state

    def _fixed_batch(self):
        """(x, y, float loss, float accuracy) of the fixed batch; psi and psi* are both measured on it."""
        if self._batch is None:
            data = self._data()
            float_model = self._float()  # trained (if not cached yet) outside no_grad: training needs gradients
            n = min(self.batch_size, len(data.val_y))
            index = torch.randperm(len(data.val_y), generator=torch.Generator().manual_seed(self.seed))[:n]
            x, y = data.val_x[index.to(data.val_x.device)], data.val_y[index.to(data.val_y.device)]
            float_model.eval()
            with torch.no_grad(), torch_threads(self.threads):
                logits = float_model(x)
                float_loss = float(F.cross_entropy(logits, y))
                float_psi = float((logits.argmax(1) == y).float().mean())
            self._batch = (x, y, float_loss, float_psi)
        return self._batch

    @property
    def float_accuracy(self) -> float:
        """psi* of the float network on the proxy's batch: the same images psi is measured on."""
        return self._fixed_batch()[3]

    def _identity_extra(self) -> dict:
        return {"batch_size": self.batch_size}

    def _options(self) -> dict:
        return dict(super()._options(), batch_size=self.batch_size)

    def evaluate(self, bits_w: Sequence[int], bits_a: Sequence[int]) -> AccuracyResult:
        """psum eq. 1 for the genome: (accuracy on the batch, CE_quantised - CE_float)."""
        bw, ba = self._genome(bits_w, bits_a)
        key = self._key(bw, ba, batch_size=self.batch_size)
        return self._cached(key, lambda: self._proxy(bw, ba))

    def _proxy(self, bw: list[int], ba: list[int]) -> AccuracyResult:
        start = time.perf_counter()
        x, y, float_loss, _ = self._fixed_batch()
        model = self._quantized(copy.deepcopy(self._float()), bw, ba).eval()
        with torch.no_grad():
            logits = model(x)
            loss = float(F.cross_entropy(logits, y))
        if not math.isfinite(loss):
            return _failed("quantised network's loss is not finite", start)
        psi = float((logits.argmax(1) == y).float().mean())
        return AccuracyResult(psi=psi, loss=loss - float_loss, seconds=time.perf_counter() - start)


def _check_epochs(epochs) -> float:
    if isinstance(epochs, bool) or not isinstance(epochs, (int, float)) or not epochs >= 0 or math.isinf(epochs):
        raise EvaluatorError(f"epochs={epochs!r}; allowed: a finite number >= 0")
    return epochs


def train_from_scratch(bits_w: Sequence[int], bits_a: Sequence[int], *, model: str = "resnet20",
                       dataset: str = "digits", epochs: int | None = None, **kwargs) -> AccuracyResult:
    """Train a genome's quantised network from scratch and return its TEST accuracy (see
    `FineTuneEvaluator.train_from_scratch`; kwargs go to the evaluator)."""
    return FineTuneEvaluator(model, dataset, **kwargs).train_from_scratch(bits_w, bits_a, epochs=epochs)
