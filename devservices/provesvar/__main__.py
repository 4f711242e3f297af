"""``python -m devservices.provesvar --port N --data-dir D --keys clients.json``."""

from __future__ import annotations

import argparse
from pathlib import Path

from chat.server.logs import setup_logging
from devservices.standin import serve_until_signalled

from .app import StandinSettings, create_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devservices.provesvar")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--keys", type=Path, required=True,
                        help='JSON: {"clients": [{"client_id", "jwk" (public)}]}')
    args = parser.parse_args(argv)
    setup_logging()
    settings = StandinSettings(port=args.port, data_dir=args.data_dir, keys_file=args.keys)
    serve_until_signalled(create_app(settings), settings.host, settings.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
