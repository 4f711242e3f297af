"""A web process loads what serving needs, not what a rare page or the job runner needs.

Every restart's returning clients wait through the start (docs/benchmarks.md, the reconnect
storm), so the heavy libraries behind a concern report's PDF, a test result's FHIR parse and
the push sender are loaded when first used.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LATER = ("fpdf", "fontTools", "fhir.resources", "pydantic", "aiohttp", "pywebpush")


def test_the_app_starts_without_the_libraries_it_loads_on_first_use() -> None:
    code = ("import json, sys; import chat.app; "
            f"print(json.dumps([m for m in {LATER!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=60)
    assert json.loads(out.stdout.splitlines()[-1]) == []
