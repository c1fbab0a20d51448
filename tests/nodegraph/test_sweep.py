"""`kinograph run --sweep`: every combination, each in its own folder, upstream nodes run once, bad specs refused
before anything runs, every problem at once."""

from __future__ import annotations

import importlib.util

import pytest

from nodegraph import cli

from .fakes import CALLS
from .test_cli import run_cli, workflow


@pytest.fixture(autouse=True)
def fake_registry(registry, monkeypatch):
    monkeypatch.setattr(cli, "default_registry", lambda: registry)
    CALLS.clear()
    return registry


def chain(tmp_path):
    """number -> scale -> add -> write: the swept scale and add sit below the number."""
    return workflow(tmp_path, [("n", "test.number", {"value": 2.0}), ("s", "test.scale", {}),
                               ("a", "test.add", {}), ("out", "test.write", {})],
                    [("n.value", "s.a"), ("s.value", "a.a"), ("a.value", "out.value")])


def test_a_sweep_runs_every_combination_into_its_own_folder_and_runs_upstream_nodes_once(tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, stderr = run_cli(capsys, "run", chain(tmp_path), "--output-dir", str(out),
                                   "--sweep", "s.factor=1..3", "--sweep", "a.offset=0,0.5")
    assert code == 0, stderr
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.txt"))
    assert written == ["1_factor-1_offset-0/value.txt", "2_factor-1_offset-0.5/value.txt",
                       "3_factor-2_offset-0/value.txt", "4_factor-2_offset-0.5/value.txt",
                       "5_factor-3_offset-0/value.txt", "6_factor-3_offset-0.5/value.txt"]
    assert (out / "6_factor-3_offset-0.5" / "value.txt").read_text() == "6.5"
    assert len(stdout.split()) == 6
    assert CALLS.count("n") == 1  # upstream of every swept param: computed once, then from the cache
    assert CALLS.count("s") == 3  # once per factor; the offsets share it
    assert CALLS.count("a") == 6
    assert "sweep: 6 variants" in stderr and "s.factor=3, a.offset=0.5" in stderr


def test_values_come_one_a_line_from_a_file_and_ranges_take_a_step(tmp_path, capsys):
    (tmp_path / "offsets.txt").write_text("0.25\n\n1.5\n")
    out = tmp_path / "out"
    code, _, stderr = run_cli(capsys, "run", chain(tmp_path), "--output-dir", str(out),
                              "--sweep", f"a.offset=@{tmp_path / 'offsets.txt'}", "--sweep", "s.factor=2..6..4")
    assert code == 0, stderr
    assert sorted(p.parent.name for p in out.rglob("*.txt")) == [
        "1_offset-0.25_factor-2", "2_offset-0.25_factor-6", "3_offset-1.5_factor-2", "4_offset-1.5_factor-6"]


def test_every_bad_spec_is_named_at_once_and_nothing_runs(tmp_path, capsys):
    code, stdout, stderr = run_cli(
        capsys, "run", chain(tmp_path), "--output-dir", str(tmp_path / "out"),
        "--sweep", "nope.value=1,2",          # no such node
        "--sweep", "s.speed=1,2",             # no such param
        "--sweep", "s.factor=1,99",           # 99 is above the maximum 10
        "--sweep", "a.offset=0.1..0.5",       # ranges are whole numbers
        "--sweep", "n.value=@missing.txt",    # no such file
        "--sweep", "out.filename")            # no values
    assert code == 2 and not stdout
    for part in ("no node 'nope'", "has no param 'speed'", "99 is above the maximum 10",
                 "ranges are for whole-number params", "@missing.txt: no such file", "expected NODE.PARAM=V1,V2"):
        assert part in stderr, part
    assert "6 problems" in stderr
    assert CALLS == [] and not (tmp_path / "out").exists()


def test_a_contact_sheet_needs_a_sweep_and_a_sweep_refuses_retries(tmp_path, capsys):
    code, _, stderr = run_cli(capsys, "run", chain(tmp_path), "--contact-sheet")
    assert code == 2 and "--contact-sheet tiles the variants of a sweep" in stderr
    code, _, stderr = run_cli(capsys, "run", chain(tmp_path), "--sweep", "s.factor=1,2", "--retry-on-quality", "2")
    assert code == 2 and "sweep the seed instead" in stderr
    assert CALLS == []


def test_the_ray_executor_without_ray_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a))
    code, _, stderr = run_cli(capsys, "run", chain(tmp_path), "--executor", "ray://head:10001")
    assert code == 2 and "needs Ray, which is not installed; install it with pip install 'kinograph[ray]'" in stderr
    code, _, stderr = run_cli(capsys, "run", chain(tmp_path), "--executor", "spark")
    assert code == 2 and "no such executor; choose from local, ray" in stderr
    assert CALLS == []
