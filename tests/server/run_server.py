"""Start the job server on loopback with the test node registry (run as a subprocess by the tests)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--db", required=True)
    parser.add_argument("--token", default=None)
    parser.add_argument("--output-root", required=True)
    parser.add_argument("--input-dir", action="append", default=[])
    parser.add_argument("--webhook-backoff", type=float, default=0.05)
    parser.add_argument("--webhook-secret", required=True)
    parser.add_argument("--allow-webhook-host", action="append", default=["127.0.0.1", "localhost"])
    args = parser.parse_args(argv)

    from server.app import ServerConfig, create_app
    from server.command import run_uvicorn
    from tests.server.testnodes import make_registry

    config = ServerConfig(db_path=Path(args.db), output_root=Path(args.output_root), token=args.token,
                          input_dirs=[Path(d) for d in args.input_dir], registry=make_registry(),
                          webhook_attempts=4, webhook_backoff_s=args.webhook_backoff,
                          webhook_secret=args.webhook_secret,
                          webhook_hosts=args.allow_webhook_host)
    return run_uvicorn(create_app(config), "127.0.0.1", args.port)


if __name__ == "__main__":
    sys.exit(main())
