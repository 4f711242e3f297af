"""``python -m devservices.nhn --port N --data-dir D --keys clients.json [--receivers 1,2]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from chat.server.logs import setup_logging
from devservices.standin import serve_until_signalled

from .app import NhnSettings, create_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devservices.nhn")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--keys", type=Path, required=True,
                        help='JSON: {"clients": [{"client_id", "jwk" (public), "her_ids"}]}')
    parser.add_argument("--receivers", default="",
                        help="comma-separated HER-ids that exist (others get AppRec E21)")
    args = parser.parse_args(argv)
    setup_logging()
    settings = NhnSettings(
        port=args.port, data_dir=args.data_dir, keys_file=args.keys,
        receivers=frozenset(int(h) for h in args.receivers.split(",") if h.strip()),
    )
    app = create_app(settings)
    serve_until_signalled(app, settings.host, settings.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
