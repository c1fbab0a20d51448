"""`kinograph run | validate | nodes`: exit codes, one-line errors, --set, written paths, Ctrl+C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from nodegraph import cli
from nodegraph.node import Node, Port
from nodegraph.types import FLOAT

from .fakes import CALLS


class Interrupt(Node):
    """Presses Ctrl+C on its own process, then works until the run is cancelled."""

    type_id = "test.interrupt"
    inputs = (Port("a", FLOAT),)
    outputs = (Port("value", FLOAT),)

    def run(self, ctx, *, a):
        os.kill(os.getpid(), signal.SIGINT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            ctx.check_cancelled()
            time.sleep(0.01)
        return {"value": a}


class Writer(Node):
    """An output node that writes a text file through the context's output folder."""

    type_id = "test.writer"
    is_output = True
    inputs = (Port("value", FLOAT),)
    outputs = (Port("path", FLOAT),)

    def run(self, ctx, *, value):
        path = ctx.output_path("value.txt")
        path.write_text(str(value))
        ctx.record_output(path)
        return {"path": value}


@pytest.fixture(autouse=True)
def fake_registry(registry, monkeypatch):
    registry.register_all((Interrupt, Writer))
    monkeypatch.setattr(cli, "default_registry", lambda: registry)
    CALLS.clear()
    return registry


def workflow(tmp_path, nodes, links=(), name="wf.json"):
    doc = {"format": "kinograph.workflow", "version": 1, "name": "test",
           "nodes": [{"id": i, "type": t, "params": p} for i, t, p in nodes],
           "links": [{"from": a, "to": b} for a, b in links]}
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def chain(tmp_path, last="test.sink", middle="test.scale", params=None):
    return workflow(tmp_path, [("n", "test.number", {"value": 2.0}), ("s", middle, params or {}),
                               ("out", last, {})],
                    [("n.value", "s.a"), ("s.value", "out.value")])


def run_cli(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_accepts_a_good_file(tmp_path, capsys):
    code, out, err = run_cli(capsys, "validate", chain(tmp_path))
    assert code == 0 and "valid (3 nodes, 2 links)" in out and not err


def test_validate_names_every_problem_and_exits_2(tmp_path, capsys):
    path = workflow(tmp_path, [
        ("n", "test.numbr", {}),                       # unknown type, close to test.number
        ("a", "test.add", {"offset": "x"}),            # wrong param type
        ("b", "test.scale", {"factor": 99, "mode": "sideways"}),  # out of range, not a choice
        ("c", "test.add", {}),
        ("out", "test.sink", {}),
    ], [("a.value", "b.a"), ("b.value", "c.a"), ("c.value", "a.a"),  # a cycle a -> b -> c -> a
        ("ghost.value", "out.value"), ("c.value", "b.nope")])          # missing node, missing port
    code, out, err = run_cli(capsys, "validate", path)
    assert code == 2 and not out
    assert "did you mean 'test.number'" in err
    assert "offset" in err and "'x'" in err
    assert "99" in err and "maximum 10" in err
    assert "sideways" in err and "mul" in err
    assert "cycle" in err and all(node in err.split("cycle", 1)[1] for node in ("a", "b", "c"))
    assert "ghost" in err and "nope" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("content, words", [
    ("{", "not valid JSON"),
    ("", "empty"),
    ('{"format": "kinograph.workflow", "version": 99, "nodes": []}', "version"),
    ("[1, 2]", "object"),
])
def test_malformed_files_exit_2_with_one_line(tmp_path, capsys, content, words):
    path = tmp_path / "bad.json"
    path.write_text(content)
    code, out, err = run_cli(capsys, "validate", str(path))
    assert code == 2 and not out
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0]


def test_a_missing_file_exits_2_with_one_line(tmp_path, capsys):
    code, _, err = run_cli(capsys, "run", str(tmp_path / "nowhere.json"))
    assert code == 2 and err.strip().count("\n") == 0 and "not found" in err


def test_run_prints_the_written_paths(tmp_path, capsys):
    path = chain(tmp_path, last="test.writer")
    code, out, err = run_cli(capsys, "run", path, "--output-dir", str(tmp_path / "out"))
    assert code == 0, err
    written = out.strip().splitlines()
    assert written == [str(tmp_path / "out" / "value.txt")]
    assert (tmp_path / "out" / "value.txt").read_text() == "4.0"  # 2.0 times the default factor 2


def test_set_coerces_to_the_param_type_and_validates(tmp_path, capsys):
    path = chain(tmp_path, last="test.writer")
    out_dir = str(tmp_path / "out")
    assert run_cli(capsys, "run", path, "--output-dir", out_dir, "--set", "s.factor=3")[0] == 0
    assert (tmp_path / "out" / "value.txt").read_text() == "6.0"

    for setting, words in (("s.factor=abc", "factor"), ("s.factor=11", "maximum 10"), ("s.mode=up", "mul"),
                           ("zz.factor=2", "no node 'zz'"), ("s.colour=2", "no param 'colour'"),
                           ("s.factor", "NODE.PARAM=VALUE")):
        code, _, err = run_cli(capsys, "run", path, "--output-dir", out_dir, "--set", setting)
        assert code == 2 and words in err, (setting, err)


def test_a_failing_node_exits_1_naming_it(tmp_path, capsys):
    code, _, err = run_cli(capsys, "run", chain(tmp_path, middle="test.boom"), "--output-dir", str(tmp_path))
    assert code == 1
    assert "'s'" in err or " s " in err or "s (test.boom)" in err
    assert "the widget exploded" in err and "Traceback" not in err


def test_verbose_adds_the_traceback(tmp_path, capsys):
    code, _, err = run_cli(capsys, "run", chain(tmp_path, middle="test.boom"), "--output-dir", str(tmp_path),
                           "--verbose")
    assert code == 1 and "Traceback" in err and "RuntimeError" in err


def test_ctrl_c_cancels_cleanly_with_exit_130(tmp_path, capsys):
    code, _, err = run_cli(capsys, "run", chain(tmp_path, middle="test.interrupt"), "--output-dir", str(tmp_path))
    assert code == 130
    assert "cancel" in err and "Traceback" not in err
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is put back
    assert "out" not in CALLS  # nothing after the cancelled node ran


def test_nothing_to_run_is_an_invalid_workflow(tmp_path, capsys):
    code, _, err = run_cli(capsys, "run", workflow(tmp_path, [("n", "test.number", {})]))
    assert code == 2 and "no output nodes" in err


def test_nodes_json_lists_the_catalogue(capsys):
    code, out, _ = run_cli(capsys, "nodes", "--json")
    catalogue = {entry["type"]: entry for entry in json.loads(out)}
    assert code == 0 and "test.scale" in catalogue
    factor = next(p for p in catalogue["test.scale"]["params"] if p["name"] == "factor")
    assert (factor["type"], factor["default"], factor["min"], factor["max"]) == ("int", 2, 1, 10)


def test_unknown_command_line_options_exit_2(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["run", "--no-such-option", "x.json"])
    assert stop.value.code == 2


def test_importing_the_engine_loads_no_heavy_library():
    code = ("import sys, nodegraph, nodegraph.cli, nodegraph.scheduler; "
            "print(sorted(m for m in ('torch', 'cv2', 'av', 'PySide6', 'diffusers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_library_warning_that_prints_itself_is_not_printed_again():
    import io
    import logging

    own, ours = io.StringIO(), io.StringIO()
    library = logging.getLogger("kinograph_test_library")  # keeps a handler and propagates, as huggingface_hub
    library.addHandler(logging.StreamHandler(own))
    handler = logging.StreamHandler(ours)
    handler.addFilter(cli.PrintedOnce())
    logging.root.addHandler(handler)
    try:
        logging.getLogger("kinograph_test_library.http").warning("Retrying in 1s")
        logging.getLogger("kinograph_test_plain").warning("a plain warning")
    finally:
        logging.root.removeHandler(handler)
        library.handlers.clear()
    assert own.getvalue() == "Retrying in 1s\n"
    assert ours.getvalue() == "a plain warning\n"


def test_an_integer_of_thousands_of_digits_is_a_workflow_error_not_a_traceback(tmp_path, capsys):
    path = tmp_path / "big.json"
    path.write_text('{"format": "kinograph.workflow", "version": ' + "9" * 5000 + "}")
    code, _, err = run_cli(capsys, "validate", str(path))
    assert code == 2 and err.startswith(f"error: {path}: not a usable workflow") and "Traceback" not in err


def test_validate_refuses_a_workflow_with_nothing_to_run_as_run_does(tmp_path, capsys):
    path = workflow(tmp_path, [("n", "test.number", {"value": 2.0})])
    code, _, err = run_cli(capsys, "validate", path)
    assert code == 2 and "nothing to run" in err
    code, _, err = run_cli(capsys, "run", path)
    assert code == 2 and "nothing to run" in err


def test_an_unwritable_output_folder_is_found_before_anything_runs(tmp_path, capsys):
    (tmp_path / "a-file").write_text("not a folder")
    code, _, err = run_cli(capsys, "run", chain(tmp_path, last="test.writer"), "--output-dir",
                           str(tmp_path / "a-file" / "out"))
    assert code == 2 and "is a file; choose another output folder" in err
    assert CALLS == []  # found at validation: nothing was computed
