"""Pure modules under Node: of the youth's page, the acute-danger check (static/js/acute.js) and
the promised answer time in words (static/js/youth_later.js), which tests/browser/test_youth_later.py
checks in the page too; of the dashboard, a colleague asked in (static/js/dashboard/helpers.js)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT_DIR = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")


def test_node_test_suite_passes() -> None:
    assert NODE is not None
    proc = subprocess.run(
        [NODE, "--test", *sorted(str(p) for p in Path(__file__).resolve().parent.glob("*.test.mjs"))],
        capture_output=True, text=True, cwd=ROOT_DIR, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
