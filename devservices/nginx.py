"""nginx (Debian's package) in front of several ``helseprat serve`` processes: for the tests,
and to try the production set-up on one machine (docs/operations.md, "Several web processes
behind nginx", has the same configuration for a real host).

    nginx = NginxProcess(prefix, upstreams=["127.0.0.1:8001", "127.0.0.1:8002"])
    nginx.start()   # a free loopback port; nginx.base is the public origin
    ...             # the web processes: HELSEPRAT_TRUSTED_PROXIES=nginx.source_address
    nginx.stop()

Everything lives under ``prefix``: the rendered ``nginx.conf``, the pid file, the temp folders
and the logs (``logs/access.log``, ``logs/error.log``), so no root and no /etc are needed. nginx
runs in the foreground (``daemon off``) as this process's child.

nginx connects to the web processes from ``source_address`` (another loopback address,
``proxy_bind``): on one machine the test's clients and nginx would otherwise both be 127.0.0.1,
and a web process trusting nginx's address would also believe a client's own X-Forwarded-For.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from devservices.redis_proc import free_port, stop_process

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"  # Debian puts it in /usr/sbin

# No client address, no query string (codes, tokens in a URL), no user agent, no referrer:
# what was asked, how it went, and which web process answered (our own address, not a
# client's; a request passed on to the next process shows as "a, b" and "503, 101").
ACCESS_LOG_FORMAT = ("'$time_iso8601 $request_method $uri $status $body_bytes_sent "
                     "$request_time upstream=$upstream_addr upstream_status=$upstream_status'")

# How the client's address is told to the web processes: the header they read
# (HELSEPRAT_FORWARDED_HEADER), appended to, never passed through as the last hop.
FORWARDED_HEADERS = {
    "x-forwarded-for": "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
    "forwarded": "proxy_set_header Forwarded $proxy_add_forwarded;",
}


@dataclass(frozen=True)
class Health:
    """nginx's passive health checks (open-source nginx has no active ones): a web process
    that refuses a connection, times out or answers 503 (it is draining) is skipped for
    ``fail_timeout`` seconds after ``max_fails`` such answers, and the request is passed to
    the next one."""

    max_fails: int = 1
    fail_timeout: int = 2  # whole seconds: nginx takes no finer unit here
    connect_timeout: float = 2.0


def settle_after(health: Health) -> float:
    """How long a rolling restart waits after a process is ready before the next goes: nginx
    skips a failed process while (whole seconds now) - (whole seconds then) <= fail_timeout,
    so up to a second longer than fail_timeout."""
    return float(health.fail_timeout + 1)


def render_conf(prefix: Path, listen: str, upstreams: Sequence[str], source_address: str | None,
                forwarded_header: str = "x-forwarded-for", health: Health = Health(),
                worker_connections: int = 4096) -> str:
    """nginx.conf for one public ``listen`` address in front of ``upstreams`` (host:port)."""
    servers = "\n".join(f"        server {u} max_fails={health.max_fails} "
                        f"fail_timeout={health.fail_timeout}s;" for u in upstreams)
    bind = f"proxy_bind {source_address};" if source_address else ""
    # A master run as root would hand the work to "nobody", who cannot read a private prefix.
    user = "user root;" if os.geteuid() == 0 else ""
    return f"""# Rendered by devservices/nginx.py; edits are lost at the next start.
{user}
worker_processes 1;
pid {prefix}/nginx.pid;
# At "error" nginx writes the client's address and request line on each line: keep it quiet.
error_log {prefix}/logs/error.log crit;

events {{
    worker_connections {worker_connections};
}}

http {{
    client_body_temp_path {prefix}/temp/body;
    proxy_temp_path {prefix}/temp/proxy;
    fastcgi_temp_path {prefix}/temp/fastcgi;
    uwsgi_temp_path {prefix}/temp/uwsgi;
    scgi_temp_path {prefix}/temp/scgi;

    log_format helseprat {ACCESS_LOG_FORMAT};
    access_log {prefix}/logs/access.log helseprat;
    server_tokens off;
    # The web processes refuse larger bodies themselves (413 body_too_large), as JSON.
    client_max_body_size 1m;

    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}
    map $remote_addr $forwarded_for {{
        ~:      '"[$remote_addr]"';
        default $remote_addr;
    }}
    map $http_forwarded $proxy_add_forwarded {{
        default "$http_forwarded, for=$forwarded_for";
        ''      "for=$forwarded_for";
    }}

    # No keepalive to the web processes: a draining one closes its idle connections, and a
    # POST written on one just then would be answered 502 (nginx does not pass it on).
    upstream helseprat {{
{servers}
    }}

    server {{
        listen {listen};

        proxy_http_version 1.1;
        proxy_set_header Host $http_host;
        {FORWARDED_HEADERS[forwarded_header]}
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        {bind}
        proxy_connect_timeout {_seconds(health.connect_timeout)};
        # A draining process refuses new sockets with 503: try the next one. POSTs already
        # sent are not retried (nginx's rule for non-idempotent requests).
        proxy_next_upstream error timeout http_503;
        proxy_next_upstream_tries {len(upstreams)};

        location / {{
            proxy_pass http://helseprat;
        }}
        # Prometheus scrapes each process at its own address; through here it would get one
        # process at random (docs/operations.md, Metrics).
        location = /metrics {{
            return 404;
        }}
        # Sockets stay open for hours; the pages ping every 20-25 s.
        location /ws/ {{
            proxy_pass http://helseprat;
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
        }}
    }}
}}
"""


def _seconds(value: float) -> str:
    return f"{round(value * 1000)}ms"


@dataclass
class NginxProcess:
    prefix: Path
    upstreams: list[str]
    port: int = 0
    host: str = "127.0.0.1"
    source_address: str | None = "127.0.0.2"
    forwarded_header: str = "x-forwarded-for"
    health: Health = field(default_factory=Health)
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def conf_path(self) -> Path:
        return self.prefix / "nginx.conf"

    @property
    def access_log(self) -> Path:
        return self.prefix / "logs" / "access.log"

    @property
    def error_log(self) -> Path:
        return self.prefix / "logs" / "error.log"

    def start(self, timeout: float = 10.0) -> None:
        if not self.port:
            self.port = free_port()
        for sub in ("logs", "temp"):
            (self.prefix / sub).mkdir(parents=True, exist_ok=True)
        self.conf_path.write_text(render_conf(
            self.prefix, f"{self.host}:{self.port}", self.upstreams, self.source_address,
            self.forwarded_header, self.health))
        # -e: the log for what goes wrong before the config is read (else /var/log/nginx).
        args = [NGINX, "-p", str(self.prefix), "-c", str(self.conf_path),
                "-e", str(self.error_log), "-g", "daemon off;"]
        with open(self.prefix / "logs" / "stderr.log", "ab") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=out)
        self._wait_listening(timeout)

    def _wait_listening(self, timeout: float) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.proc.returncode}: {self.log_tail()}")
            with socket.socket() as s:
                if s.connect_ex((self.host, self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"nginx did not listen on {self.port} in {timeout} s")

    def log_tail(self) -> str:
        text = ""
        for path in (self.prefix / "logs" / "stderr.log", self.error_log):
            with contextlib.suppress(OSError):
                text += path.read_text(errors="replace")[-2000:]
        return text

    def access_lines(self) -> list[str]:
        with contextlib.suppress(OSError):
            return self.access_log.read_text(errors="replace").splitlines()
        return []

    def stop(self) -> None:
        """SIGTERM: nginx's fast shutdown (SIGQUIT would wait for every open socket)."""
        if self.proc is None:
            return
        stop_process(self.proc)
        self.proc = None
