"""The code base stays ruff-clean (ruff is a test dependency), and the engine imports no paper."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff not installed")
def test_ruff_clean():
    result = subprocess.run(["ruff", "check", "verify", "proofs", "tests", "benchmarks"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_engine_imports_no_paper():
    """``verify/`` knows no paper: no module of it imports ``proofs`` (papers are plug-ins found by entry point)."""
    import ast

    offenders = []
    for path in sorted((ROOT / "verify").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n == "proofs" or n.startswith("proofs.")]
    assert offenders == []
