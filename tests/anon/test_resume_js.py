"""The browser's resume-code format (static/js/resumecode.js, run in Node) agrees with
anon/resume.py: the same normalising, the same groups, the same derived handle."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from anon import resume
from tests.conftest import ROOT

PROBE = ("const m = await import(process.argv[1]); const s = m.normalize(process.argv[2]);"
         "console.log(JSON.stringify([s, m.show(s), await m.handleOf(s), m.newSecret(),"
         " m.normalize('not a code')]));")


def test_the_browser_reads_and_derives_codes_as_the_server_side_does(tmp_path: Path) -> None:
    # The constants file as the Makefile generates it, beside a copy of the module.
    shutil.copy(ROOT / "static" / "js" / "resumecode.js", tmp_path / "resumecode.js")
    (tmp_path / "resumecode.gen.js").write_text(resume.js_constants(), encoding="utf-8")
    (tmp_path / "package.json").write_text('{"type": "module"}', encoding="utf-8")
    code = resume.new_resume_code()
    typed = str(code).lower().replace("-", " ").replace("0", "o")
    out = subprocess.run(
        ["node", "--input-type=module", "-e", PROBE, (tmp_path / "resumecode.js").as_uri(), typed],
        capture_output=True, text=True, check=True, timeout=60).stdout
    secret, shown, handle, fresh, bad = json.loads(out)
    assert (secret, shown, handle) == (code.secret_text, str(code), code.handle_text)
    assert resume.parse_resume_code(fresh) is not None and bad is None
