"""devservices/nginx.py's configuration is one nginx accepts, for either forwarded header
(tests/system/test_proxy.py runs the X-Forwarded-For one with real processes)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from devservices.nginx import FORWARDED_HEADERS, NGINX, render_conf


@pytest.mark.parametrize("header", sorted(FORWARDED_HEADERS))
def test_nginx_accepts_the_rendered_configuration(tmp_path: Path, header: str) -> None:
    for sub in ("logs", "temp"):
        (tmp_path / sub).mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(render_conf(tmp_path, "127.0.0.1:1", ["127.0.0.1:2", "127.0.0.1:3"],
                                "127.0.0.2", header))
    checked = subprocess.run([NGINX, "-t", "-q", "-p", str(tmp_path), "-c", str(conf),
                              "-e", str(tmp_path / "logs" / "error.log")],
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    text = conf.read_text()
    assert FORWARDED_HEADERS[header] in text
    assert "$remote_addr" not in text.split("log_format", 1)[1].split(";", 1)[0]
