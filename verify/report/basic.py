"""A compact verification report: results.json, timings.json, index.md, index.html, Figure 1.

Writers only read :class:`~verify.checks.result.ClaimResult` records. ``results.json`` holds
exact results only (sorted keys, no wall times), so the same settings give the same bytes;
wall times go to ``timings.json``. The HTML embeds its figures, so it reads offline.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

from verify.checks.result import SCHEMA_VERSION, ClaimResult

STATUSES = ("certified", "refuted", "inconclusive", "not-admitted")


def results_document(paper: str, settings: dict[str, Any], digest: str, claims: list[ClaimResult],
                     mutations: list[ClaimResult]) -> dict[str, Any]:
    """The machine-readable report (deterministic)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "paper": paper,
        "settings": settings,
        "settings_digest": digest,
        "claims": [c.to_dict() for c in claims],
        "mutations": [m.to_dict() for m in mutations],
    }


def figure_limit_network() -> Any:
    """Figure 1: Phi(theta*; x) for theta* = (1/2, 1/2, -1/2, 1/2), the two points, the boundary."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from verify.arith import Enclosure, get_backend
    from verify.geometry.paper_a import THETA_STAR, robustness_margin
    from verify.model.network import paper_a_problem

    be = get_backend("arb", 128)
    gamma = robustness_margin(paper_a_problem(), [Enclosure.of(be, v) for v in THETA_STAR])
    x = np.linspace(-2, 2, 401)
    phi = np.maximum(0.5 * x + 0.5, 0) - np.maximum(-0.5 * x + 0.5, 0)
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.plot(x, phi, color="black", label=r"$\Phi(\theta^\star; x)$")
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="purple", ls="--", label="decision boundary x = 0")
    ax.scatter([1], [0], color="red", zorder=3, s=50, label="(x1, y1) = (1, +1)")
    ax.scatter([-1], [0], color="blue", zorder=3, s=50, label="(x2, y2) = (-1, -1)")
    ax.annotate("", xy=(1, -0.35), xytext=(0, -0.35), arrowprops={"arrowstyle": "<->"})
    ax.text(0.5, -0.5, f"gamma* = [{gamma.lower}, {gamma.upper}] (certified)", ha="center", fontsize=8)
    ax.set_xlabel("x")
    ax.set_title(r"Figure 1: the limiting network, $\theta^\star = (0.5, 0.5, -0.5, 0.5)$")
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


VERDICT_COLOUR = {"certified": "#6c6", "refuted": "#e66", "inconclusive": "#ec4", "not-admitted": "#bbb"}


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
    span = max(0.9 * len(mutations), 2.0 * max(len(ids) for ids in layers.values()))
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
    xs, ys = zip(*pos.values(), strict=True)
    ax.set_xlim(min(xs) - 1, max(xs) + 1)
    ax.set_ylim(min(ys) - 1, max(ys) + 1)
    ax.axis("off")
    ax.set_title("Claim dependencies (arrows: used by), coloured by verdict; mutations (dashed) must be refuted (red)",
                 fontsize=9)
    fig.tight_layout()
    return fig


def save_figure(fig: Any, out: Path, stem: str) -> str:
    """Write PNG and SVG (deterministic SVG ids); return the PNG as base64 for embedding."""
    import matplotlib

    matplotlib.rcParams["svg.hashsalt"] = "verify"
    fig.savefig(out / f"{stem}.svg", metadata={"Date": None})
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    (out / f"{stem}.png").write_bytes(buf.getvalue())
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _row(r: ClaimResult) -> list[str]:
    c = r.counts
    cx = r.counterexample
    cx_text = ""
    if cx is not None:
        cx_text = f"init #{cx.index} θ0 = ({', '.join(cx.theta0)}): {cx.outcome.detail}"
        if cx.outcome.counterexample:
            cx_text += " — " + ", ".join(f"{k} = {v}" for k, v in cx.outcome.counterexample.items())
    cfg = r.config
    return [r.claim_id, r.verdict.value, *(str(c[s]) for s in STATUSES),
            f"{cfg['scheme']}, {cfg.get('backend', 'arb')}, {cfg['prec']} bits", r.source,
            "; ".join(r.hypotheses) or "—", cx_text]


HEADER = ["claim", "verdict", *STATUSES, "inits, engine, precision", "source", "hypotheses", "counterexample"]


ENGINES_NOTE = ("Every GD run is certified: on float64 interval lanes (batch-f64), or on Arb for the lanes the batch "
                "could not certify to the end (escalated, with the reason).")


def engines_phrase(engines: dict[str, Any] | None) -> str:
    """``10000 inits: batch-f64 9998, arb 2 (escalated: 2 ...)`` from a sweep summary."""
    if not engines:
        return "—"
    text = f"{engines['inits']} inits: " + ", ".join(f"{name} {count}" for name, count in engines["engines"].items())
    if engines["escalated"]:
        text += " (escalated: " + "; ".join(f"{c} because {why}" for why, c in engines["escalation_reasons"].items())
        text += ")"
    return text


def engine_lines(doc: dict[str, Any]) -> list[str]:
    """Which engine certified the runs behind each part of the report (float64 batch lanes, or Arb
    for the lanes the batch handed on), one line per part."""
    lines = []
    for title, key in (("claims", "claims"), ("mutation guard", "mutations")):
        for r in doc.get(key, []):
            if r.get("engines"):
                lines.append(f"{title} ({r['config']['scheme']}): {engines_phrase(r['engines'])}")
                break
    for scheme, s in doc.get("figure3", {}).get("schemes", {}).items():
        lines.append(f"Figure 3 ({scheme}): {engines_phrase(s.get('engines'))}")
    return lines


def render_markdown(doc: dict[str, Any], timings: dict[str, Any], provenance: dict[str, Any]) -> str:
    claims = [ClaimResult.from_dict(d) for d in doc["claims"]]
    mutations = [ClaimResult.from_dict(d) for d in doc["mutations"]]
    lines = [f"# Verification report — {doc['paper']}", "",
             f"Settings digest `{doc['settings_digest']}`; precision {doc['settings']['prec']} bits "
             f"(escalating to {doc['settings']['max_prec']}).", ""]
    for title, rows in (("Claims", claims), ("Mutation guard (must be refuted)", mutations)):
        lines += [f"## {title}", "", "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        for r in rows:
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in _row(r)) + " |")
        lines.append("")
    for scheme, s in doc.get("figure3", {}).get("schemes", {}).items():
        lo, hi = s["wilson95"] or (None, None)
        ks = f", KS p-value vs f_B {s['ks_pvalue']}" if "ks_pvalue" in s else ""
        lines.append(f"- Figure 3, {scheme}: {s['converged']}/{s['inits']} converged (certified L < 1/2), "
                     f"95% Wilson [{lo}, {hi}]; the paper's 2368/10000 is "
                     f"{'inside' if s['paper_inside_wilson95'] else 'outside'} it{ks}.")
    engines = engine_lines(doc)
    if engines:
        lines += ["", "## Engines", "", ENGINES_NOTE, ""]
        lines += [f"- {line}" for line in engines]
    stems = ("dependencies", "figure1", "figure2", "figure3", "rate")
    lines += ["", "## Figures", ""] + [f"![{stem}]({stem}.png)" for stem in stems]
    lines += ["", "## Reproducibility", "", "```json",
              json.dumps({**provenance, "settings": doc["settings"], "wall_times": timings}, indent=2,
                         sort_keys=True), "```", ""]
    return "\n".join(lines)


def _cell(text: str, fold: int = 160) -> str:
    """A table cell; long exact counterexamples fold into a <details> element."""
    if len(text) <= fold:
        return f"<td>{html.escape(text)}</td>"
    return (f"<td><details><summary>{html.escape(text[:fold])}…</summary>"
            f"<code style='word-break:break-all'>{html.escape(text)}</code></details></td>")


def render_html(doc: dict[str, Any], timings: dict[str, Any], provenance: dict[str, Any],
                figures: dict[str, str]) -> str:
    claims = [ClaimResult.from_dict(d) for d in doc["claims"]]
    mutations = [ClaimResult.from_dict(d) for d in doc["mutations"]]
    colour = {"certified": "#d4f4d2", "refuted": "#f8d0d0", "inconclusive": "#fff3c4"}

    def table(rows: list[ClaimResult]) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in HEADER)
        body = []
        for r in rows:
            cells = _row(r)
            style = colour.get(r.verdict.value, "#fff")
            body.append(f"<tr style='background:{style}'>" + "".join(_cell(c) for c in cells) + "</tr>")
        return f"<table><tr>{head}</tr>{''.join(body)}</table>"

    figs = "".join(f"<h2>{html.escape(name)}</h2><img alt='{html.escape(name)}' src='data:image/png;base64,{b64}'>"
                   for name, b64 in figures.items())
    prov = html.escape(json.dumps({**provenance, "settings": doc["settings"], "wall_times": timings}, indent=2,
                                  sort_keys=True))
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Verification report — {doc['paper']}</title>
<style>body{{font-family:sans-serif;max-width:1200px;margin:auto}} table{{border-collapse:collapse;font-size:12px}}
td,th{{border:1px solid #aaa;padding:3px 6px;vertical-align:top}} img{{max-width:100%}}</style></head><body>
<h1>Verification report — {html.escape(doc['paper'])}</h1>
<p>Settings digest <code>{doc['settings_digest']}</code>; precision {doc['settings']['prec']} bits.</p>
<h2>Claims</h2>{table(claims)}<h2>Mutation guard (must be refuted)</h2>{table(mutations)}
{fig3_text(doc)}{engines_html(doc)}
{figs}<h2>Reproducibility</h2><pre>{prov}</pre></body></html>
"""


def engines_html(doc: dict[str, Any]) -> str:
    items = "".join(f"<li>{html.escape(line)}</li>" for line in engine_lines(doc))
    return f"<h2>Engines</h2><p>{html.escape(ENGINES_NOTE)}</p><ul>{items}</ul>" if items else ""


def fig3_text(doc: dict[str, Any]) -> str:
    """Figure 3's convergence counts beside the paper's, as HTML."""
    items = []
    for scheme, s in doc.get("figure3", {}).get("schemes", {}).items():
        lo, hi = s["wilson95"] or (None, None)
        ks = f"; KS p-value vs f_B = {s['ks_pvalue']}" if "ks_pvalue" in s else " (f_B assumes zero-bias Gaussian)"
        where = "inside" if s["paper_inside_wilson95"] else "outside"
        items.append(f"<li><b>{html.escape(scheme)}</b>: {s['converged']}/{s['inits']} converged "
                     f"(certified L &lt; 1/2), 95% Wilson [{lo}, {hi}]; "
                     f"the paper's 2368/10000 = 0.2368 is {where} it{ks}; "
                     f"{s['inconclusive']} runs inconclusive.</li>")
    return f"<h2>Figure 3: convergence</h2><ul>{''.join(items)}</ul>" if items else ""


def write_report(out: Path, doc: dict[str, Any], timings: dict[str, Any], provenance: dict[str, Any],
                 extra_figures: list[tuple[str, str, Any]] = ()) -> None:
    """Write every report file into ``out`` (which must exist); ``extra_figures`` holds
    ``(title, file stem, matplotlib figure)``. Figures already saved in ``out`` by an earlier
    run are embedded again when ``verify report`` re-renders."""
    (out / "results.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    (out / "timings.json").write_text(json.dumps(timings, indent=1, sort_keys=True) + "\n")
    claims = [ClaimResult.from_dict(d) for d in doc["claims"]]
    mutations = [ClaimResult.from_dict(d) for d in doc["mutations"]]
    figures = {"Claim dependency graph": save_figure(figure_dependencies(claims, mutations), out, "dependencies"),
               "Figure 1: the limiting network": save_figure(figure_limit_network(), out, "figure1")}
    for title, stem, fig in extra_figures:
        figures[title] = save_figure(fig, out, stem)
    stored = (("figure2", "Figure 2: phase transitions"), ("figure3", "Figure 3: numerator lower bound vs f_B"),
              ("rate", "Rate: margin deficit x ln t"))
    for stem, title in stored:
        if title not in figures and (out / f"{stem}.png").exists():
            figures[title] = base64.b64encode((out / f"{stem}.png").read_bytes()).decode()
    (out / "index.md").write_text(render_markdown(doc, timings, provenance))
    (out / "index.html").write_text(render_html(doc, timings, provenance, figures))
