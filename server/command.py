"""The `kinograph serve`, `submit`, `jobs` and `cancel` commands (light at import: heavy imports are in run)."""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
from pathlib import Path

from nodegraph import models_dir, quality, sweep_command
from nodegraph.errors import KinographError

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
        parser.add_argument("--allow-webhook-host", action="append", default=[], metavar="HOST",
                            help="post webhooks to this host name, address or network (e.g. 10.0.0.0/8) too; by "
                                 "default only public addresses are (repeatable)")
        parser.add_argument("--max-body", default="8M", metavar="SIZE",
                            help="largest request body accepted, e.g. 8M or 64MiB (default 8M); larger ones get 413")
        sweep_command.add_executor_arguments(parser, "jobs")

    def run(self, args: argparse.Namespace) -> int:
        from nodegraph.errors import KinographError
        from nodegraph.sizes import parse_size

        from .security import WEBHOOK_SECRET_FILE, is_loopback, load_or_create_secret
        from .store import default_data_dir

        if args.no_token and not is_loopback(args.host):
            _error(f"refusing to serve {args.host} without a token: anyone on the network could run jobs; "
                   "drop --no-token (a token is generated) or bind 127.0.0.1")
            return EXIT_INVALID
        if not 0 <= args.port <= 65535:
            _error(f"--port {args.port} is not a port number; use 0 to 65535")
            return EXIT_INVALID
        models_dir.configure(args.models_dir)  # file params may read inside these too (nodegraph/confine.py)
        try:
            max_body = parse_size(args.max_body)
        except ValueError as exc:
            _error(f"--max-body: {exc}")
            return EXIT_INVALID
        input_dirs = [Path(d).expanduser().resolve() for d in (args.input_dir or [os.getcwd()])]
        for d in input_dirs:
            if not d.is_dir():
                _error(f"--input-dir {str(d)!r} is not a folder")
                return EXIT_INVALID
        try:
            executor_factory = _executor_factory(args)
        except KinographError as exc:
            _error(str(exc))
            return EXIT_INVALID
        db = Path(args.db).expanduser().absolute() if args.db else default_data_dir() / "jobs.sqlite3"
        problem = _db_problem(db, explicit=bool(args.db))
        if problem:
            _error(problem)
            return EXIT_INVALID
        try:
            sock = listen(args.host, args.port)  # before anything is written: a port in use leaves no files
        except OSError as exc:
            _error(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}; pick another --port")
            return EXIT_INVALID
        folder = db.parent
        made: list[Path] = []
        notes: list[str] = []  # shown once the server is sure to start
        try:
            if not folder.exists():
                folder.mkdir(parents=True, mode=0o700)  # jobs, secrets and outputs: the owner's only
                made.append(folder)
            token = None if args.no_token else (args.token or os.environ.get("KINOGRAPH_TOKEN"))
            if not args.no_token and not token:
                token, created = load_or_create_secret(folder)
                if created:
                    made.insert(0, folder / "token")
                    notes.append(f"kinograph: generated an access token (saved to {folder / 'token'}); it is shown "
                                 f"only this once:\n  {token}")
            webhook_secret = args.webhook_secret or os.environ.get("KINOGRAPH_WEBHOOK_SECRET")
            if not webhook_secret:
                webhook_secret, created = load_or_create_secret(folder, WEBHOOK_SECRET_FILE)
                if created:
                    made.insert(0, folder / WEBHOOK_SECRET_FILE)
                    notes.append(f"kinograph: generated the webhook signing key; receivers verify with the key in "
                                 f"{folder / WEBHOOK_SECRET_FILE}")
            output_root = Path(args.output_root).expanduser() if args.output_root else folder / "outputs"
            from .app import ServerConfig, create_app

            config = ServerConfig(db_path=db, output_root=output_root.resolve(), token=token,
                                  input_dirs=input_dirs, device=args.device, webhook_secret=webhook_secret,
                                  max_body=max_body, webhook_hosts=args.allow_webhook_host,
                                  executor_factory=executor_factory)
            app = create_app(config)
        except (OSError, sqlite3.Error) as exc:
            sock.close()
            for path in made:  # what this start made, and nothing else
                path.rmdir() if path.is_dir() else path.unlink(missing_ok=True)
            _error(f"cannot use the database {str(db)!r}: {getattr(exc, 'strerror', None) or exc}; "
                   "choose another --db")
            return EXIT_INVALID
        for note in notes:
            print(note, file=sys.stderr, flush=True)
        return serve(app, sock, args.host)


JOB_EXECUTOR_GROUP = "kinograph.job_executors"


def _executor_factory(args: argparse.Namespace):
    """None for this process's executor; else the maker of the executor --executor names (an entry point of the
    `kinograph.job_executors` group, so the server never imports Ray itself). KinographError when it cannot be."""
    from nodegraph.sweep_command import executor_entry_point

    entry = executor_entry_point(args, JOB_EXECUTOR_GROUP)
    return None if entry is None else entry.load()(args)


def _db_problem(db: Path, explicit: bool) -> str | None:
    """Why the server cannot keep its database at `db`, found before anything is created; None when it can."""
    if db.is_dir():
        return f"--db {str(db)!r} is a folder; give a file in it, such as {str(db / 'jobs.sqlite3')!r}"
    folder = db.parent
    if not folder.exists():
        if explicit:
            return f"--db {str(db)!r}: the folder {str(folder)!r} does not exist; create it or choose another --db"
        return None  # the per-user default folder is made on first start
    if not folder.is_dir():
        return f"--db {str(db)!r}: {str(folder)!r} is not a folder; choose another --db"
    if not os.access(folder, os.W_OK | os.X_OK) or (db.exists() and not os.access(db, os.R_OK | os.W_OK)):
        return f"--db {str(db)!r} is not writable by this user; choose a folder you can write to"
    return None


def listen(host: str, port: int):
    """A socket bound to host:port (0 picks a free port) and listening; OSError when the address is taken."""
    import socket

    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this; without it small responses wait on delayed ACKs (~40 ms each).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    return sock


def serve(app, sock, host: str, ready=None) -> int:
    """Serve `app` on a listening socket and print where; blocks until SIGINT/SIGTERM."""
    import socket

    import uvicorn

    bound = sock.getsockname()[1]
    shown = f"[{host.strip('[]')}]" if sock.family == socket.AF_INET6 else host
    print(f"kinograph: serving on http://{shown}:{bound}", flush=True)
    if ready is not None:
        ready(bound)
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=5)
    uvicorn.Server(config).run(sockets=[sock])
    return EXIT_OK


def run_uvicorn(app, host: str, port: int, ready=None) -> int:
    """Serve `app` on host:port (0 picks a free port) and print where; blocks until SIGINT/SIGTERM."""
    try:
        sock = listen(host, port)
    except OSError as exc:
        _error(f"cannot listen on {host}:{port}: {exc.strerror or exc}; pick another --port")
        return EXIT_INVALID
    return serve(app, sock, host, ready)


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
        quality.add_arguments(parser)
        parser.add_argument("--wait", action="store_true", help="wait, showing progress; exit code as 'run'")
        parser.add_argument("--download", default=None, metavar="DIR",
                            help="with --wait: download the outputs into DIR")
        _client_args(parser)

    def run(self, args: argparse.Namespace) -> int:
        from .client import Client, ServerError
        from .waiting import wait_for_job

        path = Path(args.workflow)
        try:
            document = json.loads(_workflow_text(path))
        except LookupError as exc:
            _error(f"{path}: {exc.args[0]}")
            return EXIT_INVALID
        except OSError as exc:
            _error(f"{path}: cannot read the file: {exc.strerror or exc}")
            return EXIT_INVALID
        except ValueError as exc:
            _error(f"{path}: not valid JSON: {exc}")
            return EXIT_INVALID
        try:
            checks = quality.requested(args)
        except KinographError as exc:
            _error(str(exc))
            return EXIT_INVALID
        with Client(args.server, args.token) as client:
            try:
                accepted = client.submit(document, overrides=args.overrides, priority=args.priority,
                                         base_dir=str(path.resolve().parent), targets=args.only or None,
                                         webhook_url=args.webhook, quality=None if checks is None else
                                         {"thresholds": checks.thresholds, "retries": checks.retries})
            except ServerError as exc:  # worded as `kinograph run` words it: file problems name the file
                is_file_problem = isinstance(exc.body, dict) and exc.body.get("kind") == "workflow"
                _error(f"{path}: {exc}" if is_file_problem else str(exc))
                return EXIT_INVALID if exc.status_code in (400, 422) else EXIT_FAILED
            print(accepted["id"], flush=True)
            if not args.wait:
                return EXIT_OK
            return wait_for_job(client, accepted["id"], document, Path(args.download) if args.download else None)


def _workflow_text(path: Path) -> str:
    """A workflow file's text, or the workflow embedded in a video Kinograph saved (as `kinograph run` reads it).
    LookupError when the file is neither."""
    from nodegraph.workflow import is_workflow_text

    if is_workflow_text(path):
        return path.read_text(encoding="utf-8-sig")
    from nodegraph.registry import default_registry

    embedded = default_registry().read_embedded_workflow(path)
    if embedded is None:
        raise LookupError("not a workflow: neither JSON text nor a video with a Kinograph workflow in its metadata")
    return embedded


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
