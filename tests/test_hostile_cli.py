"""Issue 13, as a user meets it: every hostile but legal command runs the installed ``verify`` in a
subprocess and must give exit 2 with one line naming the field (nothing written, nothing computed
first), or finish honestly; crashes exit 3 with a log, verdicts 1, signals 128 + signum."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import verify_cli

HUGE = ["--inits", "1000000", "--steps", "1000000"]  # hours of work if a check came after it
TINY = ["--inits", "3", "--steps", "20", "--workers", "1"]


def refused(result: subprocess.CompletedProcess, *words: str) -> None:
    """Exit 2, exactly one ``error:`` line on stderr naming what is wrong, nothing on stdout."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    for word in words:
        assert word in lines[0], (word, lines[0])


def snapshot(folder: Path) -> dict[str, str]:
    """Every file below ``folder`` (hidden ones included) with its SHA-256."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def no_staging(parent: Path) -> bool:
    return not [p for p in parent.rglob("*") if "-staging-" in p.name]


# --- verify run --out: checked before computing -------------------------------------------------
def test_run_out_is_a_file_below_a_file_or_unwritable(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    for out, words in ((afile, "is a file"), (afile / "below", "lies below the file"),
                       (Path("/proc/verify-out"), "not writable")):
        refused(verify_cli("run", "--out", str(out), *HUGE, timeout=60), f"out='{out}'", words)
    assert afile.read_text() == "x"


def test_run_never_replaces_a_folder_that_is_not_a_report(tmp_path):
    mine = tmp_path / "paper_a"
    mine.mkdir()
    (mine / "thesis.tex").write_text("keep me")
    refused(verify_cli("run", "--out", str(tmp_path), "--paper", "a", *HUGE, timeout=60),
            "holds no report", "refusing to replace it")
    assert (mine / "thesis.tex").read_text() == "keep me"


# --- verify report: validate first, write atomically, --out ----------------------------------------
def _mutate(folder: Path, name: str, change) -> None:
    path = folder / name
    if callable(change):
        doc = json.loads(path.read_text())
        change(doc)
        path.write_text(json.dumps(doc))
    else:
        path.write_text(change)


def _set(key, value):
    def change(doc):
        doc[key] = value
    return change


def _del(key):
    def change(doc):
        del doc[key]
    return change


def _verdict(value):
    def change(doc):
        doc["claims"][0]["verdict"] = value
    return change


@pytest.mark.parametrize("name, change, words", [
    ("results.json", "[]", ["results.json='list'", "JSON object"]),
    ("results.json", "{}", ["results.json.schema_version", "found no schema_version"]),
    ("results.json", "null", ["results.json='NoneType'"]),
    ("results.json", '{"schema_version": 2, "paper": "a"}', ["does not fit the schema", "'settings'"]),
    ("results.json", "{not json", ["is not valid JSON"]),
    ("results.json", _set("schema_version", 99), ["schema_version=99", "newer than this verify reads (2)"]),
    ("results.json", _set("schema_version", "2"), ["schema_version='2'", "must be 2"]),
    ("results.json", _del("schema_version"), ["found no schema_version"]),
    ("results.json", _set("paper", "zz"), ["results.json.paper='zz'", "not an installed paper"]),
    ("results.json", _verdict("maybe"), ["claims.0.verdict", "'maybe' is not one of"]),
    ("results.json", _verdict("refuted"), ["claims.0.verdict='refuted'", "does not match its outcomes"]),
    ("provenance.json", "[1", ["provenance=", "not readable JSON"]),
    ("provenance.json", "[1]", ["provenance=", "must hold a JSON object"]),
    ("timings.json", "5", ["timings=", "must hold a JSON object"]),
])
def test_report_refuses_a_bad_folder_and_changes_nothing(small_report, tmp_path, name, change, words):
    folder = tmp_path / "paper_a"
    shutil.copytree(small_report, folder)
    _mutate(folder, name, change)
    before = snapshot(tmp_path)
    refused(verify_cli("report", str(folder)), *words)
    assert snapshot(tmp_path) == before and no_staging(tmp_path)


def test_report_out_renders_elsewhere_and_leaves_the_source_alone(small_report, tmp_path):
    source = tmp_path / "src"
    shutil.copytree(small_report, source)
    before = snapshot(source)
    result = verify_cli("report", str(source), "--out", str(tmp_path / "copy"))
    assert result.returncode == 0 and result.stdout.strip() == f"report: {tmp_path / 'copy' / 'index.html'}"
    assert snapshot(source) == before
    assert snapshot(tmp_path / "copy") == before  # the re-rendering is byte-identical
    assert no_staging(tmp_path)


def test_report_out_never_overwrites_a_user_file_or_folder(small_report, tmp_path):
    afile, folder = tmp_path / "afile", tmp_path / "mine"
    afile.write_text("x")
    folder.mkdir()
    (folder / "notes.txt").write_text("keep")
    refused(verify_cli("report", str(small_report), "--out", str(afile)), f"out='{afile}'", "is a file")
    refused(verify_cli("report", str(small_report), "--out", str(afile / "r")), "lies below the file")
    refused(verify_cli("report", str(small_report), "--out", str(folder)), "holds no report")
    assert afile.read_text() == "x" and (folder / "notes.txt").read_text() == "keep"


def test_report_of_a_missing_or_empty_source(tmp_path):
    refused(verify_cli("report", str(tmp_path / "nowhere")), "does not exist")
    refused(verify_cli("report", str(tmp_path)), "source=", "holds no results.json")


def test_published_report_is_readable_by_others_under_a_strict_umask(small_report, tmp_path):
    code = ("import os, sys\nos.umask(0o077)\nfrom verify.cli import main\n"
            f"sys.argv = ['verify', 'report', {str(small_report)!r}, '--out', {str(tmp_path / 'a' / 'b' / 'r')!r}]\n"
            "main()\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    for path in [tmp_path / "a", tmp_path / "a" / "b", *(tmp_path / "a").rglob("*")]:
        assert path.stat().st_mode & 0o777 == (0o755 if path.is_dir() else 0o644), path


# --- TOML settings ---------------------------------------------------------------------------------
@pytest.mark.parametrize("text, words", [
    ("[settings]\ninits = 3\nfoo = 1\n", ["config.settings", "put shared settings at the top level"]),
    ("foo = 1\n", ["config.foo=1", "is not a known setting"]),
    ("settings = 5\n", ["config.settings=5", "is not a known setting"]),
    ("inits = 3.5\n", ["inits='3.5'", "must be an integer"]),
    ("inits = 3.0\n", ["inits='3.0'", "must be an integer"]),
    ("eta = nan\n", ["eta="]),
    ("eta = -0.1\n", ["eta="]),
    ("inits = [\n", ["config=", "is not valid TOML"]),
])
def test_config_errors_name_the_field(tmp_path, text, words):
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    refused(verify_cli("check", "phase-ordering", "--config", str(cfg), *HUGE, timeout=60), *words)


def test_config_that_is_not_a_toml_file(tmp_path):
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"eta = '\xff\xfe'\n")
    for path, words in ((tmp_path, "is a folder"), (binary, "is not UTF-8"), (tmp_path / "no.toml", "does not exist")):
        refused(verify_cli("check", "phase-ordering", "--config", str(path), *HUGE, timeout=60), "config=", words)


@pytest.mark.parametrize("eta", ["0.1", "1e-1", "0.100"])
def test_toml_float_eta_is_its_decimal_text(tmp_path, eta):
    """TOML ``eta = 0.1`` is exactly 1/10, as ``--eta 0.1`` is (not the double nearest to it)."""
    cfg = tmp_path / "c.toml"
    cfg.write_text(f"eta = {eta}\n")
    from_toml = verify_cli("trajectory", "--config", str(cfg), "--init", "0.7,0,-0.4,0", "--steps", "2")
    from_flag = verify_cli("trajectory", "--eta", "1/10", "--init", "0.7,0,-0.4,0", "--steps", "2")
    assert from_toml.returncode == 0 and "eta = 1/10\n" in from_toml.stdout
    assert from_toml.stdout == from_flag.stdout


# --- verify trajectory -----------------------------------------------------------------------------
@pytest.mark.parametrize("args, words", [
    (["--init="], ["init=''", "must list 4 values"]),
    (["--init", "1,2"], ["must have 4 entries"]),
    (["--init", "1,nan,0,0"], ["init.b1='nan'"]),
    (["--index", "-1"], ["index=-1", "must be >= 0"]),
    (["--plot", "{tmp}"], ["plot=", "must be a file name ending"]),
    (["--plot", "{tmp}/missing/t.png"], ["plot=", "folder that does not exist"]),
    (["--plot", "{tmp}/t.txt"], ["must be a file name ending"]),
    (["--prec", "2000"], ["max_prec=1024 must be >= prec=2000", "--max-prec"]),
    (["--max-prec", "64"], ["max_prec=64"]),
    (["--loss", "hinge"], ["loss='hinge'"]),
    (["--eta", "0"], ["eta='0'"]),
])
def test_trajectory_refuses_bad_options_before_running(tmp_path, args, words):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    refused(verify_cli("trajectory", "--steps", "100000000", *args, timeout=60), *words)
    assert not list(tmp_path.iterdir())


def test_trajectory_plot_and_max_prec(tmp_path):
    plot = tmp_path / "t.svg"
    result = verify_cli("trajectory", "--init", "0.7,0,-0.4,0", "--steps", "20", "--prec", "2000",
                        "--max-prec", "4096", "--plot", str(plot))
    assert result.returncode == 0, result.stderr
    assert "at 2000 bits" in result.stdout and result.stdout.rstrip().endswith(f"plot: {plot}")
    assert plot.read_text().lstrip().startswith("<?xml")


# --- help, version, quiet --------------------------------------------------------------------------
def test_version_and_short_help():
    version = verify_cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("verify 0.") and version.stderr == ""
    for args in (["-h"], ["--help"]):
        top = verify_cli(*args)
        assert top.returncode == 0 and "trajectory" in top.stdout and "--version" in top.stdout


@pytest.mark.parametrize("command", ["check", "run", "trajectory"])
def test_help_names_max_prec_and_loss_and_shows_defaults(command):
    result = verify_cli(command, "-h", env={"COLUMNS": "200"})
    assert result.returncode == 0
    for words in ("--max-prec", "[1024]", "--loss", "[exponential]", "--prec", "[128]"):
        assert words in result.stdout, (command, words)


def test_quiet_hides_progress_only():
    """With --quiet the results table is printed all the same (on stdout), and stderr stays empty."""
    result = verify_cli("check", "phase-ordering", *TINY, "--quiet")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.split()[:4] == ["phase-ordering", "certified", "certified", "3"]
    assert "engines:" in result.stdout


# --- exit codes and leftovers ----------------------------------------------------------------------
def test_exit_1_when_a_true_claim_is_refuted(tmp_path):
    claims = tmp_path / "false.toml"
    claims.write_text('paper = "a"\n[settings]\ninits = 3\nsteps = 20\n'
                      '[claim.u-conserved]\nform = "always"\nholds = "w1 + b1 == w1_0 + b1_0"\n')
    result = verify_cli("check", "--claims", str(claims), "--workers", "1", "-q")
    assert result.returncode == 1, result.stderr
    assert "u-conserved" in result.stdout and "counterexample: init #" in result.stdout


def test_exit_3_with_a_log_on_an_internal_error(tmp_path):
    code = ("import sys, verify.cli.check as c\n"
            "def boom(*a, **k): raise ZeroDivisionError('injected bug')\n"
            "c.check_with_progress = boom\n"
            "from verify.cli import main\n"
            "sys.argv = ['verify', 'check', 'phase-ordering', '--inits', '2', '--steps', '5', '-q']\n"
            "main()\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "VERIFY_LOG_DIR": str(tmp_path / "logs")})
    assert result.returncode == 3 and "Traceback" not in result.stderr
    (log,) = (tmp_path / "logs").glob("crash-*.log")
    assert f"traceback in {log}" in result.stderr and "ZeroDivisionError: injected bug" in log.read_text()


def test_sigterm_while_the_report_is_written_exits_143_and_removes_staging(small_report, tmp_path):
    """SIGTERM unwinds like Ctrl-C: the half-written staging folder is removed, no report appears."""
    out = tmp_path / "out" / "r"
    code = ("import sys, time, verify.report.write as w\n"
            "def slow(*a, **k):\n    print('writing', flush=True)\n    time.sleep(120)\n"
            "w.render_html = slow\n"
            "from verify.cli import main\n"
            f"sys.argv = ['verify', 'report', {str(small_report)!r}, '--out', {str(out)!r}]\n"
            "main()\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "writing\n"
        assert not no_staging(tmp_path)  # the staging folder exists while writing
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM and "interrupted" in err and "Traceback" not in err
    assert no_staging(tmp_path) and not out.exists()


def test_a_stale_staging_folder_of_a_dead_writer_is_removed_by_the_next_report(small_report, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".r-staging-{dead.pid}-abc"
    stale.mkdir()
    (stale / "results.json").write_text("{")
    result = verify_cli("report", str(small_report), "--out", str(tmp_path / "r"))
    assert result.returncode == 0 and not stale.exists() and no_staging(tmp_path)


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc")
def test_sigterm_during_a_parallel_check_stops_the_workers_at_once():
    """A pool waits for its running chunks when unwinding; SIGTERM must not: the workers are
    stopped, the command exits 143 within seconds, and no worker is left behind."""
    exe = Path(sys.executable).parent / "verify"
    proc = subprocess.Popen([str(exe), "check", "phase-ordering", "--inits", "4000", "--steps", "4000", "--workers",
                             "2", "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while len(children := _children(proc.pid)) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert len(children) >= 2, "the pool never started"
        time.sleep(1)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM and "stopped by SIGTERM" in err, err
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{c}").exists() for c in children) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(Path(f"/proc/{c}").exists() for c in children)


def test_a_closed_stdout_pipe_is_not_a_verdict():
    """`verify list | head -1`: the reader went away; exit 141 (as for SIGPIPE), not 1 (refuted)."""
    proc = subprocess.Popen([str(Path(sys.executable).parent / "verify"), "list"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()
    assert proc.wait(timeout=120) == 128 + signal.SIGPIPE
    assert b"Traceback" not in proc.stderr.read()


CLAIM = '[claim.x]\nform = "always"\nholds = "w1 - b1 == w1_0 - b1_0"\n'


@pytest.mark.parametrize("text, words", [
    ('paper = "a"\nfoo = 1\ninits = 99999\n[settings]\ninits = 3\n' + CLAIM, ["field 'foo'", "not a key of a claim"]),
    ('paper = "a"\n[settings]\ninits = 3\nfoo = 2\n' + CLAIM, ["field 'settings.foo'", "not an engine setting"]),
    ('paper = "a"\nsettings = 5\n' + CLAIM, ["field 'settings'", "must be a table"]),
    ("settings = 5\n", ["field 'paper'", "is missing"]),
])
def test_claim_file_settings_are_checked_like_a_config(tmp_path, text, words):
    claims = tmp_path / "c.toml"
    claims.write_text(text)
    refused(verify_cli("check", "--claims", str(claims), *HUGE, timeout=60), *words)


def test_claim_file_that_is_not_a_toml_file(tmp_path):
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"paper = '\xff'\n")
    for path, words in ((tmp_path, "is a folder"), (binary, "is not UTF-8")):
        refused(verify_cli("check", "--claims", str(path), timeout=60), "field 'claims'", words)


def test_claim_file_float_eta_is_its_decimal_text(tmp_path):
    claims = tmp_path / "c.toml"
    claims.write_text('paper = "a"\n[settings]\ninits = 2\nsteps = 5\neta = 0.1\n' + CLAIM)
    result = verify_cli("check", "--claims", str(claims), "--workers", "1", "-q")
    assert result.returncode == 0 and "eta = 1/10 " in result.stdout.splitlines()[0], result.stdout
