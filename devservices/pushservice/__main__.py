"""``python -m devservices.pushservice --port N [--host 127.0.0.1]``."""

from __future__ import annotations

import argparse

from chat.server.logs import setup_logging
from devservices.standin import serve_until_signalled

from .app import PushSettings, create_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devservices.pushservice")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    setup_logging()
    settings = PushSettings(port=args.port, host=args.host)
    serve_until_signalled(create_app(settings), settings.host, settings.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
