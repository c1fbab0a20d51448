"""Provenance (issue 25): a signed C2PA manifest written into a video and a PNG, read back, and refused as
altered when a byte of the file changes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from nodes.io.provenance import make_credential, read_provenance, sign_file, signing_credential

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def credential():
    return make_credential("Kinograph test signer")


@pytest.mark.parametrize("source", ["resources/videos/sample.mp4", "resources/images/sample.png"])
def test_a_signed_file_says_what_made_it_and_a_changed_one_is_refused(source, credential, tmp_path):
    path = tmp_path / Path(source).name
    shutil.copy(ROOT / source, path)
    assert read_provenance(path) is None  # nothing claimed before signing
    sign_file(path, '{"format": "kinograph.workflow"}', ["Wan-AI/Wan2.1-T2V-1.3B-Diffusers"], credential)
    found = read_provenance(path)
    assert found["generated"] and found["generator"] == "Kinograph" and found["intact"]
    assert found["models"] == ["Wan-AI/Wan2.1-T2V-1.3B-Diffusers"] and len(found["workflow_sha256"]) == 64
    assert found["signer"] == "Kinograph test signer" and not found["trusted"]  # a test CA nobody trusts
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    altered = read_provenance(path)
    assert altered is not None and not altered["intact"] and altered["problems"]


def test_without_a_credential_set_a_local_one_is_made_once_owner_only(tmp_path, monkeypatch):
    monkeypatch.setenv("KINOGRAPH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("KINOGRAPH_C2PA_CERT", raising=False)
    monkeypatch.delenv("KINOGRAPH_C2PA_KEY", raising=False)
    first = signing_credential()
    assert signing_credential() == first
    key = tmp_path / "cache" / "c2pa" / "local-signer.key"
    assert key.stat().st_mode & 0o777 == 0o600


def test_a_half_set_credential_is_one_clear_error(monkeypatch, tmp_path):
    from nodegraph.errors import UsageError

    monkeypatch.setenv("KINOGRAPH_C2PA_CERT", str(tmp_path / "c.pem"))
    monkeypatch.delenv("KINOGRAPH_C2PA_KEY", raising=False)
    with pytest.raises(UsageError, match="set both KINOGRAPH_C2PA_CERT"):
        signing_credential()


def test_the_users_own_credential_signs(credential, tmp_path, monkeypatch):
    cert, key = tmp_path / "mine.pem", tmp_path / "mine.key"
    cert.write_bytes(credential[0])
    key.write_bytes(credential[1])
    os.chmod(key, 0o600)
    monkeypatch.setenv("KINOGRAPH_C2PA_CERT", str(cert))
    monkeypatch.setenv("KINOGRAPH_C2PA_KEY", str(key))
    path = tmp_path / "still.png"
    shutil.copy(ROOT / "resources/images/sample.png", path)
    sign_file(path, None, [])
    assert read_provenance(path)["signer"] == "Kinograph test signer"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # still a PNG
