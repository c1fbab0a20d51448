"""`kinograph submit`, `jobs`, `cancel` and `serve`: exit codes, progress, downloads, the generated token."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from server.command import main
from tests.server.conftest import REPO, RunningServer, wait_for
from tests.server.testnodes import wait_write, workflow


def _file(folder: Path, doc: dict, name: str = "job.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _argv(server, *args: str) -> list[str]:
    return [*args, "--server", server.url, "--token", server.token]


def test_submit_wait_succeeds_downloads_and_takes_overrides(server, tmp_path, capsys):
    path = _file(tmp_path, wait_write(ms=100, steps=2, value=1.0))
    code = main(_argv(server, "submit", str(path), "--wait", "--set", "wait.value=9.5",
                      "--download", str(tmp_path / "got")))
    out, err = capsys.readouterr()
    assert code == 0, err
    assert (tmp_path / "got" / "value.txt").read_text() == "9.5"
    assert out.splitlines()[-1] == str(tmp_path / "got" / "value.txt")
    assert "wait (test.wait)" in err  # per-node progress lines while waiting


def test_relative_paths_resolve_against_the_workflow_file(server, inputs, capsys):
    doc = workflow({"id": "read", "type": "test.read", "params": {"path": "hello.txt"}},
                   {"id": "write", "type": "test.write"}, links=(("read.value", "write.value"),))
    path = _file(inputs, doc, "read.json")
    assert main(_argv(server, "submit", str(path), "--wait")) == 0
    url = capsys.readouterr().out.splitlines()[-1]
    assert url.startswith(server.url + "/v1/jobs/") and url.endswith("/outputs/value.txt")


def test_submit_exit_codes_for_failed_and_invalid(server, tmp_path, capsys):
    boom = workflow({"id": "boom", "type": "test.boom"}, {"id": "write", "type": "test.write"},
                    links=(("boom.value", "write.value"),))
    assert main(_argv(server, "submit", str(_file(tmp_path, boom)), "--wait")) == 1
    assert "the widget exploded" in capsys.readouterr().err
    bad = _file(tmp_path, wait_write(), "bad.json")
    assert main(_argv(server, "submit", str(bad), "--set", "wait.ms=-1")) == 2
    assert "wait.ms" in capsys.readouterr().err
    (tmp_path / "broken.json").write_text("{not json")
    assert main(_argv(server, "submit", str(tmp_path / "broken.json"))) == 2
    assert main(["submit", str(bad), "--server", server.url, "--token", "wrong"]) == 1
    assert "token" in capsys.readouterr().err


def test_submit_wait_reports_a_cancel_as_130(server, tmp_path, capsys):
    path = _file(tmp_path, wait_write(ms=20000, steps=400))
    codes = []
    thread = threading.Thread(target=lambda: codes.append(main(_argv(server, "submit", str(path), "--wait"))))
    thread.start()
    with server.client() as c:
        deadline = time.monotonic() + 10
        while not (running := c.jobs(["running"])["jobs"]) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert main(_argv(server, "cancel", running[0]["id"])) == 0
    thread.join(10)
    assert codes == [130]
    assert "cancelling" in capsys.readouterr().out


def test_ctrl_c_while_waiting_cancels_the_job(server, tmp_path):
    path = _file(tmp_path, wait_write(ms=20000, steps=400))
    proc = subprocess.Popen([sys.executable, "-m", "server.command", *_argv(server, "submit", str(path), "--wait")],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    job_id = proc.stdout.readline().strip()
    with server.client() as c:
        wait_for(c, job_id, states=("running",))
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(15) == 130
        assert c.job(job_id)["status"] == "cancelled"


def test_jobs_and_cancel_commands(server, tmp_path, capsys):
    with server.client() as c:
        done = wait_for(c, c.submit(wait_write(), name="listed-job")["id"])
    assert main(_argv(server, "jobs", "--status", "succeeded", "--json")) == 0
    listing = json.loads(capsys.readouterr().out)
    assert done["id"] in {j["id"] for j in listing["jobs"]}
    assert {j["status"] for j in listing["jobs"]} == {"succeeded"}
    assert main(_argv(server, "jobs", "--limit", "1000")) == 0
    assert done["id"] in capsys.readouterr().out
    assert main(_argv(server, "cancel", done["id"])) == 2
    assert "already ended" in capsys.readouterr().err
    assert main(_argv(server, "cancel", "0123456789abcdef")) == 2
    assert main(_argv(server, "jobs", "--limit", "0")) == 2


def test_serve_generates_a_token_once_and_runs_the_default_workflow(tmp_path, capsys):
    import av

    from nodegraph.cli import main as kinograph

    command = ("server.command", "serve", "--input-dir", str(REPO / "resources"))
    first = RunningServer(tmp_path, token=None, command=command)
    try:
        token = (tmp_path / "token").read_text().strip()
        assert (tmp_path / "token").stat().st_mode & 0o077 == 0
        key = (tmp_path / "webhook_secret").read_text().strip()
        assert len(key) >= 32 and key != token  # webhooks are never signed with the access token
        assert (tmp_path / "webhook_secret").stat().st_mode & 0o077 == 0
        first.token = token
        code = main(_argv(first, "submit", str(REPO / "resources/workflows/animate_image.json"), "--wait",
                          "--set", "camera.frames=12", "--download", str(tmp_path / "got")))
        assert code == 0
        # Refusals read exactly as `kinograph validate` words them, with the same exit code.
        capsys.readouterr()
        other = tmp_path / "other.json"
        other.write_text('{"format": "something.else"}')
        for path, sets in ((REPO / "resources/workflows/animate_image.json", ["camera.frames=0", "upscale.scale=x"]),
                           (other, [])):
            overrides = [a for s in sets for a in ("--set", s)]
            assert main(_argv(first, "submit", str(path), *overrides)) == 2
            served = capsys.readouterr().err
            assert kinograph(["validate", str(path), *overrides]) == 2
            assert served == capsys.readouterr().err and served.startswith("error: ")
    finally:
        first.stop()
    assert any(token in line for line in first.stderr_lines)
    assert not any(key in line for line in first.stderr_lines)  # its place is said, not the key itself
    with av.open(str(tmp_path / "got" / "animate.mp4")) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) >= 20 and frames[0].shape == (432, 768, 3)
    assert frames[0].std() > 10  # a picture, not a blank frame

    second = RunningServer(tmp_path, token=None, command=command)
    second.token = token
    try:
        with second.client() as c:
            assert c.jobs()["counts"]["succeeded"] == 1  # same database, same token
    finally:
        second.stop()
    assert not any(token in line for line in second.stderr_lines)


@pytest.mark.parametrize("argv", [["serve", "--port", "70000"], ["serve", "--input-dir", "/no/such/folder"]])
def test_serve_refuses_bad_arguments(argv, tmp_path, capsys):
    assert main(argv + ["--db", str(tmp_path / "db.sqlite3"), "--token", "x"]) == 2
    assert "error:" in capsys.readouterr().err


def test_kinograph_serve_keeps_its_data_in_a_private_per_user_folder(tmp_path):
    import os

    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}
    env.pop("KINOGRAPH_TOKEN", None)
    env.pop("KINOGRAPH_WEBHOOK_SECRET", None)
    proc = subprocess.Popen([sys.executable, "-m", "nodegraph.cli", "serve", "--port", "0"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = ""
        deadline = time.monotonic() + 60
        while "serving on" not in line and time.monotonic() < deadline:
            line = proc.stdout.readline()
        assert "serving on http://127.0.0.1:" in line
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    folder = tmp_path / "data" / "kinograph" / "server"
    assert (folder / "jobs.sqlite3").is_file()
    assert {p.name for p in folder.iterdir()} >= {"jobs.sqlite3", "token", "webhook_secret"}
    assert folder.stat().st_mode & 0o077 == 0  # other users cannot read the jobs, keys or outputs
