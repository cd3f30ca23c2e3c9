"""``verify trajectory``: one init's certified run: phases, enclosures, loss, the paper's quantities, a plot."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from verify.cli.common import (
    ConfigOpt,
    EtaOpt,
    LossOpt,
    MaxPrecOpt,
    Opt,
    PrecOpt,
    SchemeOpt,
    SeedOpt,
    SetOpt,
    build_settings,
    fail,
)
from verify.errors import InvalidArgument, UndecidableError, VerifyError
from verify.numbers import short, short_enclosure

PLOT_SUFFIXES = (".png", ".svg", ".pdf")
MAX_PRINTED_PARAMS = 8


def parse_init(text: str, names: tuple[str, ...]) -> list[str]:
    """``"0.7,0,-0.4,0"`` in parameter order, or ``"w1=0.7,b1=0,..."`` naming every parameter."""
    parts = [p.strip() for p in text.split(",")] if text.strip() else []
    if not parts:
        raise InvalidArgument("init", text, f"must list {len(names)} values {names}")
    if all("=" in p for p in parts):
        values = {}
        for p in parts:
            key, _, value = p.partition("=")
            key = key.strip()
            if key not in names:
                raise InvalidArgument("init", key, f"is not a parameter name; names: {names}")
            values[key] = value.strip()
        missing = [n for n in names if n not in values]
        if missing:
            raise InvalidArgument("init", text, f"must name every parameter; missing {missing}")
        return [values[n] for n in names]
    if any("=" in p for p in parts):
        raise InvalidArgument("init", text, "must be all positional or all name=value")
    if len(parts) != len(names):
        raise InvalidArgument("init", text, f"must have {len(names)} entries {names}")
    return parts


def check_plot_path(plot: Path) -> None:
    if plot.suffix.lower() not in PLOT_SUFFIXES:
        raise InvalidArgument("plot", str(plot), f"must be a file name ending in one of {list(PLOT_SUFFIXES)}")
    if plot.is_dir():
        raise InvalidArgument("plot", str(plot), "is a folder; give a file name")
    if not plot.parent.is_dir():
        raise InvalidArgument("plot", str(plot), f"is in a folder that does not exist ({plot.parent})")


def trajectory(init: Annotated[str | None, Opt(help="exact theta_0, in the paper's parameter order (e.g. "
                                                    "0.7,0,-0.4,0) or by name (w1=0.7,b1=0,...)")] = None,
               paper: Annotated[str | None, Opt(help="paper id (see `verify papers`) [a]")] = None,
               scheme: SchemeOpt = None, seed: SeedOpt = None,
               index: Annotated[int, Opt(help="case index when --init is not given")] = 0,
               eta: EtaOpt = None, steps: Annotated[int, Opt(help="GD steps")] = 10_000, prec: PrecOpt = None,
               max_prec: MaxPrecOpt = None,
               backend: Annotated[str, Opt(help="engine: arb | mpmath | batch (float64 lanes, escalated to arb) | "
                                               "auto | matrix", show_default=True)] = "arb", loss: LossOpt = None,
               config: ConfigOpt = None, set_: SetOpt = None,
               plot: Annotated[Path | None, Opt(help="write a plot of loss, quantities and parameters to this "
                                                    ".png/.svg/.pdf file")] = None) -> None:
    """One init: its certified phases, enclosures at log-spaced steps, the loss and the paper's quantities."""
    from verify.dynamics.schedule import RecordSchedule
    from verify.dynamics.sweep import certified_run
    from verify.papers import get_paper

    try:
        owner = get_paper(paper or "a")
        settings = build_settings([owner], config, set_, scheme=scheme, seed=seed, eta=eta, steps=steps, prec=prec,
                                  max_prec=max_prec, backend=backend, loss=loss)[owner.id]
        if index < 0:
            raise InvalidArgument("index", index, "must be >= 0")
        if plot is not None:
            check_plot_path(plot)
        case = owner.case(settings, index)
        problem = case.problem
        names = problem.network.param_names()
        theta0 = problem.network.check_params(parse_init(init, names), "init") if init is not None else case.theta0
        spec = settings.sweep_spec(RecordSchedule(per_decade=20 if plot else 1), problem)
        lane, traj = certified_run(spec, theta0)
    except VerifyError as exc:
        fail(str(exc))
    shown = [q for q in owner.quantities().values() if q.show]
    typer.echo(f"theta0 = ({', '.join(short(q) if len(str(q)) > 40 else str(q) for q in theta0)}), "
               f"eta = {settings.eta}")
    typer.echo(f"engine: {lane.engine}" + (f" (escalated: {lane.escalated})" if lane.escalated else ""))
    typer.echo(f"status: {traj.status} at {traj.prec} bits" + (f" — {traj.reason}" if traj.reason else ""))
    typer.echo("phases: " + " -> ".join(f"{p}@{t}" for t, p in traj.phases))
    series: dict[str, list[float]] = {"t": [], "loss": [], **{q.name: [] for q in shown}}
    printed = {r.t for r in traj.records[:: max(len(traj.records) // 12, 1)]} if plot else None
    for rec in traj.records:
        th = traj.enclosures(rec)
        loss = traj.loss(rec)
        series["t"].append(rec.t)
        series["loss"].append(float(loss))
        values = {}
        for q in shown:
            try:
                v = q.value(th, problem)
                values[q.name] = short_enclosure(v, 12)
                series[q.name].append(float(v))
            except UndecidableError:
                values[q.name] = "undecided"
                series[q.name].append(float("nan"))
        if len(th) <= MAX_PRINTED_PARAMS:
            for k, v in th.items():
                series.setdefault(k, []).append(float(v))
        if printed is not None and rec.t not in printed:
            continue
        params = "  ".join(f"{k}={short(v.mid, 12)}" for k, v in th.items()) if len(th) <= MAX_PRINTED_PARAMS \
            else f"({len(th)} parameters)"
        extra = "".join(f"  {name}∈{text}" for name, text in values.items())
        typer.echo(f"t={rec.t:>8}  {rec.pattern}  {params}  L∈{short_enclosure(loss, 6)}{extra}  "
                   f"width≤{short(traj.max_width(rec), 2, 'up')}")
    if plot:
        _plot(series, [q.name for q in shown], [n for n in names if n in series], traj.phases, plot)
        typer.echo(f"plot: {plot}")


def _plot(series: dict[str, list[float]], quantities: list[str], params: list[str], phases: list[tuple[int, str]],
          path: Path) -> None:
    """Loss, the paper's shown quantities and the parameters against t (log axis), phase changes
    marked (plot values only)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [max(x, 1) for x in series["t"]]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.4))
    axes[0].plot(t, series["loss"])
    axes[0].set_yscale("log")
    axes[0].set_title("loss L(theta_t)")
    for name in quantities:
        axes[1].plot(t, series[name], label=name)
    axes[1].set_title("the paper's quantities")
    if quantities:
        axes[1].legend(fontsize=7)
    for name in params:
        axes[2].plot(t, series[name], label=name)
    if params:
        axes[2].legend(fontsize=7)
    axes[2].set_title("parameters")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("t")
        for start, _ in phases[1:]:
            ax.axvline(max(start, 1), color="grey", ls=":", lw=0.8)
    fig.suptitle("phases: " + " -> ".join(f"{p}@{s}" for s, p in phases), fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
