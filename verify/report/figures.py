"""Figures every report has (the claims' dependency graph) and how figures are saved.

Figures are written as PNG and SVG with fixed metadata (no dates, a fixed SVG hash salt), so the
same results give the same files; the HTML embeds the PNG so it reads offline.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from verify.claims.result import ClaimResult

VERDICT_COLOUR = {"certified": "#6c6", "refuted": "#e66", "inconclusive": "#ec4", "not-admitted": "#bbb"}


def save_figure(fig: Any, out: Path, stem: str) -> str:
    """Write ``stem.png`` and ``stem.svg`` into ``out``; return the PNG as base64 for embedding."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.hashsalt"] = "verify"
    fig.savefig(out / f"{stem}.svg", metadata={"Date": None})
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    (out / f"{stem}.png").write_bytes(buf.getvalue())
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def figure_dependencies(claims: list[ClaimResult], mutations: list[ClaimResult]) -> Any:
    """The claims' dependency graph (``depends_on``), one layer per depth, coloured by verdict;
    each mutation hangs below the claim it perturbs (dashed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_id = {c.claim_id: c for c in claims}
    depth: dict[str, int] = {}

    def level(cid: str) -> int:
        if cid not in depth:
            deps = [d for d in by_id[cid].depends_on if d in by_id]
            depth[cid] = 1 + max((level(d) for d in deps), default=-1)
        return depth[cid]

    layers: dict[int, list[str]] = {}
    for c in claims:
        layers.setdefault(level(c.claim_id), []).append(c.claim_id)
    layers = layers or {0: []}
    span = max(0.9 * len(mutations), 2.0 * max(len(ids) for ids in layers.values()), 2.0)
    pos = {cid: ((x + 0.5) * span / len(ids), -2 * lv) for lv, ids in layers.items() for x, cid in enumerate(ids)}
    bottom = -2 * (max(layers) + 1)
    for x, m in enumerate(mutations):
        pos[m.claim_id] = (x * 0.9, bottom - (x % 2))
    fig, ax = plt.subplots(figsize=(13, 2.2 + 1.2 * (max(layers) + 3)))
    for c in claims:
        for d in c.depends_on:
            if d in pos:
                ax.annotate("", xy=pos[c.claim_id], xytext=pos[d], arrowprops={"arrowstyle": "->", "color": "#555"})
    for m in mutations:
        if m.mutation_of in pos:
            ax.annotate("", xy=pos[m.claim_id], xytext=pos[m.mutation_of],
                        arrowprops={"arrowstyle": "->", "ls": "--", "color": "#c88"})
    for r in [*claims, *mutations]:
        x, y = pos[r.claim_id]
        ax.text(x, y, r.claim_id, ha="center", va="center", fontsize=7,
                bbox={"boxstyle": "round", "fc": VERDICT_COLOUR.get(r.verdict.value, "#fff"), "ec": "#333"})
    if pos:
        xs, ys = zip(*pos.values(), strict=True)
        ax.set_xlim(min(xs) - 1, max(xs) + 1)
        ax.set_ylim(min(ys) - 1, max(ys) + 1)
    ax.axis("off")
    ax.set_title("Claim dependencies (arrows: used by), coloured by verdict; mutations (dashed) must be refuted (red)",
                 fontsize=9)
    fig.tight_layout()
    return fig
