"""Quiet logs: a real httpx request logs its per-request INFO line only when asked to."""

from __future__ import annotations

import os
import subprocess
import sys

# A real HTTP server and a real httpx request in a fresh process with the one log set-up.
SCRIPT = """
import http.server, logging, sys, threading, httpx
from chat.server.logs import setup_logging

class Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("content-length", "0"); self.end_headers()
    def log_message(self, *args):
        pass

server = http.server.HTTPServer(("127.0.0.1", 0), Ok)
threading.Thread(target=server.serve_forever, daemon=True).start()
setup_logging()
httpx.get(f"http://127.0.0.1:{server.server_port}/poll")
logging.getLogger("httpx").warning("httpx warning stays")
logging.getLogger("helseprat.test").info("own info stays")
server.shutdown()
"""


def run(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HELSEPRAT_LOG")}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env={**clean, **env},
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stderr


def test_httpx_request_lines_are_quiet_by_default() -> None:
    err = run()
    assert "HTTP Request" not in err
    assert "httpx warning stays" in err
    assert "own info stays" in err


def test_third_party_info_when_asked() -> None:
    err = run(HELSEPRAT_LOG_LEVEL_THIRD_PARTY="INFO")
    assert "HTTP Request: GET" in err
    assert "/poll" in err


def test_own_level_still_applies() -> None:
    err = run(HELSEPRAT_LOG_LEVEL="WARNING")
    assert "own info stays" not in err
    assert "httpx warning stays" in err
