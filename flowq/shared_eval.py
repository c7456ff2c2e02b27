"""Weight-sharing any-precision evaluator (`--evaluator shared`): one network trained once for every bitwidth mix.

The float network is quantised once and trained further with per-layer bitwidths drawn at every step (the sandwich
rule of the any-precision / bit-mixer line of work: the widest genome, the narrowest and `n_random` random ones
share one optimiser step; the narrower ones learn from the widest one's soft labels, in-place distillation). The
result, the *shared network*, is cached beside the float network under a key that names everything its weights
depend on. A candidate then costs: set its bitwidths, re-estimate BatchNorm statistics at those bitwidths on
`calibration_images` training images, one pass over the validation split (plus `finetune_steps` SGD steps when
asked). Same contract as `flowq.accuracy`'s evaluators: genome in, `AccuracyResult` out, cached by genome and
evaluator identity, failures reported as failed results.
"""

from __future__ import annotations

import copy
import io
import math
import time
from dataclasses import asdict
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from flowq.accuracy import (CALIBRATION_IMAGES, AccuracyResult, _Evaluator, _failed, reestimate_batchnorm)
from flowq.cache import cache_key, digest_bytes
from flowq.data.augment import iterate_batches
from flowq.environment import torch_threads
from flowq.progress import Phase
from flowq.errors import EvaluatorError, FlowQError, GenomeError
from flowq.models.training import Diverged, evaluate, sgd, steps_per_epoch, train
from flowq.quant import quantize_model
from flowq.quant.modules import _forward_order

#: Bitwidths the shared network is trained for by default: every width 2..8 plus the 16 bits of fixed layers.
DEFAULT_BITS = (2, 3, 4, 5, 6, 7, 8, 16)
#: Shared-network training length in epochs of the training split (float network: `TrainConfig.epochs`).
DEFAULT_EPOCHS = 10.0
#: Random genomes per step besides the widest and the narrowest (sandwich rule).
DEFAULT_RANDOM = 1


class SharedEvaluator(_Evaluator):
    """psi of a genome read off one any-precision network trained once per (model, dataset, bits, quantiser, seed).

    Args:
        model, dataset, seed, device, cache_dir, ...: see `flowq.accuracy._Evaluator`.
        bits: bitwidths the shared network is trained for; a genome may use only these (GenomeError otherwise).
        shared_epochs: shared-network training length, epochs of the training split (> 0).
        n_random: random genomes per step besides the widest and narrowest (>= 0).
        distill: narrower genomes learn from the widest genome's soft labels (in-place distillation) instead of
            the hard labels.
        finetune_steps: SGD steps of the candidate's own network on top (0 = none), at the fine-tune rate
            lr * finetune_lr_scale with a cosine decay (`--shared-finetune STEPS`).
        calibration_images: training images that BatchNorm statistics are re-estimated on per candidate.

    Raises:
        EvaluatorError: a setting out of range.
    """

    kind = "shared"

    def __init__(self, model: str = "resnet20", dataset: str = "digits", *, bits: Sequence[int] = DEFAULT_BITS,
                 shared_epochs: float = DEFAULT_EPOCHS, n_random: int = DEFAULT_RANDOM, distill: bool = True,
                 finetune_steps: int = 0, calibration_images: int = CALIBRATION_IMAGES, seed: int = 0,
                 device=None, cache_dir=None, **kwargs):
        super().__init__(model, dataset, seed=seed, device=device, cache_dir=cache_dir, **kwargs)
        try:
            self.bits = tuple(sorted({int(b) for b in bits}))
        except (TypeError, ValueError):
            raise EvaluatorError(f"bits={bits!r}; allowed: a list of integer bitwidths >= 1") from None
        if not self.bits or self.bits[0] < 1 or any(int(b) != b for b in bits):
            raise EvaluatorError(f"bits={bits!r}; allowed: a non-empty list of integer bitwidths >= 1")
        self.shared_epochs = _number(shared_epochs, "shared_epochs", positive=True)
        self.n_random = _count(n_random, "n_random")
        self.finetune_steps = _count(finetune_steps, "finetune_steps")
        self.calibration_images = _count(calibration_images, "calibration_images", minimum=1)
        self.distill = bool(distill)
        self._net = None  # (shared network, forward-ordered quantised layer names, training metrics)

    def __getstate__(self):
        state = super().__getstate__()
        state["_net"] = None  # rebuilt from the disk cache in the receiving process
        return state

    # ---- the shared network ---------------------------------------------------------------------------------
    def _recipe(self) -> dict:
        """What the shared network's weights depend on besides the float network (part of every key)."""
        cfg = asdict(self.train_config)
        return {"bits": list(self.bits), "epochs": self.shared_epochs, "n_random": self.n_random,
                "distill": self.distill, "lr": cfg["lr"] * cfg["finetune_lr_scale"], "batch_size": cfg["batch_size"],
                "momentum": cfg["momentum"], "weight_decay": cfg["weight_decay"]}

    def shared_key(self) -> str:
        """Disk-cache key of the shared network: float network (recipe key and weights hash), data split, model
        definition, quantisers, seed, device type, torch threads and build, and the shared recipe."""
        return cache_key(kind="shared-net", model=self.model_name, dataset=self.dataset_name,
                         float_key=self._float_key(), **self._fingerprint(), weight_quantizer=self.weight_quantizer,
                         act_quantizer=self.act_quantizer, seed=self.seed, recipe=self._recipe(),
                         **self._numerics())

    def _shared(self):
        """(shared network, names of its quantised layers in forward order, training metrics); trained once per
        key."""
        if self._net is None:
            float_model = self._float()
            data = self._data()
            path = self.cache_dir / "models" / f"{self.model_name}-{self.dataset_name}-seed{self.seed}-shared-" \
                                               f"{self.shared_key()}.pt"
            model = self._quantized(copy.deepcopy(float_model), *self._calibration_genome())
            if path.is_file():
                saved = torch.load(path, map_location=self.device, weights_only=True)
                model.load_state_dict(saved["state_dict"])
                metrics = saved["metrics"]
            else:
                with torch_threads(self.threads):
                    metrics = self._train_shared(model, data)
                buffer = io.BytesIO()
                torch.save({"state_dict": model.state_dict(), "metrics": metrics}, buffer)
                from flowq.runs import write_atomic

                write_atomic(path, buffer.getvalue())  # concurrent workers never read a half-written file
            self._net = (model, _forward_order(model, data.train_x[:2])[0], metrics)
        return self._net

    def prepare(self) -> None:
        """Build the one-off state in this process: data, float network and shared network (trained once per key
        if not cached), so that parallel workers load it instead of all training it."""
        self._shared()

    def _calibration_genome(self) -> tuple[list[int], list[int]]:
        """Bits the network is quantised at before training: the set's middle width everywhere, so PACT clipping
        levels start at the robust 0.999 quantile of below-8-bit grids (they are learned from there on)."""
        middle = self.bits[len(self.bits) // 2 - (len(self.bits) % 2 == 0)]
        return [middle] * self.n_layers, [middle] * self.n_layers

    @property
    def shared_metrics(self) -> dict:
        """Shared-network training record: seconds, steps, sub-networks per step, last loss."""
        return dict(self._shared()[2])

    def _train_shared(self, model: nn.Module, data) -> dict:
        """Sandwich-rule training of `model` (quantised copy of the float network) in place; returns metrics.

        Raises:
            EvaluatorError: the training loss became NaN / inf (then no shared network is cached).
        """
        start = time.perf_counter()
        cfg = self.train_config
        torch.manual_seed(self.seed)
        generator = torch.Generator().manual_seed(self.seed)
        layers = _layers(model, _forward_order(model, data.train_x[:2])[0])
        steps = max(1, int(round(self.shared_epochs * steps_per_epoch(len(data.train_y), cfg.batch_size))))
        lr = cfg.lr * cfg.finetune_lr_scale
        optimizer = sgd(model, cfg, lr)
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * s / steps)))
        n = len(layers)
        widest, narrowest = [self.bits[-1]] * n, [self.bits[0]] * n
        per_epoch = steps_per_epoch(len(data.train_y), cfg.batch_size)
        phase = Phase(f"[shared {self.model_name}/{self.dataset_name}]", steps, "step")
        phase.start(f"training the shared any-precision network: {self.shared_epochs:g} epochs ({steps} steps, "
                    f"{2 + self.n_random} sub-networks each) on {self.device.type}, {self.threads} thread(s); cached "
                    f"for later runs")
        model.train()
        step, loss_value = 0, float("nan")
        while step < steps:
            for xb, yb in iterate_batches(data.train_x, data.train_y, cfg.batch_size, generator,
                                          padding=data.padding, flip=data.flip):
                optimizer.zero_grad(set_to_none=True)
                genomes = [(widest, widest), (narrowest, narrowest)]
                genomes += [(self._random_bits(n, generator), self._random_bits(n, generator))
                            for _ in range(self.n_random)]
                teacher = None
                for bw, ba in genomes:
                    _set_bits(layers, bw, ba)
                    logits = model(xb)
                    if teacher is None or not self.distill:
                        loss = F.cross_entropy(logits, yb)
                    else:
                        loss = F.cross_entropy(logits, teacher)  # soft labels (probabilities) of the widest
                    if teacher is None:
                        teacher = logits.detach().softmax(1)
                    loss_value = float(loss.detach())
                    if not math.isfinite(loss_value):
                        raise EvaluatorError(f"shared-network training loss became {loss_value} at step {step + 1} "
                                             f"of {steps}; try fewer low bitwidths (bits=...) or another seed")
                    loss.backward()
                optimizer.step()
                schedule.step()
                step += 1
                phase.step(note=f"epoch {(step - 1) // per_epoch + 1}/{math.ceil(steps / per_epoch)}")
                if step >= steps:
                    break
        phase.end(f"last loss {loss_value:.3f}")
        return {"train_seconds": time.perf_counter() - start, "steps": steps, "subnets_per_step": 2 + self.n_random,
                "last_loss": loss_value}

    def _random_bits(self, n: int, generator: torch.Generator) -> list[int]:
        index = torch.randint(0, len(self.bits), (n,), generator=generator).tolist()
        return [self.bits[i] for i in index]

    # ---- candidates -----------------------------------------------------------------------------------------
    def evaluate(self, bits_w: Sequence[int], bits_a: Sequence[int]) -> AccuracyResult:
        """psi of the genome on the validation split, read off the shared network.

        Args:
            bits_w, bits_a: per-layer weight / input-activation bitwidths, length `n_layers`, each in `bits`.

        Raises:
            GenomeError: wrong length, a bitwidth < 1 or one the shared network was not trained for.
            EvaluatorError: a crossbar evaluator (no shared crossbar network), or the shared training diverged.
        """
        if self.crossbar is not None:
            raise EvaluatorError("the shared evaluator has no crossbar mode; use --evaluator finetune or proxy")
        bw, ba = self._genome(bits_w, bits_a)
        allowed = set(self.bits)
        for what, values in (("bits_w", bw), ("bits_a", ba)):
            wrong = [(i, b) for i, b in enumerate(values) if b not in allowed]
            if wrong:
                i, b = wrong[0]
                raise GenomeError(f"{what}[{i}]={b}: the shared network is trained for bits {list(self.bits)} "
                                  f"only; give bits=... covering the search's bitwidths")
        key = self._key(bw, ba, shared=self.shared_key(), finetune_steps=self.finetune_steps,
                        calibration_images=self.calibration_images)
        return self._cached(key, lambda: self._measure(bw, ba))

    def _measure(self, bw: list[int], ba: list[int]) -> AccuracyResult:
        start = time.perf_counter()
        data, cfg = self._data(), self.train_config
        model, order, _ = self._shared()
        if self.finetune_steps > 0:  # the candidate's own copy; the shared weights stay as trained
            model = copy.deepcopy(model)
        _set_bits(_layers(model, order), bw, ba)
        calibration = data.train_x[:self.calibration_images]
        try:
            if any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules()):
                reestimate_batchnorm(model, calibration)  # (a network without BatchNorm has nothing to re-estimate)
            if self.finetune_steps > 0:
                torch.manual_seed(self.seed)
                train(model, data.train_x, data.train_y, steps=self.finetune_steps,
                      lr=cfg.lr * cfg.finetune_lr_scale, config=cfg,
                      generator=torch.Generator().manual_seed(self.seed), padding=data.padding, flip=data.flip)
            psi, loss = evaluate(model, data.val_x, data.val_y)
        except Diverged as exc:
            return _failed(f"{exc} while fine-tuning on the shared network", start)
        except (RuntimeError, ValueError, ArithmeticError) as exc:
            if isinstance(exc, FlowQError):
                raise
            return _failed(f"{type(exc).__name__} on the shared network: {exc}", start)
        if not math.isfinite(loss):
            return _failed("validation loss is not finite on the shared network", start)
        return AccuracyResult(psi=psi, loss=loss, seconds=time.perf_counter() - start)

    # ---- identity -------------------------------------------------------------------------------------------
    def identity(self, float_weights: bool = True) -> dict:
        """`_Evaluator.identity` plus the shared recipe and, with `float_weights`, the shared weights' hash (which
        trains the shared network here, in the driver, before any worker needs it)."""
        identity = super().identity(float_weights)
        if float_weights:
            weights = b"".join(t.detach().cpu().numpy().tobytes() for t in self._shared()[0].state_dict().values())
            identity["shared_weights_sha256"] = digest_bytes(weights)
        return identity

    def _identity_extra(self) -> dict:
        return {"shared": self._recipe(), "finetune_steps": self.finetune_steps,
                "calibration_images": self.calibration_images}

    def _options(self) -> dict:
        return dict(super()._options(), bits=list(self.bits), shared_epochs=self.shared_epochs,
                    n_random=self.n_random, distill=self.distill, finetune_steps=self.finetune_steps,
                    calibration_images=self.calibration_images)


def _layers(model: nn.Module, names: Sequence[str]) -> list[nn.Module]:
    """The modules of `model` called `names`, in that order."""
    modules = dict(model.named_modules())
    return [modules[name] for name in names]


def _set_bits(layers: Sequence[nn.Module], bits_w: Sequence[int], bits_a: Sequence[int]) -> None:
    """Point each quantised layer's weight / input quantiser at its genome bitwidth (bits)."""
    for layer, bw, ba in zip(layers, bits_w, bits_a):
        layer.weight_quantizer.bits = int(bw)
        layer.act_quantizer.bits = int(ba)


def _number(value, what: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value < 0 or (positive and value == 0):
        raise EvaluatorError(f"{what}={value!r}; allowed: a finite number {'>' if positive else '>='} 0")
    return float(value)


def _count(value, what: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value or value < minimum:
        raise EvaluatorError(f"{what}={value!r}; allowed: an integer >= {minimum}")
    return int(value)
