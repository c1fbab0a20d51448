"""The `kinograph serve`, `submit`, `jobs` and `cancel` commands (light at import: heavy imports are in run)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from nodegraph import models_dir

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_CANCELLED = 0, 1, 2, 130
DEFAULT_PORT = 8470


def _error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def _client_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", default=None, metavar="URL",
                        help="the server (default: $KINOGRAPH_SERVER or http://127.0.0.1:8470)")
    parser.add_argument("--token", default=None,
                        help="access token (default: $KINOGRAPH_TOKEN or the one saved by a local server)")


class ServeCommand:
    name = "serve"
    help = "run the headless job server (HTTP API under /v1)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
        parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default: 8470; 0 picks one)")
        parser.add_argument("--db", default=None, help="job database (default: a per-user folder)")
        parser.add_argument("--token", default=None,
                            help="access token (default: $KINOGRAPH_TOKEN, else one generated and saved beside "
                                 "the database)")
        parser.add_argument("--no-token", action="store_true", help="no authentication (loopback addresses only)")
        parser.add_argument("--webhook-secret", default=None, metavar="KEY",
                            help="HMAC key that signs webhooks when a job gives none (default: "
                                 "$KINOGRAPH_WEBHOOK_SECRET, else one generated and saved beside the database)")
        parser.add_argument("--output-root", default=None, help="where job outputs go (default: beside the db)")
        parser.add_argument("--input-dir", action="append", default=[], metavar="DIR",
                            help="a folder file params may read from (repeatable; default: the current folder)")
        parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
        models_dir.add_argument(parser)

    def run(self, args: argparse.Namespace) -> int:
        from .security import WEBHOOK_SECRET_FILE, is_loopback, load_or_create_secret
        from .store import default_data_dir

        if args.no_token and not is_loopback(args.host):
            _error(f"refusing to serve {args.host} without a token: anyone on the network could run jobs; "
                   "drop --no-token (a token is generated) or bind 127.0.0.1")
            return EXIT_INVALID
        if not 0 <= args.port <= 65535:
            _error(f"--port {args.port} is not a port number; use 0 to 65535")
            return EXIT_INVALID
        models_dir.configure(args.models_dir)  # file params may read inside these too (security.py)
        db = Path(args.db).expanduser() if args.db else default_data_dir() / "jobs.sqlite3"
        folder = db.resolve().parent
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)  # jobs, secrets and outputs: the owner's only
        token = None if args.no_token else (args.token or os.environ.get("KINOGRAPH_TOKEN"))
        if not args.no_token and not token:
            token, created = load_or_create_secret(folder)
            if created:
                print(f"kinograph: generated an access token (saved to {folder / 'token'}); it is shown only "
                      f"this once:\n  {token}", file=sys.stderr, flush=True)
        webhook_secret = args.webhook_secret or os.environ.get("KINOGRAPH_WEBHOOK_SECRET")
        if not webhook_secret:
            webhook_secret, created = load_or_create_secret(folder, WEBHOOK_SECRET_FILE)
            if created:
                print(f"kinograph: generated the webhook signing key; receivers verify with the key in "
                      f"{folder / WEBHOOK_SECRET_FILE}", file=sys.stderr, flush=True)
        input_dirs = [Path(d).expanduser().resolve() for d in (args.input_dir or [os.getcwd()])]
        for d in input_dirs:
            if not d.is_dir():
                _error(f"--input-dir {str(d)!r} is not a folder")
                return EXIT_INVALID
        output_root = Path(args.output_root).expanduser() if args.output_root else folder / "outputs"
        from .app import ServerConfig, create_app

        config = ServerConfig(db_path=db, output_root=output_root.resolve(), token=token, input_dirs=input_dirs,
                              device=args.device, webhook_secret=webhook_secret)
        app = create_app(config)
        return run_uvicorn(app, args.host, args.port)


def run_uvicorn(app, host: str, port: int, ready=None) -> int:
    """Serve `app` on host:port (0 picks a free port) and print where; blocks until SIGINT/SIGTERM."""
    import socket

    import uvicorn

    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this; without it small responses wait on delayed ACKs (~40 ms each).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        _error(f"cannot listen on {host}:{port}: {exc.strerror or exc}; pick another --port")
        return EXIT_INVALID
    sock.listen(2048)
    bound = sock.getsockname()[1]
    shown = f"[{host.strip('[]')}]" if family == socket.AF_INET6 else host
    print(f"kinograph: serving on http://{shown}:{bound}", flush=True)
    if ready is not None:
        ready(bound)
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=5)
    uvicorn.Server(config).run(sockets=[sock])
    return EXIT_OK


class SubmitCommand:
    name = "submit"
    help = "send a workflow to a job server"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("workflow", help="workflow file (.json)")
        parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="NODE.PARAM=VALUE",
                            help="override a param (repeatable)")
        parser.add_argument("--priority", type=int, default=0, help="higher runs first (default 0)")
        parser.add_argument("--only", action="append", default=[], metavar="NODE",
                            help="run only what this node needs (repeatable)")
        parser.add_argument("--webhook", default=None, metavar="URL", help="POST a signed summary here at the end")
        parser.add_argument("--wait", action="store_true", help="wait, showing progress; exit code as 'run'")
        parser.add_argument("--download", default=None, metavar="DIR",
                            help="with --wait: download the outputs into DIR")
        _client_args(parser)

    def run(self, args: argparse.Namespace) -> int:
        from .client import Client, ServerError
        from .waiting import wait_for_job

        path = Path(args.workflow)
        try:
            document = json.loads(path.read_text(encoding="utf-8-sig"))
        except OSError as exc:
            _error(f"{path}: cannot read the file: {exc.strerror or exc}")
            return EXIT_INVALID
        except ValueError as exc:
            _error(f"{path}: not valid JSON: {exc}")
            return EXIT_INVALID
        with Client(args.server, args.token) as client:
            try:
                accepted = client.submit(document, overrides=args.overrides, priority=args.priority,
                                         base_dir=str(path.resolve().parent), targets=args.only or None,
                                         webhook_url=args.webhook)
            except ServerError as exc:  # worded as `kinograph run` words it: file problems name the file
                is_file_problem = isinstance(exc.body, dict) and exc.body.get("kind") == "workflow"
                _error(f"{path}: {exc}" if is_file_problem else str(exc))
                return EXIT_INVALID if exc.status_code in (400, 422) else EXIT_FAILED
            print(accepted["id"], flush=True)
            if not args.wait:
                return EXIT_OK
            return wait_for_job(client, accepted["id"], document, Path(args.download) if args.download else None)


class JobsCommand:
    name = "jobs"
    help = "list the jobs on a job server"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--status", action="append", default=[],
                            choices=("queued", "running", "succeeded", "failed", "cancelled"),
                            help="only jobs in this state (repeatable)")
        parser.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
        parser.add_argument("--json", action="store_true", help="machine-readable output")
        _client_args(parser)

    def run(self, args: argparse.Namespace) -> int:
        from .client import Client, ServerError

        if not 1 <= args.limit <= 1000:
            _error(f"--limit {args.limit} is out of range; use 1 to 1000")
            return EXIT_INVALID
        with Client(args.server, args.token) as client:
            try:
                listing = client.jobs(args.status, args.limit)
            except ServerError as exc:
                _error(str(exc))
                return EXIT_FAILED
        if args.json:
            print(json.dumps(listing, indent=2))
            return EXIT_OK
        from .waiting import print_jobs

        print_jobs(listing)
        return EXIT_OK


class CancelCommand:
    name = "cancel"
    help = "cancel a job on a job server"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("job", metavar="ID", help="the job id")
        _client_args(parser)

    def run(self, args: argparse.Namespace) -> int:
        from .client import Client, ServerError

        with Client(args.server, args.token) as client:
            try:
                job = client.cancel(args.job)
            except ServerError as exc:
                _error(str(exc))
                return EXIT_INVALID if exc.status_code in (404, 409, 422) else EXIT_FAILED
        state = "cancelled" if job["status"] == "cancelled" else "cancelling (stops at its next check)"
        print(f"{job['id']}: {state}")
        return EXIT_OK


SERVE, SUBMIT, JOBS, CANCEL = ServeCommand(), SubmitCommand(), JobsCommand(), CancelCommand()
COMMANDS = {c.name: c for c in (SERVE, SUBMIT, JOBS, CANCEL)}


def main(argv: list[str] | None = None) -> int:
    """`python -m server.command NAME ...` until the entry points are installed."""
    parser = argparse.ArgumentParser(prog="python -m server.command")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, command in COMMANDS.items():
        command.add_arguments(sub.add_parser(name, help=command.help))
    args = parser.parse_args(argv)
    return COMMANDS[args.command].run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
