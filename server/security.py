"""Tokens, bind-address checks and output downloads for the job server (paths in jobs: nodegraph.confine)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
from pathlib import Path

TOKEN_FILE = "token"
WEBHOOK_SECRET_FILE = "webhook_secret"


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_or_create_secret(folder: Path, name: str = TOKEN_FILE) -> tuple[str, bool]:
    """The secret saved as `folder/name`, or a new one saved there (owner-only). Returns (secret, created)."""
    path = folder / name
    try:
        text = path.read_text(encoding="utf-8").strip()
        if text:
            return text, False
    except FileNotFoundError:
        pass
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    secret = secrets.token_urlsafe(32)
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(secret + "\n")
    return secret, True


def read_saved_token(folder: Path) -> str | None:
    try:
        return (folder / TOKEN_FILE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def token_matches(header: str | None, token: str) -> bool:
    if not header:
        return False
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(given.strip().encode(), token.encode())


def resolve_output(root: Path, job_id: str, relative: str) -> Path | None:
    """The file `relative` inside the job's own output folder, or None (traversal, symlink escape, missing)."""
    if not relative or "\x00" in relative or Path(relative).is_absolute() or "\\" in relative:
        return None
    folder = root / job_id
    try:
        folder_real = folder.resolve(strict=True)
        target = (folder / relative).resolve(strict=True)
        target.relative_to(folder_real)
    except (ValueError, OSError, RuntimeError):
        return None
    return target if target.is_file() else None


def seal(key: str, secret: str) -> str:
    """`secret` (a job's webhook key) as stored in the database: unreadable without the server's webhook key.
    A random nonce, the secret XORed with an HMAC-SHA256 keystream, and a tag that tells a wrong key."""
    nonce = secrets.token_bytes(16)
    data = secret.encode()
    sealed = bytes(a ^ b for a, b in zip(data, _keystream(key, nonce, len(data)), strict=True))
    tag = hmac.new(key.encode(), b"tag" + nonce + sealed, hashlib.sha256).digest()[:16]
    return "sealed:" + (nonce + tag + sealed).hex()


def unseal(key: str, stored: str) -> str | None:
    """The secret `seal` stored, or None when `stored` was sealed with another key (or is damaged)."""
    try:
        raw = bytes.fromhex(stored.removeprefix("sealed:"))
    except ValueError:
        return None
    nonce, tag, sealed = raw[:16], raw[16:32], raw[32:]
    if not hmac.compare_digest(tag, hmac.new(key.encode(), b"tag" + nonce + sealed, hashlib.sha256).digest()[:16]):
        return None
    return bytes(a ^ b for a, b in zip(sealed, _keystream(key, nonce, len(sealed)), strict=True)).decode()


def _keystream(key: str, nonce: bytes, size: int) -> bytes:
    blocks = (hmac.new(key.encode(), b"key" + nonce + n.to_bytes(4, "big"), hashlib.sha256).digest()
              for n in range(size // 32 + 1))
    return b"".join(blocks)[:size]
