"""Paper B's report extras: the Assumption-2.2 quantities, the training runs, and (as they land)
the generalization sweep, the law measurement and their figures. Every stored number is
deterministic for the settings (no wall times: those go in ``timings``)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from html import escape as html_escape
from typing import Any

from verify.papers import PaperRun, RunContext, Section


def run_figures(settings, ctx: RunContext) -> PaperRun:
    from proofs.paper_b.data import assumption_22
    from proofs.paper_b.world import world

    out = PaperRun()
    t0 = time.perf_counter()
    w = world(settings)
    a = assumption_22(w.model)
    out.data["assumption_22"] = {"d": a.d, "k": a.k, "sigma": str(a.sigma), "max_corr": a.max_corr,
                                 "corr_ratio": str(a.corr_ratio), "ratio": str(a.ratio),
                                 "noise_term": [str(a.noise_term[0]), str(a.noise_term[1])]}
    out.data["runs"] = [r.summary.to_dict() for r in w.runs()]
    out.timings["training_seconds"] = time.perf_counter() - t0
    return out


def sections(data: Mapping[str, Any]) -> list[Section]:
    runs = data.get("runs")
    if not runs:
        return []
    lines = ["| width | init | status | threshold step | final loss (upper) | stopped |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in runs:
        lines.append(f"| {r['width']} | {r['seed']} | {r['status']} | {r['threshold_step']} | "
                     f"{float(r['final_loss_upper']):.3g} | {r['reason'] or ''} |")
    md = "\n".join(lines)
    head = "".join(f"<th>{h}</th>" for h in ("width", "init", "status", "threshold step", "final loss", "stopped"))
    body = "".join(f"<tr><td>{r['width']}</td><td>{r['seed']}</td><td>{r['status']}</td><td>{r['threshold_step']}"
                   f"</td><td>{float(r['final_loss_upper']):.3g}</td><td>{html_escape(r['reason'] or '')}</td></tr>"
                   for r in runs)
    html = f"<table><tr>{head}</tr>{body}</table>"
    return [Section("Training runs (certified GD)", md, html)]


def findings(data: Mapping[str, Any]) -> list[str]:
    runs = data.get("runs") or []
    if not runs:
        return []
    reached = sum(1 for r in runs if r["threshold_step"] is not None)
    return [f"{reached} of {len(runs)} training runs reached a loss certified below the threshold (ours: 1/n)."]
