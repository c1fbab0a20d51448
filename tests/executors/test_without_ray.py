"""Without Ray installed, `serve --executor ray` says how to install it and starts nothing (exit 2)."""

from __future__ import annotations

import importlib.util

from nodegraph import cli


def test_serve_on_ray_without_ray_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a))
    db = tmp_path / "db" / "jobs.sqlite3"
    code = cli.main(["serve", "--executor", "ray", "--port", "0", "--db", str(db)])
    assert code == 2
    assert "needs Ray, which is not installed; install it with pip install 'kinograph[ray]'" in capsys.readouterr().err
    assert not db.parent.exists()
    code = cli.main(["serve", "--executor", "dask", "--port", "0", "--db", str(db)])
    assert code == 2 and "no such executor; choose from local, ray" in capsys.readouterr().err
