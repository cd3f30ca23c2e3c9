"""The report: a stored results.json is validated before anything is written, re-rendering is
byte-stable, writes are atomic and readable by others, and the HTML renders in a real browser."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from tests.conftest import verify_cli
from verify.report.write import STAGING_MARK, remove_stale_staging

FILES = ("results.json", "timings.json", "provenance.json", "index.html", "index.md")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def report(small_report, tmp_path):
    folder = tmp_path / "paper_a"
    shutil.copytree(small_report, folder)
    return folder


def test_report_files_summary_and_permissions(small_report):
    for name in (*FILES, "figure1.png", "figure2.png", "figure3.svg", "rate.png", "dependencies.png"):
        assert (small_report / name).stat().st_size > 0, name
    mode = stat.S_IMODE(small_report.stat().st_mode)
    assert mode & 0o055 == 0o055, oct(mode)  # the published folder is readable by others
    assert all(stat.S_IMODE(p.stat().st_mode) & 0o044 == 0o044 for p in small_report.iterdir())
    html = (small_report / "index.html").read_text()
    assert 'id="summary"' in html and "claims certified" in html and "mutations (deliberately false" in html
    assert "53 bits" in html  # the float64 lanes' precision, not the arbitrary-precision setting
    doc = json.loads((small_report / "results.json").read_text())
    assert doc["schema_version"] == 2 and doc["paper"] == "a"
    for claim in doc["claims"]:
        assert claim["statement"] in html.replace("&#x27;", "'").replace("&gt;", ">").replace("&lt;", "<")


def test_the_session_report_keeps_its_chunks_in_the_session_store(small_report, _session_result_store):
    """Fixtures set up before any test's own store must not resume from, or write to, the user's cache."""
    stores = [p for p in _session_result_store.iterdir() if p.is_dir()]
    assert stores, "verify run in a session fixture stored nothing in the session's store"


def test_rerender_is_byte_stable_and_out_renders_elsewhere(report, tmp_path):
    before = snapshot(report)
    result = verify_cli("report", str(report))
    assert result.returncode == 0, result.stderr
    after = snapshot(report)
    assert after["results.json"] == before["results.json"]
    assert after["index.html"] == before["index.html"]
    elsewhere = tmp_path / "copy"
    result = verify_cli("report", str(report), "--out", str(elsewhere))
    assert result.returncode == 0, result.stderr
    assert (elsewhere / "results.json").read_bytes() == before["results.json"]
    assert snapshot(report) == after  # the source is untouched


BAD_DOCUMENTS = {
    "list": [], "empty object": {}, "null": None, "number": 5,
}


@pytest.mark.parametrize("name", list(BAD_DOCUMENTS))
def test_bad_results_are_refused_and_nothing_is_rewritten(report, name):
    (report / "results.json").write_text(json.dumps(BAD_DOCUMENTS[name]))
    before = snapshot(report)
    result = verify_cli("report", str(report))
    assert result.returncode == 2 and result.stderr.count("error:") == 1 and "results.json" in result.stderr
    assert snapshot(report) == before


@pytest.mark.parametrize("change, field", [
    (lambda d: d.update(schema_version=99), "schema_version"),
    (lambda d: d.pop("schema_version"), "schema_version"),
    (lambda d: d.update(paper="zz"), "paper"),
    (lambda d: d["claims"][0].update(verdict="maybe"), "claims.0.verdict"),
    (lambda d: d["claims"][1].update(verdict="refuted"), "claims.1.verdict"),
    (lambda d: d["claims"][0].pop("outcomes"), "claims.0"),
    (lambda d: d.update(settings_digest="x"), "settings_digest"),
])
def test_malformed_results_name_the_field(report, change, field):
    doc = json.loads((report / "results.json").read_text())
    change(doc)
    (report / "results.json").write_text(json.dumps(doc))
    before = snapshot(report)
    result = verify_cli("report", str(report))
    assert result.returncode == 2, result.stderr
    assert field in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert snapshot(report) == before


@pytest.mark.parametrize("side", ["provenance.json", "timings.json"])
def test_bad_side_file_writes_nothing(report, side):
    (report / side).write_text("[1, 2")
    before = snapshot(report)
    result = verify_cli("report", str(report))
    assert result.returncode == 2 and side.removesuffix(".json") in result.stderr
    assert snapshot(report) == before


def test_missing_figure_is_refused_before_writing(report):
    (report / "figure2.svg").unlink()
    before = snapshot(report)
    result = verify_cli("report", str(report))
    assert result.returncode == 2 and "figure2.svg" in result.stderr
    assert snapshot(report) == before


def test_stale_staging_folders_are_removed(tmp_path):
    dead = tmp_path / f".paper_a{STAGING_MARK}999999999-abc"
    alive = tmp_path / f".paper_a{STAGING_MARK}{os.getpid()}-abc"
    other = tmp_path / ".something-else"
    for folder in (dead, alive, other):
        folder.mkdir()
    assert remove_stale_staging(tmp_path) == [dead]
    assert alive.exists() and other.exists() and not dead.exists()


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path
    return None


def test_html_report_renders_in_a_headless_browser(small_report):
    """Open index.html in Chromium: every figure decodes, the summary and tables are there, a
    counterexample's exact values open with one click, and the console stays clean."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install .[test])")
    browser_path = _chromium()
    if browser_path is None:
        pytest.skip("no Chromium on this machine (.ci/run installs Debian's chromium with apt)")
    messages: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=browser_path, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page()
            page.on("console", lambda m: messages.append(f"{m.type}: {m.text}") if m.type in ("error", "warning")
                    else None)
            page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
            page.goto((small_report / "index.html").as_uri())
            images = page.evaluate("Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth])")
            assert len(images) >= 5, images
            assert all(done and width > 100 for _, done, width in images), images
            assert page.locator("#summary li").count() >= 2
            assert page.locator("#claims tbody tr").count() == len(json.loads(
                (small_report / "results.json").read_text())["claims"])
            details = page.locator("#mutations details").first
            assert not details.locator("code.exact").is_visible()
            details.locator("summary").click()
            assert details.locator("code.exact").is_visible()
            assert "θ0 = (" in details.locator("code.exact").inner_text()
        finally:
            browser.close()
    assert messages == []
