"""Render a results document as Markdown and as a self-contained HTML page.

Writers only read the stored document (and the paper plug-in's sections rendered from its stored
``paper_data``), so ``verify report`` re-renders without recomputing. The page opens with a summary
(claims certified, mutations refuted, what differs from the paper), shows each claim's statement
beside its verdict, prints counterexamples as short decimals with the exact values one click away,
and states the precision of the engines that actually ran.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from typing import Any

from verify.claims.result import ClaimResult, InitOutcome
from verify.numbers import short
from verify.papers import Section, get_paper

STATUSES = ("certified", "refuted", "inconclusive", "not-admitted")
ENGINES_NOTE = ("Every GD run is certified: on float64 interval lanes (batch-f64, 53-bit doubles rounded outward), "
                "or on Arb balls for the lanes the float64 engine could not certify to the end (escalated, with "
                "the reason).")


def _results(doc: dict[str, Any], key: str) -> list[ClaimResult]:
    return [ClaimResult.from_dict(d) for d in doc[key]]


def summary(doc: dict[str, Any]) -> list[str]:
    """The report's opening sentences: verdict counts, the mutation guard, and the paper's findings."""
    claims, mutations = _results(doc, "claims"), _results(doc, "mutations")
    verdicts = Counter(c.verdict.value for c in claims)
    refuted = [c.claim_id for c in claims if c.verdict.value == "refuted"]
    unrefuted = [m.claim_id for m in mutations if m.verdict.value != "refuted"]
    first = f"{verdicts['certified']} of {len(claims)} claims certified"
    if verdicts["inconclusive"]:
        first += f", {verdicts['inconclusive']} inconclusive"
    if refuted:
        first += f", {len(refuted)} REFUTED ({', '.join(refuted)})"
    second = (f"{len(mutations) - len(unrefuted)} of {len(mutations)} mutations (deliberately false variants) "
              "refuted, each with an exact counterexample")
    if unrefuted:
        second += " — NOT refuted: " + ", ".join(unrefuted)
    lines = [first + ".", second + "."]
    lines += get_paper(doc["paper"]).findings(doc.get("paper_data", {}))
    return lines


def precision_phrase(r: ClaimResult) -> str:
    """The precisions the claim's outcomes were decided at, e.g. ``53 bits x195, 128 bits x5``."""
    precs = Counter(o.outcome.prec for o in r.outcomes
                    if o.outcome.prec is not None and o.outcome.status.value != "not-admitted")
    if not precs:
        return "—" if any(o.outcome.prec is not None for o in r.outcomes) else "exact / Arb (no GD run)"
    return ", ".join(f"{p} bits ×{n}" for p, n in sorted(precs.items()))


def theta_short(theta: tuple[str, ...]) -> str:
    return "(" + ", ".join(short(q, 6) for q in theta) + ")"


def counterexample_parts(cx: InitOutcome | None) -> tuple[str, str]:
    """``(short text, exact text)`` of a claim's smallest counterexample (empty when none)."""
    if cx is None:
        return "", ""
    values = cx.outcome.counterexample or {}
    short_text = f"init #{cx.index} θ0 ≈ {theta_short(cx.theta0)}: {cx.outcome.detail}"
    exact = [f"θ0 = ({', '.join(cx.theta0)})"] + [f"{k} = {v}" for k, v in values.items()]
    return short_text, "; ".join(exact)


def engines_phrase(engines: dict[str, Any] | None) -> str:
    """``10000 inits: batch-f64 9998, arb 2 (escalated: 2 because ...)`` from a sweep summary."""
    if not engines:
        return "—"
    text = f"{engines['inits']} inits: " + ", ".join(f"{name} {count}" for name, count in engines["engines"].items())
    if engines["escalated"]:
        text += " (escalated: " + "; ".join(f"{c} because {why}" for why, c in engines["escalation_reasons"].items())
        text += ")"
    return text


def diverged_inits(results: list[dict[str, Any]]) -> int:
    """How many inits' GD runs the outcomes of ``results`` (one part of the report, sharing its runs)
    tag as certified divergent (:mod:`verify.dynamics.divergence`), admitted by a claim or not."""
    return len({o["index"] for r in results for o in r.get("outcomes", ())
                if o["outcome"].get("data", {}).get("gd") == "diverged"})


def engine_lines(doc: dict[str, Any]) -> list[str]:
    """Which engines certified the runs behind each part of the report, one line per part, with how
    many of those runs were certified divergent (when any were)."""
    lines = []
    for title, key in (("claims", "claims"), ("mutation guard", "mutations")):
        for r in doc.get(key, []):
            if r.get("engines"):
                diverged = diverged_inits(doc[key])
                note = f"; GD certified divergent on {diverged} of {r['engines']['inits']} inits" if diverged else ""
                lines.append(f"{title} ({r['config']['scheme']}): {engines_phrase(r['engines'])}{note}")
                break
    for part, engines in get_paper(doc["paper"]).engine_lines(doc.get("paper_data", {})):
        lines.append(f"{part}: {engines_phrase(engines)}")
    return lines


FIGURES_NOT_DRAWN = "figures_not_drawn"  # paper_data key: [{"title": ..., "reason": ...}] a paper could not draw


def figure_notes(doc: dict[str, Any]) -> list[str]:
    """One line per figure the paper could not draw from its data (``paper_data["figures_not_drawn"]``)."""
    return [f"figure {n['title']} not drawn: {n['reason']}"
            for n in doc.get("paper_data", {}).get(FIGURES_NOT_DRAWN, [])]


HEADER = ["claim", "verdict", "statement", *STATUSES, "precision", "hypotheses", "source", "counterexample"]


def _cells(r: ClaimResult) -> list[str]:
    c = r.counts
    return [r.claim_id, r.verdict.value, f"{r.title}. {r.statement}", *(str(c[s]) for s in STATUSES),
            precision_phrase(r), "; ".join(r.hypotheses) or "—", r.source]


def render_markdown(doc: dict[str, Any], timings: dict[str, Any], provenance: dict[str, Any],
                    figure_stems: list[tuple[str, str]]) -> str:
    """The report as Markdown (figures referenced as files)."""
    paper = get_paper(doc["paper"])
    settings = doc["settings"]
    lines = [f"# Verification report — paper {doc['paper']}: {doc.get('title', paper.title)}", "",
             "## Summary", ""]
    lines += [f"- {s}" for s in summary(doc)]
    lines += ["", f"Settings digest `{doc['settings_digest']}`; arbitrary precision {settings['prec']} bits "
              f"(escalating to {settings['max_prec']}), engine `{settings['backend']}`.", ""]
    for title, key in (("Claims", "claims"), ("Mutation guard (must be refuted)", "mutations")):
        lines += [f"## {title}", "", "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        for r in _results(doc, key):
            short_cx, exact_cx = counterexample_parts(r.counterexample)
            cx = f"{short_cx} (exact: {exact_cx})" if short_cx else ""
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in [*_cells(r), cx]) + " |")
        lines.append("")
    for section in paper.sections(doc.get("paper_data", {})):
        lines += [f"## {section.title}", "", section.markdown, ""]
    engines = engine_lines(doc)
    if engines:
        lines += ["## Engines", "", ENGINES_NOTE, ""] + [f"- {line}" for line in engines] + [""]
    lines += ["## Figures", ""] + [f"![{title}]({stem}.png)" for title, stem in figure_stems]
    lines += [f"- {note}" for note in figure_notes(doc)]
    lines += ["", "## Reproducibility", "", "```json",
              json.dumps({**provenance, "settings": settings, "wall_times": timings}, indent=2, sort_keys=True),
              "```", ""]
    return "\n".join(lines)


def _td(text: str) -> str:
    return f"<td>{html.escape(text)}</td>"


def _statement_td(r: ClaimResult) -> str:
    return f"<td><b>{html.escape(r.title)}</b><br><span class='stmt'>{html.escape(r.statement)}</span></td>"


def _counterexample_td(r: ClaimResult) -> str:
    short_cx, exact_cx = counterexample_parts(r.counterexample)
    if not short_cx:
        return "<td></td>"
    return (f"<td><details><summary>{html.escape(short_cx)}</summary>"
            f"<code class='exact'>{html.escape(exact_cx)}</code></details></td>")


VERDICT_BG = {"certified": "#d4f4d2", "refuted": "#f8d0d0", "inconclusive": "#fff3c4"}


def _table(rows: list[ClaimResult], table_id: str) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in HEADER)
    body = []
    for r in rows:
        cells = [_td(r.claim_id), _td(r.verdict.value), _statement_td(r)]
        cells += [_td(str(r.counts[s])) for s in STATUSES]
        cells += [_td(precision_phrase(r)), _td("; ".join(r.hypotheses) or "—"), _td(r.source), _counterexample_td(r)]
        body.append(f"<tr id='{html.escape(r.claim_id)}' style='background:{VERDICT_BG.get(r.verdict.value, '#fff')}'>"
                    + "".join(cells) + "</tr>")
    return f"<table id='{table_id}'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _section_html(section: Section) -> str:
    return f"<h2>{html.escape(section.title)}</h2>{section.html}"


def render_html(doc: dict[str, Any], timings: dict[str, Any], provenance: dict[str, Any],
                figures: list[tuple[str, str]]) -> str:
    """The report as one self-contained page; ``figures`` holds ``(title, base64 PNG)``."""
    paper = get_paper(doc["paper"])
    settings = doc["settings"]
    title = f"Verification report — paper {doc['paper']}: {doc.get('title', paper.title)}"
    summary_items = "".join(f"<li>{html.escape(s)}</li>" for s in summary(doc))
    sections = "".join(_section_html(s) for s in paper.sections(doc.get("paper_data", {})))
    engines = "".join(f"<li>{html.escape(line)}</li>" for line in engine_lines(doc))
    engines_html = f"<h2>Engines</h2><p>{html.escape(ENGINES_NOTE)}</p><ul>{engines}</ul>" if engines else ""
    figs = "".join(f"<figure><h2>{html.escape(name)}</h2><img alt='{html.escape(name)}' "
                   f"src='data:image/png;base64,{b64}'></figure>" for name, b64 in figures)
    notes = "".join(f"<li>{html.escape(note)}</li>" for note in figure_notes(doc))
    figs += f"<ul id='figure-notes'>{notes}</ul>" if notes else ""
    prov = html.escape(json.dumps({**provenance, "settings": settings, "wall_times": timings}, indent=2,
                                  sort_keys=True))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<link rel="icon" href="data:,">
<style>body{{font-family:sans-serif;max-width:1300px;margin:auto;padding:0 1em}}
table{{border-collapse:collapse;font-size:12px}} td,th{{border:1px solid #aaa;padding:3px 6px;vertical-align:top}}
.stmt{{color:#333}} code.exact{{word-break:break-all;display:block;max-width:40em}} img{{max-width:100%}}
#summary{{background:#f4f4f4;padding:.5em 1em;border-left:4px solid #888}}</style></head><body>
<h1>{html.escape(title)}</h1>
<section id="summary"><h2>Summary</h2><ul>{summary_items}</ul>
<p>Settings digest <code>{html.escape(doc['settings_digest'])}</code>; arbitrary precision {settings['prec']} bits
(escalating to {settings['max_prec']}); engine <code>{html.escape(str(settings['backend']))}</code>. Exact values of
every number are in <a href="results.json">results.json</a>.</p></section>
<h2>Claims</h2>{_table(_results(doc, 'claims'), 'claims')}
<h2>Mutation guard (must be refuted)</h2>{_table(_results(doc, 'mutations'), 'mutations')}
{sections}{engines_html}{figs}
<h2>Reproducibility</h2><pre>{prov}</pre></body></html>
"""
