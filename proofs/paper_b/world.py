"""The objects one paper-B setting describes, built once per process and shared by every claim:
the cluster model, the training and test samples, and the certified training runs.

Invariant: everything here is a pure function of the settings (its digest is the cache key).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from proofs.paper_b import train
from verify.model.network import Dataset, Problem

_CACHE: dict[str, World] = {}


@dataclass
class World:
    """The data and runs of one setting (``opts``: the paper options, ``full`` already resolved)."""

    settings: Any
    opts: Any
    model: Any
    sample: Any
    test: Any
    data: Dataset
    _runs: list | None = None
    _law: dict | None = None
    _gen: list | None = None
    _problems: dict[int, Problem] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)  # wall time of each part when it was computed

    def problem(self, width: int) -> Problem:
        if width not in self._problems:
            self._problems[width] = train.training_problem(self.data, width, self.settings.eta, self.settings.loss)
        return self._problems[width]

    def init(self, width: int, index: int) -> tuple[Fraction, ...]:
        return train.small_init(self.problem(width).network, self.opts.init_scale, self.settings.seed, index)

    @property
    def threshold(self) -> Fraction:
        return train.threshold(self.settings.loss, self.data.n)

    def runs(self) -> list[train.TrainedRun]:
        """Every (width, seed) run, trained on first use."""
        if self._runs is None:
            t0 = time.perf_counter()
            s, o = self.settings, self.opts
            self._runs = []
            for width in o.widths:
                self._runs += train.run_width(self.data, width, s.eta, s.loss, o.init_scale, s.seed, s.inits,
                                              s.steps, o.per_decade, o.escalate, s.prec, s.max_prec)
            self.timings["training_seconds"] = time.perf_counter() - t0
        return self._runs


    def law(self, progress=None) -> dict:
        """The law measurement over the grid (:func:`proofs.paper_b.law.measure`), once."""
        if self._law is None:
            from proofs.paper_b.law import measure

            t0 = time.perf_counter()
            self._law = measure(self.settings, self.opts, progress)
            self.timings["law_grid_seconds"] = time.perf_counter() - t0
        return self._law

    def generalization_sweep(self) -> list:
        """The n/k sweep (:func:`proofs.paper_b.generalization.sweep_n`), once."""
        if self._gen is None:
            from proofs.paper_b.generalization import sweep_n

            t0 = time.perf_counter()
            self._gen = sweep_n(self.settings, self)
            self.timings["generalization_sweep_seconds"] = time.perf_counter() - t0
        return self._gen


def build_model(opts: Any, d: int | None = None, k: int | None = None):
    from proofs.paper_b.data import ClusterModel

    return ClusterModel(d=d or opts.d, k=k or opts.k, sigma=opts.sigma, kind=opts.kind, seed=opts.data_seed,
                        balance=opts.balance)


def world(settings: Any) -> World:
    """The :class:`World` of ``settings`` (cached by the settings digest)."""
    key = settings.digest()
    if key not in _CACHE:
        opts = settings.options
        model = build_model(opts)
        sample, test = model.train_test(opts.n, opts.n_test, opts.data_seed)
        _CACHE[key] = World(settings, opts, model, sample, test, train.dataset_of(sample))
    return _CACHE[key]
