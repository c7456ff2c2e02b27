"""`ReRAMProblem`: search against the ReRAM crossbar level, optionally with the ADC resolution as a third gene.

Genome: per searched layer its bitwidth loci (b_W, b_A, or one tied locus; `flowq.genome.GenomeEncoding`)
followed by, with `adc_bits="search"`, one ADC locus (an index into the spec's ADC resolutions, psum Table 2:
1..8 bits), so a layer's genes stay together under single-point crossover. Hardware metrics come from
`hwmodels.reram` (energy, latency_cycles, tiles, adc_conversions, ...); accuracy from the evaluator with the
crossbar-aware forward (`flowq.quant.crossbar`), so a low ADC resolution costs accuracy as well as saving energy.
Layers without loci (first / last when fixed) keep the spec's default ADC resolution.
"""

from __future__ import annotations

import numpy as np

from flowq.genome import GenomeEncoding
from hwmodels.errors import GenomeError
from hwmodels.reram import evaluate_population, load_reram_spec
from problems.base import ACCURACY, QuantProblem

ADC_SEARCH = "search"


class ReRAMGenome:
    """Bitwidth loci of a `GenomeEncoding` with one ADC locus appended to each searched layer's loci.

    Args:
        bits: the bitwidth encoding.
        adc_range: ADC resolutions (alleles of the ADC loci), ascending.
        search_adc: whether ADC loci exist; without them every layer uses `default_adc`.
        default_adc: ADC bits of layers without an ADC locus.
    """

    def __init__(self, bits: GenomeEncoding, adc_range: tuple, search_adc: bool, default_adc: int):
        self.bits, self.adc_range, self.search_adc = bits, tuple(adc_range), bool(search_adc)
        self.default_adc = int(default_adc)
        self.tie, self.bitwidths, self.fixed = bits.tie, bits.bitwidths, bits.fixed
        self.n_layers, self.free_layers = bits.n_layers, bits.free_layers
        self.step = bits.loci_per_layer + (1 if self.search_adc else 0)

    @property
    def n_var(self) -> int:
        """Genome length."""
        return len(self.free_layers) * self.step

    @property
    def loci_per_layer(self) -> int:
        """Loci per searched layer: its bitwidth loci, plus the ADC locus when ADC bits are searched."""
        return self.step

    @property
    def n_alleles(self) -> int:
        """Alleles of a bitwidth locus."""
        return self.bits.n_alleles

    @property
    def upper_bounds(self) -> np.ndarray:
        """Largest allele index per locus, shape (n_var,)."""
        per_layer = [self.bits.n_alleles - 1] * self.bits.loci_per_layer
        if self.search_adc:
            per_layer.append(len(self.adc_range) - 1)
        return np.tile(np.asarray(per_layer, dtype=np.int64), len(self.free_layers))

    @property
    def cut_points(self) -> np.ndarray:
        """Crossover cuts between layers (a layer's b_W, b_A and ADC genes are inherited together)."""
        return np.arange(1, len(self.free_layers), dtype=np.int64) * self.step

    def _split(self, X) -> tuple:
        X = np.atleast_2d(np.asarray(X))
        if X.shape[1] != self.n_var:
            raise GenomeError(f"genome shape {X.shape} does not match: expected (n, {self.n_var}) "
                              f"({len(self.free_layers)} searched layers x {self.step} loci)")
        if not self.search_adc:
            return X, None
        bit_cols = [j for j in range(self.n_var) if j % self.step != self.step - 1]
        return X[:, bit_cols], X[:, self.step - 1::self.step]

    def decode(self, X) -> tuple:
        """(BW, BA) per-layer bits, shape (n, n_layers) (or (n_layers,) for one genome)."""
        B, _ = self._split(X)
        BW, BA = self.bits.decode(B)
        return (BW[0], BA[0]) if np.asarray(X).ndim == 1 else (BW, BA)

    def decode_adc(self, X) -> np.ndarray:
        """ADC bits per layer, int64 (n, n_layers) (or (n_layers,) for one genome)."""
        B, A = self._split(X)
        out = np.full((B.shape[0], self.n_layers), self.default_adc, dtype=np.int64)
        if A is not None:
            A = A.astype(np.int64)
            bad = np.argwhere((A < 0) | (A >= len(self.adc_range)))
            if len(bad):
                raise GenomeError(f"ADC locus {bad[0][1]} holds allele {A[tuple(bad[0])]}; allowed 0.."
                                  f"{len(self.adc_range) - 1} (ADC bits {self.adc_range})")
            out[:, list(self.free_layers)] = np.asarray(self.adc_range, dtype=np.int64)[A]
        return out[0] if np.asarray(X).ndim == 1 else out

    def encode(self, bits_w, bits_a=None, adc_bits=None) -> np.ndarray:
        """Genome(s) of per-layer bits and ADC bits (None: the default ADC resolution on every layer)."""
        B = np.atleast_2d(self.bits.encode(bits_w, bits_a))
        single = np.asarray(bits_w).ndim == 1
        if not self.search_adc:
            return B[0] if single else B
        adc = np.full((B.shape[0], self.n_layers), self.default_adc) if adc_bits is None else \
            np.atleast_2d(np.asarray(adc_bits))
        index = {r: k for k, r in enumerate(self.adc_range)}
        X = np.empty((B.shape[0], self.n_var), dtype=np.int64)
        lpl = self.bits.loci_per_layer
        for j, layer in enumerate(self.free_layers):
            X[:, j * self.step:j * self.step + lpl] = B[:, j * lpl:(j + 1) * lpl]
            for row in range(B.shape[0]):
                r = int(adc[row, layer])
                if r not in index:
                    raise GenomeError(f"layer {layer}: ADC {r} bits is not an allele; allowed {self.adc_range}")
                X[row, j * self.step + lpl] = index[r]
        return X[0] if single else X

    def key(self, x) -> tuple:
        """Hashable key: bits_w + bits_a + adc_bits of one genome."""
        x = np.asarray(x).reshape(-1)
        bw, ba = self.decode(x)
        return tuple(int(b) for b in bw) + tuple(int(b) for b in ba) + tuple(int(r) for r in self.decode_adc(x))

    def uniform(self, bits: int, adc_bits: int | None = None) -> np.ndarray:
        """Every searched layer at `bits` (and `adc_bits`, default the spec's), shape (n_var,)."""
        n = self.n_layers
        return self.encode(np.full(n, bits), np.full(n, bits), None if adc_bits is None else np.full(n, adc_bits))


class _CrossbarEvaluator:
    """Executor-facing evaluator of crossbar candidates. The executors ship (bits_w, bits_a) pairs, so the ADC
    bits travel appended to bits_w: evaluate(concat(bits_w, adc_bits), bits_a) runs the wrapped evaluator with the
    crossbar forward at those ADC bits (`with_crossbar`), or passes `adc_bits=` to an evaluator without it."""

    def __init__(self, evaluator, config):
        self.evaluator, self.config = evaluator, config

    def evaluate(self, bits_w_adc, bits_a):
        bits_w, adc = np.split(np.asarray(bits_w_adc), 2)
        if hasattr(self.evaluator, "with_crossbar"):
            return self.evaluator.with_crossbar(self.config.with_adc(tuple(int(r) for r in adc))).evaluate(
                bits_w, bits_a)
        return self.evaluator.evaluate(bits_w, bits_a, adc_bits=adc)


class ReRAMProblem(QuantProblem):
    """Quantization search on a ReRAM crossbar accelerator (`hwmodels.reram`), optionally searching the ADC.

    Args:
        model, dataset, evaluator, workload, objectives, constraints, bitwidths, tie, batch, accuracy_cache,
            epochs, seed: as `QuantProblem`.
        hw: ReRAM preset ("reram-neurosim", "reram-bwq", "reram-puma"), YAML path or `ReRAMSpec`.
        adc_bits: "search" (one ADC gene per searched layer, the spec's ADC range), an int (every layer), or None
            (the spec's default resolution, `ReRAMSpec.default_adc_bits`).
        fixed_bits: first / last layers' bits (None searches them); default the spec's b_max.
        tile_formula: "benq" or "neurosim" overriding the spec's.
        dataflow, mapper_objective: accepted for interface symmetry (crossbars map im2col; nothing to choose).

    Default objectives: accuracy, energy, latency_cycles. Any metric of `hwmodels.reram` (tiles, adc_share, ...)
    can be an objective or a constraint; with `spec.max_tiles` > 0, `tiles_over_limit <= 0` is added.
    """

    level = "reram"
    default_objectives = (ACCURACY, "energy", "latency_cycles")

    def __init__(self, model: str = "lenet5", hw="reram-puma", *, adc_bits=None, fixed_bits="b_max",
                 tile_formula: str | None = None, dataflow=None, constraints=None, **kwargs):
        spec = load_reram_spec(hw)
        if tile_formula is not None:
            spec = spec.with_(tile_formula=tile_formula)
        if fixed_bits == "b_max":
            fixed_bits = spec.b_max
        search = isinstance(adc_bits, str)
        if search and adc_bits != ADC_SEARCH:
            raise GenomeError(f"adc_bits={adc_bits!r}; allowed: 'search', an integer in {spec.adc_range}, or None")
        if not search and adc_bits is not None and int(adc_bits) not in spec.adc_range:
            raise GenomeError(f"adc_bits={adc_bits}: {spec.name!r} offers ADC resolutions {list(spec.adc_range)}")
        self.adc_option = adc_bits
        self.default_adc = spec.default_adc_bits if (search or adc_bits is None) else int(adc_bits)
        constraints = dict(constraints or {})
        if spec.max_tiles:
            constraints.setdefault("tiles_over_limit", 0.0)
        super().__init__(model, spec, fixed_bits=fixed_bits, constraints=constraints, **kwargs)
        self._init_kwargs.update(adc_bits=adc_bits, tile_formula=None, fixed_bits=fixed_bits)
        self._init_kwargs.pop("dataflow", None)
        self._init_kwargs.pop("mapper_objective", None)
        self.genome = ReRAMGenome(self.genome, self.spec.adc_range, search, self.default_adc)
        self.n_var = self.genome.n_var
        self.xl = np.zeros(self.n_var, dtype=np.int64)
        self.xu = self.genome.upper_bounds

    def config(self) -> dict:
        """The base configuration plus the ADC option."""
        return dict(super().config(), adc_bits=self.adc_option, adc_range=list(self.spec.adc_range),
                    default_adc_bits=self.default_adc, tile_formula=self.spec.tile_formula)

    def constraint_value(self, name: str, limit: float, metrics: dict) -> float:
        """G of a constraint; `tiles_over_limit` is absolute (tiles beyond the chip), not relative."""
        if name == "tiles_over_limit":
            return metrics[name] - limit
        return super().constraint_value(name, limit, metrics)

    @property
    def crossbar_config(self):
        """`CrossbarConfig` of the spec (OU rows, cell and DAC bits); torch is imported here."""
        from flowq.quant.crossbar import CrossbarConfig

        return CrossbarConfig.from_spec(self.spec)

    def evaluate_metrics(self, X) -> list[dict]:
        """Raw metrics of genomes X (n, n_var), cached by (bits_w, bits_a, adc_bits)."""
        X = np.atleast_2d(np.asarray(X))
        BW, BA = self.genome.decode(X)
        ADC = self.genome.decode_adc(X)
        keys = [tuple(int(b) for b in BW[i]) + tuple(int(b) for b in BA[i]) + tuple(int(r) for r in ADC[i])
                for i in range(len(X))]
        todo = {}
        for row, key in enumerate(keys):
            if key not in self.records and key not in todo:
                todo[key] = row
        if todo:
            rows = np.fromiter(todo.values(), dtype=np.int64)
            totals = evaluate_population(self.workload, self.spec, BW[rows], BA[rows], adc_bits=ADC[rows])
            self.n_hw_evaluations += len(rows)
            for j, (key, row) in enumerate(todo.items()):
                metrics = {name: float(np.asarray(totals[name])[j]) for name in self.hw_metrics if name in totals}
                self.records[key] = {"bits_w": [int(b) for b in BW[row]], "bits_a": [int(b) for b in BA[row]],
                                     "adc_bits": [int(r) for r in ADC[row]], "metrics": metrics}
        if self.needs_accuracy:
            plain_evaluator = self.evaluator
            self.evaluator = _CrossbarEvaluator(plain_evaluator, self.crossbar_config)
            try:  # the executor ships (bits_w, bits_a): the ADC bits ride on bits_w (see _CrossbarEvaluator)
                self._accuracy(np.concatenate([BW, ADC], axis=1), BA, keys)
            finally:
                self.evaluator = plain_evaluator
        return [self.records[key]["metrics"] for key in keys]

    def solution_extra(self, key) -> dict:
        """results.json fields beside bits_w / bits_a: the ADC bits and the full genome."""
        record = self.records[key]
        return {"adc_bits": list(record["adc_bits"]),
                "genome": self.genome.encode(record["bits_w"], record["bits_a"], record["adc_bits"]).tolist()}
