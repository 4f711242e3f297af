"""A rolling restart of the web processes behind a balancer: one at a time, nothing lost.

For each process in turn: check that every *other* one is ready (never take one down while
another is not serving), restart it — SIGTERM drains it: its /readyz turns 503, every socket is
told ``reconnect`` and closed with 1012, and the clients resume on the others through the
balancer; it exits; it is started again — wait until its own /readyz answers 200, then wait
``settle`` seconds, so the balancer has tried it again before the next one goes (nginx's
passive health marks a process that refused a connection as down for ``fail_timeout``, counted
in whole seconds: settle for ``fail_timeout`` + 1. Take the next one away sooner and its
clients have one process fewer to go to; with two, none for a moment).

    python -m devservices.rolling --restart 'systemctl restart helseprat-web@{port}' \\
        127.0.0.1:8001 127.0.0.1:8002 127.0.0.1:8003

``{host}`` and ``{port}`` in the command are each process's; the command must return once the
old process has exited and the new one is started (``systemctl restart`` does). Stops at the
first process that does not come back, leaving the rest untouched; exit status 1 then.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from devservices.webproc import WebProcess


@dataclass(frozen=True)
class Member:
    """One web process behind the balancer."""

    name: str  # how the report names it, e.g. 127.0.0.1:8001
    ready_url: str  # its own /readyz, not the balancer's
    restart: Callable[[], None]  # drain it, wait for it to exit, start it again


@dataclass(frozen=True)
class Restarted:
    name: str
    seconds: float  # from the SIGTERM to its /readyz answering 200


class RollingFailed(RuntimeError):
    pass


def is_ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def wait_ready(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not is_ready(url):
        if time.monotonic() > deadline:
            raise RollingFailed(f"{url} did not answer 200 within {timeout} s")
        time.sleep(0.1)


def rolling_restart(members: Sequence[Member], settle: float = 3.0, timeout: float = 60.0,
                    say: Callable[[str], None] = lambda _: None) -> list[Restarted]:
    """Restart ``members`` one by one (see the module's doc); what each took."""
    done: list[Restarted] = []
    for member in members:
        down = [m.name for m in members if m is not member and not is_ready(m.ready_url)]
        if down:
            raise RollingFailed(f"not restarting {member.name}: {', '.join(down)} not ready")
        say(f"draining {member.name}")
        began = time.monotonic()
        member.restart()
        wait_ready(member.ready_url, timeout)
        done.append(Restarted(member.name, time.monotonic() - began))
        say(f"{member.name} ready again after {done[-1].seconds:.1f} s")
        time.sleep(settle)
    return done


def web_process_member(proc: WebProcess, timeout: float = 30.0) -> Member:
    """A ``WebProcess`` (tests, the bench): SIGTERM, its exit status must be 0 (drained, not
    killed), then the same port again."""
    def restart() -> None:
        code = proc.terminate(timeout)
        if code != 0:
            raise RollingFailed(f"{proc.base} exited with {code} on SIGTERM")
        proc.start(timeout)

    return Member(f"127.0.0.1:{proc.port}", proc.base + "/readyz", restart)


def command_member(target: str, command: str) -> Member:
    """``host:port`` restarted by ``command`` (with ``{host}`` and ``{port}`` filled in)."""
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        raise SystemExit(f"rolling: {target!r} is not host:port")
    argv = shlex.split(command.format(host=host, port=port))

    def restart() -> None:
        if subprocess.run(argv, check=False).returncode != 0:
            raise RollingFailed(f"{shlex.join(argv)} failed")

    return Member(target, f"http://{target}/readyz", restart)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devservices.rolling", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="+", metavar="HOST:PORT",
                        help="each web process's own address, in restart order")
    parser.add_argument("--restart", required=True,
                        help="the command that restarts one ({host}, {port} filled in)")
    parser.add_argument("--settle", type=float, default=3.0,
                        help="seconds to wait after each is ready: nginx's fail_timeout + 1")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds each may take to be ready again")
    args = parser.parse_args(argv)
    members = [command_member(t, args.restart) for t in args.targets]
    try:
        rolling_restart(members, args.settle, args.timeout, say=print)
    except RollingFailed as exc:
        print(f"rolling: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
