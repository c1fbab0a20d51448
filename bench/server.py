"""Job server throughput: N cheap jobs submitted from C concurrent clients to a real `kinograph serve`.

    .venv/bin/python bench/server.py [--jobs 1000] [--clients 8]

Starts the server on loopback (a fresh database in a temporary folder), submits load-image → save-image jobs
(each writes its own PNG), waits for all of them, and prints submit latency (p50/p95/p99/max), the submit
rate and the completion rate. Exits 1 if any job was refused or did not succeed.

First, on the fresh server, it sends 64 MiB bodies (4 at once, each sent in full as a client would) without a
token and then with one, and prints how long each took to be refused, how long /v1/health took meanwhile, and
the server's memory before and at its peak (Linux: /proc/PID/status).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-token"


def cheap_workflow() -> dict:
    sample = ROOT / "resources" / "images" / "sample.png"
    return {"format": "kinograph.workflow", "version": 1, "name": "bench",
            "nodes": [{"id": "load", "type": "image.load", "params": {"path": str(sample)}},
                      {"id": "save", "type": "image.save", "params": {"filename": "frame.png"}}],
            "links": [{"from": "load.image", "to": "save.image"}]}


def start_server(folder: Path, code: Path = ROOT) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.command", "serve", "--port", "0", "--db", str(folder / "jobs.sqlite3"),
         "--token", TOKEN, "--input-dir", str(ROOT / "resources")],
        cwd=code, stdout=subprocess.PIPE, stderr=(folder / "server.log").open("w"), text=True,
        env={**os.environ, "PYTHONPATH": str(code)})
    line = proc.stdout.readline()
    if "serving on " not in line:
        proc.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    url = line.split("serving on ", 1)[1].strip()
    for _ in range(200):
        try:
            if httpx.get(url + "/v1/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the server never became healthy")


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in KiB (Linux)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return {k: int(v.split()[0]) for k, _, v in (line.partition(":") for line in lines) if k in ("VmRSS", "VmHWM")}


def post_body(url: str, size: int, token: str | None) -> tuple[int, float]:
    """POST `size` bytes of JSON-looking junk, sending it all unless the server answers first; (status, seconds)."""
    parts = urlsplit(url)
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    head = (f"POST /v1/jobs HTTP/1.1\r\nHost: {parts.netloc}\r\n{auth}Content-Type: application/json\r\n"
            f"Content-Length: {size}\r\n\r\n").encode()
    started = time.perf_counter()
    with socket.create_connection((parts.hostname, parts.port), timeout=120) as sock:
        def send() -> None:
            try:
                sock.sendall(head)
                chunk = b"[" * (1 << 20)
                for _ in range(size // len(chunk)):
                    sock.sendall(chunk)
            except OSError:
                pass  # the server answered and closed: the rest is not wanted

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        reply = sock.recv(4096)
        took = time.perf_counter() - started
    sender.join(5)
    return (int(reply.split(b" ", 2)[1]) if reply else 0), took


def body_limits(url: str, pid: int, size: int = 64 << 20, concurrent: int = 4) -> list[tuple[str, str]]:
    """Rows: how long `concurrent` bodies of `size` bytes take to be refused, health latency, peak memory."""
    before = memory_kib(pid)
    rows = []
    for label, token in (("without a token", None), ("with the token", TOKEN)):
        results: list[tuple[int, float]] = []

        def one(token=token, results=results) -> None:
            results.append(post_body(url, size, token))

        threads = [threading.Thread(target=one) for _ in range(concurrent)]
        for t in threads:
            t.start()
        started = time.perf_counter()
        httpx.get(url + "/v1/health", timeout=60)
        health_ms = (time.perf_counter() - started) * 1000
        for t in threads:
            t.join()
        statuses = sorted({status for status, _ in results})
        slowest = max(took for _, took in results) * 1000
        rows.append((f"{concurrent} x {size >> 20} MiB bodies {label}: status, slowest refusal (ms)",
                     f"{'/'.join(map(str, statuses))}, {slowest:.1f}"))
        rows.append(("  /v1/health meanwhile (ms)", f"{health_ms:.1f}"))
    after = memory_kib(pid)
    if before and after:
        rows.append(("server memory before / peak during (MiB)",
                     f"{before['VmRSS'] / 1024:.0f} / {after['VmHWM'] / 1024:.0f}"))
    return rows


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--code", type=Path, default=ROOT, metavar="DIR",
                        help="run the server from this checkout (e.g. an older version, to compare)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="kinograph-bench-") as tmp:
        proc, url = start_server(Path(tmp), args.code.resolve())
        try:
            limits = body_limits(url, proc.pid)
            code = run(url, args.jobs, args.clients, limits)
        finally:
            proc.terminate()
            proc.wait(30)
        log = (Path(tmp) / "server.log").read_text()
        if code or "Traceback" in log:
            print("server log:\n" + log[-4000:], file=sys.stderr)
        return code or (1 if "Traceback" in log else 0)


def run(url: str, jobs: int, clients: int, extra_rows: list[tuple[str, str]] = ()) -> int:
    body = {"workflow": cheap_workflow()}
    latencies: list[float] = []
    refused: list[str] = []
    ids: list[str] = []
    lock = threading.Lock()
    per_client = [jobs // clients + (1 if i < jobs % clients else 0) for i in range(clients)]

    def client(count: int) -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as http:
            for _ in range(count):
                started = time.perf_counter()
                r = http.post("/v1/jobs", json=body)
                took = time.perf_counter() - started
                with lock:
                    latencies.append(took)
                    (ids.append(r.json()["id"]) if r.status_code == 202 else refused.append(r.text[:200]))

    threads = [threading.Thread(target=client, args=(n,)) for n in per_client]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    submitted = time.perf_counter() - t0
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as http:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            r = http.get("/v1/health")
            if r.status_code != 200:
                print(f"health check answered {r.status_code}: {r.text[:300]}", file=sys.stderr)
                time.sleep(0.2)
                continue
            counts = r.json()["counts"]
            if counts["queued"] == 0 and counts["running"] == 0:
                break
            time.sleep(0.05)
        finished = time.perf_counter() - t0
        listing = http.get("/v1/jobs", params={"limit": 1000, "status": "succeeded"}).json()
        succeeded = counts["succeeded"]
        sample = listing["jobs"][: min(50, len(listing["jobs"]))]
        run_s = [j["finished_at"] - j["started_at"] for j in sample]

    ms = [x * 1000 for x in latencies]
    rows = [
        ("jobs submitted / accepted / succeeded", f"{jobs} / {len(ids)} / {succeeded}"),
        ("concurrent clients", str(clients)),
        ("submit latency p50 (ms)", f"{percentile(ms, 50):.1f}"),
        ("submit latency p95 (ms)", f"{percentile(ms, 95):.1f}"),
        ("submit latency p99 (ms)", f"{percentile(ms, 99):.1f}"),
        ("submit latency max (ms)", f"{max(ms):.1f}"),
        ("submits per second", f"{len(latencies) / submitted:.0f}"),
        ("jobs finished per second (first submit to last finish)", f"{succeeded / finished:.1f}"),
        ("median run time of one job (ms)", f"{statistics.median(run_s) * 1000:.1f}" if run_s else "-"),
        ("wall time (s)", f"{finished:.2f}"),
        *extra_rows,
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  value")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    if refused:
        print(f"refused: {refused[:3]}", file=sys.stderr)
    return 0 if len(ids) == jobs and succeeded == jobs else 1


if __name__ == "__main__":
    sys.exit(main())
