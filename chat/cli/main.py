"""The ``helseprat`` command: serve, and the few admin tasks a municipality's IT needs."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import signal
import sys
import tomllib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import tomli_w

from chat.config import Config, load_config, parse_services
from chat.errors import ConfigError
from chat.store.client import connect

REDIS_URL_FILE = "redis.url"


def _config_or_exit() -> Config:
    try:
        return load_config()
    except ConfigError as exc:
        print(f"helseprat: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _redis_url(config: Config) -> str:
    if config.redis_url:
        return config.redis_url
    f = config.data_dir / REDIS_URL_FILE
    if f.exists():
        return f.read_text().strip()
    print("helseprat: no Redis: set REDIS_URL or start the server (make run) first",
          file=sys.stderr)
    raise SystemExit(2)


# -- serve ---------------------------------------------------------------------------------------
def cmd_serve(args: argparse.Namespace) -> int:
    from hypercorn.asyncio import serve

    from chat.app import create_app
    from chat.server.logs import setup_logging
    from chat.server.serving import hypercorn_config

    setup_logging(os.environ.get("HELSEPRAT_LOG_LEVEL", "INFO"))
    config = _config_or_exit()
    if config.redis_url is None:
        # `make run` (devservices.run) starts a private Redis and sets REDIS_URL; a
        # production server points it at the municipality's Redis.
        print("helseprat: set REDIS_URL (make run starts a private Redis for you)", file=sys.stderr)
        return 2
    try:
        app = create_app(config)
    except ConfigError as exc:
        print(f"helseprat: configuration error: {exc}", file=sys.stderr)
        return 2
    hc = hypercorn_config(f"{args.host}:{args.port}")
    hc.errorlog = logging.getLogger("hypercorn.error")  # through our JSON set-up
    if args.url_file:
        Path(args.url_file).write_text(f"http://{args.host}:{args.port}\n")
    _event_loop_runner()(_serve(app, hc, serve))
    return 0


def _event_loop_runner() -> Any:
    """uvloop when it is installed (socket-heavy work: the benchmarks' first recommendation)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run


async def _serve(app: object, hc: object, serve: Callable[..., Awaitable[object]]) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    tasks: set[asyncio.Task[None]] = set()

    def on_signal() -> None:
        async def drain_then_stop() -> None:
            rt = getattr(getattr(app, "state", None), "runtime", None)
            if rt is not None:
                await rt.drain()
            stop.set()

        tasks.add(loop.create_task(drain_then_stop()))

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)
    await serve(app, hc, shutdown_trigger=stop.wait)


# -- nurses ----------------------------------------------------------------------------------------
def cmd_nurse(args: argparse.Namespace) -> int:
    from chat.actions.accounts import Accounts
    from chat.clock import SystemClock

    config = _config_or_exit()

    async def run() -> int:
        redis = connect(_redis_url(config))
        accounts = Accounts(config, redis, SystemClock())
        try:
            if args.action == "add":
                password = (await asyncio.to_thread(_read_password, args.password_file))
                if len(password) < 12:
                    print("helseprat: password must be at least 12 characters", file=sys.stderr)
                    return 2
                await accounts.add(args.username, password, args.role, args.name or "")
                if args.service:
                    _add_members(config.services_file, args.username, args.service)
                print(f"nurse {args.username} added ({args.role})")
            elif args.action == "list":
                for a in await accounts.list():
                    services = ",".join(s.id for s in config.services_of(a["username"]))
                    state = "disabled" if a["disabled"] == "1" else "active"
                    print(f"{a['username']}\t{a['role']}\t{state}\t{services}")
            elif args.action == "disable":
                if not await accounts.set_disabled(args.username, True):
                    print(f"helseprat: no nurse {args.username}", file=sys.stderr)
                    return 1
                print(f"nurse {args.username} disabled; sessions ended")
            return 0
        finally:
            await redis.aclose()

    return asyncio.run(run())


def _read_password(path: str | None) -> str:
    return Path(path).read_text().strip() if path else getpass.getpass("Password: ")


def _load_toml(path: Path) -> dict[str, object]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _write_toml(path: Path, data: dict[str, object]) -> None:
    parse_services(data)  # never write a file that would not load
    tmp = path.with_suffix(".tmp")
    tmp.write_text(tomli_w.dumps(data), encoding="utf-8")
    tmp.replace(path)


def _add_members(path: Path, username: str, services: list[str]) -> None:
    data = _load_toml(path)
    found = set()
    for s in cast(list[dict[str, Any]], data.get("service", [])):
        if s["id"] in services:
            found.add(s["id"])
            members = list(s.get("members", []))
            if username not in members:
                members.append(username)
            s["members"] = members
    missing = set(services) - found
    if missing:
        raise SystemExit(f"helseprat: unknown service(s): {', '.join(sorted(missing))}")
    _write_toml(path, data)
    print("membership written; restart the web processes to apply")


# -- services --------------------------------------------------------------------------------------
def cmd_service(args: argparse.Namespace) -> int:
    config = _config_or_exit()
    if args.action == "list":
        for s in config.services.values():
            print(f"{s.id}\t{s.municipality}\t{s.kind}\t{s.retention_days}d\t{s.name}")
        return 0
    data = _load_toml(config.services_file)
    hours: dict[str, object] = {}
    for spec in args.hours or []:
        day, _, span = spec.partition("=")
        hours[day] = span
    hours["holidays"] = []
    entry = {"id": args.id, "municipality": args.municipality, "name": args.name,
             "kind": args.kind, "retention_days": args.retention_days, "members": [],
             "hours": hours}
    services = list(cast(list[dict[str, Any]], data.get("service", [])))
    services.append(entry)
    data["service"] = services
    try:
        _write_toml(config.services_file, data)
    except ConfigError as exc:
        print(f"helseprat: {exc}", file=sys.stderr)
        return 2
    print(f"service {args.id} added; restart the web processes to apply")
    return 0


# -- team keys (run by the service admin, with the offline key file) ------------------------------
def cmd_team(args: argparse.Namespace) -> int:
    from chat.cli import team as teamadmin
    from chat.store.teamkeys import TeamKeys

    config = _config_or_exit()
    path = Path(args.key_file)
    key_file_exists = path.exists()

    async def run() -> int:
        redis = connect(_redis_url(config))
        store = TeamKeys(redis)
        try:
            if args.action == "init":
                if key_file_exists:
                    print(f"helseprat: {path} exists; refusing to overwrite a team root",
                          file=sys.stderr)
                    return 2
                if config.service(args.service) is None:
                    print(f"helseprat: unknown service {args.service}", file=sys.stderr)
                    return 2
                keys = teamadmin.init(args.service)
                keys.save(path)
                await teamadmin.publish(keys, store)
                from chat.crypto import root_fingerprint

                print(f"team root for {args.service} written to {path} (keep it offline)")
                print(f"root fingerprint: {root_fingerprint(keys.root.public_key)}")
                return 0
            keys = teamadmin.AdminKeys.load(path)
            if args.action == "rotate":
                epoch = teamadmin.rotate(keys)
                keys.save(path)
                await teamadmin.publish(keys, store)
                print(f"{keys.service}: epoch {epoch} published")
            elif args.action == "publish":
                await teamadmin.publish(keys, store)
                print(f"{keys.service}: epoch {keys.epoch} published")
            elif args.action == "member-add":
                await teamadmin.add_member(keys, store, args.nurse)
                keys.save(path)
                print(f"{args.nurse} added to the {keys.service} team (epoch {keys.epoch})")
            elif args.action == "member-remove":
                epoch = await teamadmin.remove_member(keys, store, args.nurse)
                keys.save(path)
                print(f"{args.nurse} removed; new epoch {epoch} published")
            return 0
        except LookupError as exc:
            print(f"helseprat: {exc}", file=sys.stderr)
            return 1
        finally:
            await redis.aclose()

    return asyncio.run(run())


def cmd_config_check(args: argparse.Namespace) -> int:
    from chat.actions.push import push_setup
    from chat.app import EXTENSIONS
    from chat.extensions import build

    config = _config_or_exit()
    try:
        extensions = build(EXTENSIONS, config)
        push, _ = push_setup(config)
    except ConfigError as exc:
        print(f"helseprat: configuration error: {exc}", file=sys.stderr)
        return 2
    print(f"environment: {config.environment}")
    print(f"redis: {'REDIS_URL' if config.redis_url else 'not set (make run starts one)'}")
    print(f"municipalities: {len(config.municipalities)}; services: {len(config.services)}")
    print(f"extensions: {', '.join(ext.name for ext in extensions) or 'none'}")
    print(f"web push: {'on' if push else 'off (no push keys in the secrets folder)'}")
    for s in config.services.values():
        if not s.members:
            print(f"warning: service {s.id} has no members")
    print("configuration ok")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="helseprat", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the web server (on the Redis at REDIS_URL)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--url-file", help="write the base URL here once listening (for scripts)")
    s.set_defaults(func=cmd_serve)

    n = sub.add_parser("nurse", help="nurse accounts")
    nsub = n.add_subparsers(dest="action", required=True)
    na = nsub.add_parser("add")
    na.add_argument("username")
    na.add_argument("--role", choices=("nurse", "lead", "admin"), default="nurse")
    na.add_argument("--name")
    na.add_argument("--service", action="append", help="service id (repeatable)")
    na.add_argument("--password-file", help="read the password from this file")
    nsub.add_parser("list")
    nd = nsub.add_parser("disable")
    nd.add_argument("username")
    n.set_defaults(func=cmd_nurse)

    sv = sub.add_parser("service", help="services")
    ssub = sv.add_subparsers(dest="action", required=True)
    sa = ssub.add_parser("add")
    sa.add_argument("--id", required=True)
    sa.add_argument("--municipality", required=True)
    sa.add_argument("--name", required=True)
    sa.add_argument("--kind", choices=("school", "clinic"), default="school")
    sa.add_argument("--retention-days", type=int, default=30)
    sa.add_argument("--hours", action="append", help="e.g. mon=08:00-15:30 (repeatable)")
    ssub.add_parser("list")
    sv.set_defaults(func=cmd_service)

    t = sub.add_parser("team", help="end-to-end team keys (service admin, offline key file)")
    tsub = t.add_subparsers(dest="action", required=True)
    ti = tsub.add_parser("init")
    ti.add_argument("--service", required=True)
    ti.add_argument("--key-file", required=True)
    for name in ("rotate", "publish"):
        tsub.add_parser(name).add_argument("--key-file", required=True)
    for name in ("member-add", "member-remove"):
        tm = tsub.add_parser(name)
        tm.add_argument("--key-file", required=True)
        tm.add_argument("--nurse", required=True)
    t.set_defaults(func=cmd_team)

    from chat.cli.chat import add_parser as add_chat_parser

    add_chat_parser(sub)

    c = sub.add_parser("config", help="configuration")
    csub = c.add_subparsers(dest="action", required=True)
    csub.add_parser("check")
    c.set_defaults(func=cmd_config_check)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
