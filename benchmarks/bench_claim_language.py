"""What "at every step" costs: memory of stride-1 records on the batch lanes, and claim evaluation time.

A claim of the language reads every step, so the runner records every step (``RecordSchedule`` stride
1) for it, in sweeps of at most ``EVERY_STEP_BLOCK`` (256) inits. Measured here, on paper A's He-normal
inits (eta = 1/10):

(1) peak memory of ``run_batch`` over ``--lanes`` lanes x ``--steps`` steps with the default schedule
    (log-spaced, ~120 records) and with every step recorded, in a fresh spawned process each (peak RSS
    ``VmHWM`` after a reset, minus the RSS before the call), and per recorded lane-step; plus the
    memory and time of reading every lane back as an Arb trajectory (one at a time, as the sweep does);
(2) claim checking time per init, through the runner in this process: paper A's Python claim
    ``small-loss-classifies`` (baseline, default schedule) against the same claim in the language
    (every step), and the whole of ``examples/paper_a.toml``.

Times are medians over ``--repeats`` runs; ratios are against the baseline measured in the same run.

    python benchmarks/bench_claim_language.py [--lanes 256] [--steps 2000] [--inits 24] [--repeats 3]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
from pathlib import Path
from typing import Any

from timing import median_time  # benchmarks/timing.py, beside this script

ROOT = Path(__file__).resolve().parent.parent


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmHWM")


def _records_child(every: bool, lanes: int, steps: int, read_back: bool, out: Any) -> None:
    from verify.dynamics.batch import run_batch
    from verify.dynamics.schedule import EVERY_STEP, RecordSchedule
    from verify.settings import CheckSettings

    s = CheckSettings(inits=lanes)
    problem = s.problem()
    inits = [c.theta0 for c in s.plugin.cases(s)]
    schedule = EVERY_STEP if every else RecordSchedule()
    run_batch(problem, inits[:2], 10, schedule=schedule)  # compile the kernels first
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = rss_bytes()
    run = run_batch(problem, inits, steps, schedule=schedule)
    records = len(run.rec_steps)
    if read_back:
        for k in range(len(run)):
            if run.completed(k):
                run.trajectory(k, s.prec)  # dropped at once, as in a sweep
    out.send({"increase": max(peak_rss_bytes() - before, 0), "records": records})
    out.close()


def measure_records(every: bool, lanes: int, steps: int, read_back: bool) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_records_child, args=(every, lanes, steps, read_back, send))
    child.start()
    send.close()
    result = recv.recv()
    child.join()
    return result


def mib(n: float) -> str:
    return f"{n / 2**20:,.1f} MiB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lanes", type=int, default=256)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--inits", type=int, default=24)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    print(f"(1) records of run_batch: {args.lanes} lanes x {args.steps} steps (paper A, he)")
    for read_back in (False, True):
        rows = {every: measure_records(every, args.lanes, args.steps, read_back) for every in (False, True)}
        base, every = rows[False], rows[True]
        what = "run_batch + every lane read back as an Arb trajectory" if read_back else "run_batch"
        print(f"    {what}:")
        for label, r in (("default schedule", base), ("every step      ", every)):
            per = r["increase"] / (args.lanes * r["records"])
            print(f"      {label}: {r['records']:>5} records/lane, peak +{mib(r['increase'])} "
                  f"({per:,.0f} B per lane-record)")
        print(f"      ratio every-step / default: {every['increase'] / max(base['increase'], 1):.1f}x")

    from verify.claims.language.claims import file_claims
    from verify.claims.runner import check_claims
    from verify.papers import find_claim
    from verify.settings import CheckSettings

    s = CheckSettings(inits=args.inits, steps=args.steps)
    cases = s.plugin.cases(s)
    lang = ROOT / "benchmarks" / "_small_loss.toml"
    lang.write_text('paper = "a"\n[define]\nyphi1 = "relu(w1 + b1) - relu(w2 + b2)"\n'
                    'yphi2 = "relu(b2 - w2) - relu(b1 - w1)"\n[claim.small-loss-classifies]\nform = "always"\n'
                    'holds = "L >= 1/2 or (yphi1 > 0 and yphi2 > 0)"\n')
    try:
        python_claim = [find_claim("a", "small-loss-classifies")]
        lang_claim = list(file_claims(lang, s).values())
        example = list(file_claims(ROOT / "examples" / "paper_a.toml", s).values())
        check_claims(lang_claim, s, cases=cases[:2], workers=1)  # warm up (numba, sympy)
        t_py = median_time(lambda: check_claims(python_claim, s, cases=cases, workers=1), args.repeats)
        t_lang = median_time(lambda: check_claims(lang_claim, s, cases=cases, workers=1), args.repeats)
        t_ex = median_time(lambda: check_claims(example, s, cases=cases, workers=1), args.repeats)
    finally:
        lang.unlink()
    n = len(cases)
    print(f"(2) claim checking, {n} inits x {args.steps} steps, 1 process (medians of {args.repeats})")
    print(f"    small-loss-classifies, Python catalog (baseline):  {t_py / n * 1e3:8.1f} ms/init")
    print(f"    small-loss-classifies, claim language, every step: {t_lang / n * 1e3:8.1f} ms/init "
          f"(ratio {t_lang / t_py:.2f})")
    print(f"    examples/paper_a.toml, {len(example)} claims:               {t_ex / n * 1e3:8.1f} ms/init "
          f"({t_ex / n / len(example) * 1e3:.1f} ms per claim and init; ratio {t_ex / t_py:.2f})")


if __name__ == "__main__":
    main()
