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
from flowq.errors import GenomeError
from flowq.models import build_model, workload_of
from flowq.models.training import Diverged, TrainConfig, evaluate, steps_per_epoch, train
from flowq.quant import quantize_model
from flowq.quant.quantizers import check_bits

#: Images used to calibrate PACT clipping levels and re-estimate BatchNorm statistics after quantisation.
CALIBRATION_IMAGES = 256


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


@dataclass
class _State:
    """Heavy, unpicklable-by-design state built on first use (data on the device, float network)."""

    data: ImageData
    float_model: nn.Module | None = None
    float_metrics: dict = field(default_factory=dict)
    float_key: str = ""


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
        use_result_cache: look evaluated genomes up in / store them to `cache_dir/results.sqlite`.
    """

    kind = "base"

    def __init__(self, model: str = "resnet20", dataset: str = "digits", *, seed: int = 0, device=None,
                 cache_dir: str | os.PathLike | None = None, data_root: str | os.PathLike | None = None,
                 image_size: int | None = None, train_config: TrainConfig | None = None,
                 weight_quantizer: str = "dorefa", act_quantizer: str = "pact", use_result_cache: bool = True):
        self.model_name = str(model).lower()
        self.dataset_name = str(dataset).lower()
        self.seed = int(seed)
        self.device = torch.device(device) if device is not None else default_device()
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        self.data_root = data_root
        self.image_size = image_size
        self.train_config = train_config or TrainConfig()
        self.weight_quantizer = weight_quantizer
        self.act_quantizer = act_quantizer
        self.use_result_cache = use_result_cache
        build_model(self.model_name)  # fail early on an unknown model name (cheap)
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
        return build_model(self.model_name, data.num_classes, data.input_shape).to(self.device)

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
        return cache_key(kind="float", model=self.model_name, dataset=self.dataset_name, seed=self.seed,
                         image_size=self.image_size, data_root=str(self.data_root), train=base)

    def _float(self) -> nn.Module:
        """The pretrained float network (trained once per key and cached on disk)."""
        data = self._data()
        if self._state.float_model is None:
            key = self._float_key()
            path = self.cache_dir / "models" / f"{self.model_name}-{self.dataset_name}-seed{self.seed}-{key}.pt"
            model = self._new_model()
            if path.is_file():
                saved = torch.load(path, map_location=self.device, weights_only=True)
                model.load_state_dict(saved["state_dict"])
                metrics = saved["metrics"]
            else:
                metrics = self._train_float(model, data)
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".tmp{os.getpid()}")
                torch.save({"state_dict": model.state_dict(), "metrics": metrics}, tmp)
                os.replace(tmp, path)  # atomic: concurrent workers never read a half-written file
            model.eval()
            self._state.float_model, self._state.float_metrics, self._state.float_key = model, metrics, key
        return self._state.float_model

    def _train_float(self, model: nn.Module, data: ImageData) -> dict:
        torch.manual_seed(self.seed)
        model.load_state_dict(build_model(self.model_name, data.num_classes, data.input_shape).state_dict())
        generator = torch.Generator().manual_seed(self.seed)
        cfg = self.train_config
        start = time.perf_counter()
        steps = cfg.epochs * steps_per_epoch(len(data.train_y), cfg.batch_size)
        train(model, data.train_x, data.train_y, steps=steps, lr=cfg.lr, config=cfg, generator=generator,
              padding=data.padding, flip=data.flip)
        val_acc, val_loss = evaluate(model, data.val_x, data.val_y)
        test_acc, test_loss = evaluate(model, data.test_x, data.test_y)
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
        cache = self._result_cache()
        hit = cache.get(key) if cache is not None else None
        if hit is not None:
            return AccuracyResult(**hit)
        result = compute()
        if cache is not None:
            cache.put(key, asdict(result), model=self.model_name, kind=self.kind, parts=self._key_parts)
        return result

    def _fingerprint(self) -> dict:
        """What identifies the float network and the data beyond their names (memoised per process): a hash of
        the model definition (module tree), of the float weights, of the validation split, and the device type."""
        self._float()
        if getattr(self._state, "fingerprint", None) is None:
            data, model = self._state.data, self._state.float_model
            weights = b"".join(t.detach().cpu().numpy().tobytes() for t in model.state_dict().values())
            split = b"".join(t.cpu().numpy().tobytes() for t in (data.val_y, data.train_y, data.test_y))
            self._state.fingerprint = {
                "model_def": digest_bytes(repr(model).encode()), "float_weights": digest_bytes(weights),
                "split": digest_bytes(split), "device": self.device.type}
        return self._state.fingerprint

    def _key(self, bw, ba, **extra) -> str:
        self._key_parts = dict(kind=self.kind, model=self.model_name, dataset=self.dataset_name,
                               float_key=self._float_key(), bits_w=bw, bits_a=ba,
                               weight_quantizer=self.weight_quantizer, act_quantizer=self.act_quantizer,
                               seed=self.seed, **self._fingerprint(), **extra,
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
            raise GenomeError(f"steps={steps!r}; allowed: an integer >= 0 (or None to use epochs)")
        if not epochs >= 0:
            raise GenomeError(f"epochs={epochs!r}; allowed: a number >= 0")
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
                return _failed(f"{exc} while fine-tuning (PACT at <= 4 bits can diverge); counted as psi = 0", start)
        psi, loss = evaluate(model, data.val_x, data.val_y)
        if not math.isfinite(loss):
            return _failed("validation loss is not finite after fine-tuning; counted as psi = 0", start)
        return AccuracyResult(psi=psi, loss=loss, seconds=time.perf_counter() - start)

    def train_from_scratch(self, bits_w: Sequence[int], bits_a: Sequence[int], *,
                           epochs: int | None = None) -> AccuracyResult:
        """Train the genome's quantised network from random initialisation and report TEST accuracy.

        The final step for a chosen solution (hw-flowq 6): base-model hyperparameters, `epochs`
        (default `train_config.epochs`), quantisation-aware from the first step. psi and loss are on the test split.
        """
        bw, ba = self._genome(bits_w, bits_a)
        cfg = self.train_config
        epochs = cfg.epochs if epochs is None else int(epochs)
        key = self._key(bw, ba, scratch_epochs=epochs)

        def run() -> AccuracyResult:
            start = time.perf_counter()
            data = self._data()
            torch.manual_seed(self.seed)
            model = self._quantized(self._new_model(), bw, ba)
            try:
                train(model, data.train_x, data.train_y, steps=epochs * steps_per_epoch(len(data.train_y),
                                                                                          cfg.batch_size),
                      lr=cfg.lr, config=cfg, generator=torch.Generator().manual_seed(self.seed),
                      padding=data.padding, flip=data.flip)
            except Diverged as exc:
                return _failed(f"{exc} while training from scratch", start)
            psi, loss = evaluate(model, data.test_x, data.test_y)
            if not math.isfinite(loss):
                return _failed("test loss is not finite after training from scratch", start)
            return AccuracyResult(psi=psi, loss=loss, seconds=time.perf_counter() - start)

        return self._cached(key, run)


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
            raise GenomeError(f"batch_size={batch_size!r}; allowed: an integer >= 1")
        self.batch_size = int(batch_size)
        self._batch = None

    def __getstate__(self):
        state = super().__getstate__()
        state["_batch"] = None
        return state

    def _fixed_batch(self):
        if self._batch is None:
            data = self._data()
            n = min(self.batch_size, len(data.val_y))
            index = torch.randperm(len(data.val_y), generator=torch.Generator().manual_seed(self.seed))[:n]
            x, y = data.val_x[index.to(data.val_x.device)], data.val_y[index.to(data.val_y.device)]
            with torch.no_grad():
                float_loss = float(F.cross_entropy(self._float()(x), y))
            self._batch = (x, y, float_loss)
        return self._batch

    def evaluate(self, bits_w: Sequence[int], bits_a: Sequence[int]) -> AccuracyResult:
        """psum eq. 1 for the genome: (accuracy on the batch, CE_quantised - CE_float)."""
        bw, ba = self._genome(bits_w, bits_a)
        key = self._key(bw, ba, batch_size=self.batch_size)
        return self._cached(key, lambda: self._proxy(bw, ba))

    def _proxy(self, bw: list[int], ba: list[int]) -> AccuracyResult:
        start = time.perf_counter()
        x, y, float_loss = self._fixed_batch()
        model = self._quantized(copy.deepcopy(self._float()), bw, ba).eval()
        with torch.no_grad():
            logits = model(x)
            loss = float(F.cross_entropy(logits, y))
        if not math.isfinite(loss):
            return _failed("quantised network's loss is not finite", start)
        psi = float((logits.argmax(1) == y).float().mean())
        return AccuracyResult(psi=psi, loss=loss - float_loss, seconds=time.perf_counter() - start)


def train_from_scratch(bits_w: Sequence[int], bits_a: Sequence[int], *, model: str = "resnet20",
                       dataset: str = "digits", epochs: int | None = None, **kwargs) -> AccuracyResult:
    """Train a genome's quantised network from scratch and return its TEST accuracy (see
    `FineTuneEvaluator.train_from_scratch`; kwargs go to the evaluator)."""
    return FineTuneEvaluator(model, dataset, **kwargs).train_from_scratch(bits_w, bits_a, epochs=epochs)
