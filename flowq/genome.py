"""Integer genome encoding of per-layer (b_W, b_A) bitwidths (hw-flowq 3.2, Fig. 4).

A genome is a vector of integer loci, each an index into the allele set `bitwidths` (the bitwidths the
hardware supports, ascending). Loci are laid out layer by layer so that single-point crossover keeps
neighbouring layers together (hw-flowq 3.2): untied, layer l owns two adjacent loci (b_W, then b_A);
tied (`tie=True`, b_A = b_W as in hw-flowq 6.1), one locus per layer. Layers listed in `fixed` (by default
the first and the last, kept at 16 bits as in hw-flowq 6) own no locus.

Bits semantics (shared contract): `bits_a[l]` is the bitwidth of layer l's INPUT activations; layer l's
output is written at `bits_a[l + 1]`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwmodels.errors import GenomeError


@dataclass(frozen=True)
class GenomeEncoding:
    """Maps integer genomes to per-layer bitwidths and back.

    Attributes:
        n_layers: layers of the workload.
        bitwidths: allele set, ascending (bits).
        tie: one locus per layer with b_A = b_W when True, else one per layer and operand.
        fixed: ((layer index, bits), ...) layers kept at a fixed bitwidth for weights and input activations.
    """

    n_layers: int
    bitwidths: tuple = (2, 4, 6, 8, 16)
    tie: bool = False
    fixed: tuple = ()

    def __post_init__(self):
        if not isinstance(self.n_layers, (int, np.integer)) or self.n_layers < 1:
            raise GenomeError(f"n_layers={self.n_layers!r}: a genome needs at least one layer")
        bitwidths = tuple(int(b) for b in self.bitwidths)
        if not bitwidths or list(bitwidths) != sorted(set(bitwidths)) or bitwidths[0] < 1:
            raise GenomeError(f"bitwidths={self.bitwidths!r}: must be distinct positive integers in ascending "
                              f"order, e.g. (2, 4, 6, 8, 16)")
        object.__setattr__(self, "bitwidths", bitwidths)
        fixed = tuple(sorted((int(layer) % self.n_layers, int(bits)) for layer, bits in dict(self.fixed).items()))
        for layer, bits in fixed:
            if bits < 1:
                raise GenomeError(f"fixed bitwidth {bits} of layer {layer} must be >= 1")
        object.__setattr__(self, "fixed", fixed)
        if len(self.free_layers) == 0:
            raise GenomeError(f"every one of the {self.n_layers} layers is fixed, so there is nothing to search; "
                              f"set fixed_bits=None to search the first/last layers too")

    # ---- construction helpers ---------------------------------------------------------------------
    @classmethod
    def for_layers(cls, n_layers: int, bitwidths, *, tie: bool = False,
                   fixed_bits: int | None = 16) -> "GenomeEncoding":
        """Encoding with the first and last layers fixed at `fixed_bits` (None searches them too).

        A single-layer network keeps its only layer free.
        """
        fixed = {}
        if fixed_bits is not None and n_layers > 2:
            fixed = {0: fixed_bits, n_layers - 1: fixed_bits}
        return cls(n_layers, tuple(bitwidths), tie, tuple(fixed.items()))

    # ---- layout -------------------------------------------------------------------------------------
    @property
    def free_layers(self) -> tuple:
        """Indices of the layers that own loci, ascending."""
        fixed_layers = {layer for layer, _ in self.fixed}
        return tuple(layer for layer in range(self.n_layers) if layer not in fixed_layers)

    @property
    def loci_per_layer(self) -> int:
        """1 when b_A = b_W is tied, else 2 (b_W, b_A)."""
        return 1 if self.tie else 2

    @property
    def n_var(self) -> int:
        """Genome length (number of integer loci)."""
        return len(self.free_layers) * self.loci_per_layer

    @property
    def n_alleles(self) -> int:
        """Alleles per locus."""
        return len(self.bitwidths)

    @property
    def cut_points(self) -> np.ndarray:
        """Crossover cut positions that fall between layers (never inside a (b_W, b_A) pair), shape (k,)."""
        return np.arange(1, len(self.free_layers), dtype=np.int64) * self.loci_per_layer

    # ---- decoding / encoding ----------------------------------------------------------------------
    def decode(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Integer genomes -> per-layer bitwidths.

        Args:
            X: genomes, shape (n_var,) or (n, n_var), integer allele indices in [0, n_alleles).

        Returns:
            (BW, BA) int64 arrays of shape (n, n_layers) (or (n_layers,) for a single genome), in bits.

        Raises:
            GenomeError: wrong length, non-integer values, or an index outside the allele set.
        """
        X_in = np.asarray(X)
        single = X_in.ndim == 1
        X2 = np.atleast_2d(X_in)
        if X2.ndim != 2 or X2.shape[1] != self.n_var:
            raise GenomeError(f"genome shape {X_in.shape} does not match this encoding: expected (n, {self.n_var}) "
                              f"({len(self.free_layers)} searched layers x {self.loci_per_layer} loci)")
        if X2.size and not np.all(np.equal(np.mod(X2, 1), 0)):
            raise GenomeError("genome values must be integers (allele indices); got non-integral values")
        X2 = X2.astype(np.int64)
        bad = np.argwhere((X2 < 0) | (X2 >= self.n_alleles))
        if len(bad):
            row, locus = bad[0]
            raise GenomeError(f"genome locus {locus} holds allele index {X2[row, locus]}, "
                              f"allowed 0..{self.n_alleles - 1} "
                              f"(bitwidths {self.bitwidths})")
        table = np.asarray(self.bitwidths, dtype=np.int64)
        n = X2.shape[0]
        BW = np.empty((n, self.n_layers), dtype=np.int64)
        BA = np.empty((n, self.n_layers), dtype=np.int64)
        for layer, bits in self.fixed:
            BW[:, layer] = bits
            BA[:, layer] = bits
        free = np.asarray(self.free_layers, dtype=np.int64)
        step = self.loci_per_layer
        BW[:, free] = table[X2[:, 0::step]]
        BA[:, free] = table[X2[:, step - 1::step]]
        if single:
            return BW[0], BA[0]
        return BW, BA

    def encode(self, bits_w, bits_a=None) -> np.ndarray:
        """Per-layer bitwidths -> integer genome(s); the inverse of `decode` on the free layers.

        Args:
            bits_w: weight bits, shape (n_layers,) or (n, n_layers).
            bits_a: input-activation bits, same shape (defaults to `bits_w`).

        Returns:
            int64 genome(s), shape (n_var,) or (n, n_var).

        Raises:
            GenomeError: a free layer's bitwidth is not an allele, b_A != b_W on a tied encoding, or wrong length.
        """
        BW_in = np.asarray(bits_w)
        single = BW_in.ndim == 1
        BW = np.atleast_2d(BW_in).astype(np.int64)
        BA = BW if bits_a is None else np.atleast_2d(np.asarray(bits_a)).astype(np.int64)
        if BW.shape != BA.shape or BW.shape[1] != self.n_layers:
            raise GenomeError(f"bits_w {BW.shape} / bits_a {BA.shape} must both have {self.n_layers} layers")
        free = np.asarray(self.free_layers, dtype=np.int64)
        if self.tie and np.any(BW[:, free] != BA[:, free]):
            raise GenomeError("this encoding ties b_A = b_W, but bits_a differs from bits_w on a searched layer")
        index = {bits: k for k, bits in enumerate(self.bitwidths)}
        n = BW.shape[0]
        X = np.empty((n, self.n_var), dtype=np.int64)
        step = self.loci_per_layer
        for j, layer in enumerate(free):
            for offset, source in enumerate((BW, BA)[:step]):
                for row in range(n):
                    bits = int(source[row, layer])
                    if bits not in index:
                        raise GenomeError(f"layer {layer}: {bits} bits is not an allele of this search; "
                                          f"allowed {self.bitwidths}")
                    X[row, j * step + offset] = index[bits]
        return X[0] if single else X

    def uniform(self, bits: int) -> np.ndarray:
        """The genome with every searched layer at `bits` (weights and activations), shape (n_var,)."""
        if bits not in self.bitwidths:
            raise GenomeError(f"{bits} bits is not an allele; allowed {self.bitwidths}")
        return np.full(self.n_var, self.bitwidths.index(bits), dtype=np.int64)

    def key(self, x) -> tuple:
        """Hashable key of one genome (its decoded bits, so equal bitwidths give equal keys across encodings)."""
        bits_w, bits_a = self.decode(np.asarray(x).reshape(-1))
        return tuple(int(b) for b in bits_w) + tuple(int(b) for b in bits_a)
