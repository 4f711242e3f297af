"""``python -m devservices.sysvak --port N --config sysvak-standin.json --data-dir D``."""

from __future__ import annotations

import argparse
from pathlib import Path

from chat.server.logs import setup_logging
from devservices.standin import serve_until_signalled

from .app import create_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devservices.sysvak")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    setup_logging()
    serve_until_signalled(create_app(args.config, args.port, args.data_dir), "127.0.0.1",
                          args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
