"""Provenance: every video and image Kinograph writes carries a signed C2PA manifest (Content Credentials)
saying that it was generated, by Kinograph, with which models and which workflow (by hash), beside the workflow
embedded in the file. Reading it back says whether the file is as signed.

The signing credential is the user's own (KINOGRAPH_C2PA_CERT, a PEM certificate chain, and
KINOGRAPH_C2PA_KEY, its PEM private key; ES256, ES384 or PS256), or else a local one Kinograph makes once and
keeps, owner-only, in its cache folder. A local credential is untrusted by other tools ("signingCredential
.untrusted"), but the manifest still says what made the file and still shows any later change."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from pathlib import Path

from nodegraph.api import UsageError

MIME_TYPES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".png": "image/png",
              ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}
GENERATED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
WORKFLOW_LABEL = "org.kinograph.workflow"


def can_sign(path: Path) -> bool:
    return Path(path).suffix.lower() in MIME_TYPES


def manifest(title: str, workflow_json: str | None, models: list[str]) -> dict:
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("kinograph")
    except PackageNotFoundError:  # running from a checkout that was not installed
        release = "dev"
    workflow_hash = hashlib.sha256(workflow_json.encode()).hexdigest() if workflow_json else None
    return {
        "claim_generator_info": [{"name": "Kinograph", "version": release}],
        "title": title,
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": [{"action": "c2pa.created", "digitalSourceType": GENERATED,
                                                             "softwareAgent": {"name": "Kinograph"}}]}},
            {"label": WORKFLOW_LABEL, "data": {"workflow_sha256": workflow_hash, "models": sorted(set(models))}},
        ],
    }


def sign_file(path: Path, workflow_json: str | None, models: list[str], credential: tuple[bytes, bytes] | None = None,
              alg: str = "es256") -> None:
    """Embed a signed manifest in `path` (rewritten atomically beside itself)."""
    import c2pa

    path = Path(path)
    certs, key = credential or signing_credential()
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(alg=alg.encode(), sign_cert=certs, private_key=key,
                                                       ta_url=None))
    builder = c2pa.Builder(json.dumps(manifest(path.name, workflow_json, models)))
    part = path.with_name(path.name + ".c2pa.part")
    try:
        with open(path, "rb") as source, open(part, "w+b") as out:  # streamed: a long clip is never in memory
            builder.sign(signer, MIME_TYPES[path.suffix.lower()], source, out)
        os.chmod(part, os.stat(path).st_mode & 0o777)
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)


def models_in(workflow_json: str | None) -> list[str]:
    """The models a workflow loads (model, LoRA and upscaler sources), for the manifest."""
    try:
        nodes = json.loads(workflow_json or "{}").get("nodes", [])
    except ValueError:
        return []
    found = []
    for node in nodes if isinstance(nodes, list) else []:
        params = node.get("params", {}) if isinstance(node, dict) else {}
        if str(node.get("type", "")).endswith((".load", ".lora")) and node.get("type") not in ("image.load",
                                                                                               "video.load",
                                                                                               "audio.load"):
            found += [str(v) for k, v in params.items() if k in ("source", "text_encoder", "vae") and v]
    return found


def stamp(ctx, path: Path, workflow_json: str | None) -> None:
    """Sign a file a node wrote, unless KINOGRAPH_C2PA=off; a failure to sign is a warning, never a lost file."""
    if os.environ.get("KINOGRAPH_C2PA", "").lower() in ("0", "off", "no", "false") or not can_sign(path):
        return
    try:
        sign_file(path, workflow_json, models_in(workflow_json))
    except UsageError:
        raise
    except Exception as exc:  # the file is written; only its credentials are missing
        ctx.warn(f"{Path(path).name} was saved without Content Credentials: {exc}")


def read_provenance(path: Path) -> dict | None:
    """What the file's manifest says: {"generator", "generated", "models", "workflow_sha256", "signer", "intact",
    "problems"}; None when the file has none (or is not a kind that can carry one)."""
    import c2pa

    path = Path(path)
    if not can_sign(path):
        return None
    try:
        with open(path, "rb") as stream:
            store = json.loads(c2pa.Reader(MIME_TYPES[path.suffix.lower()], stream).json())
    except Exception:  # no manifest (c2pa raises for that), or not readable as one
        return None
    active = store.get("manifests", {}).get(store.get("active_manifest", ""), {})
    assertions = {a.get("label", ""): a.get("data", {}) for a in active.get("assertions", [])}
    actions = next((d.get("actions", []) for label, d in assertions.items() if label.startswith("c2pa.actions")), [])
    ours = assertions.get(WORKFLOW_LABEL, {})
    status = store.get("validation_status") or []
    problems = [s.get("explanation") or s.get("code", "") for s in status
                if s.get("code") != "signingCredential.untrusted"]
    return {"generator": ", ".join(g.get("name", "") for g in active.get("claim_generator_info", [])),
            "generated": any(a.get("digitalSourceType") == GENERATED for a in actions),
            "models": ours.get("models", []), "workflow_sha256": ours.get("workflow_sha256"),
            "signer": active.get("signature_info", {}).get("common_name", ""),
            "trusted": not any(s.get("code") == "signingCredential.untrusted" for s in status),
            "intact": not problems, "problems": problems}


def describe_provenance(credentials: dict) -> str:
    """One paragraph on a file's Content Credentials, for a terminal or the editor's log."""
    what = "generated" if credentials["generated"] else "made"
    models = ", ".join(credentials["models"]) or "no model named"
    trust = "a trusted signer" if credentials["trusted"] else "a signer this machine does not trust"
    state = ("intact since it was signed" if credentials["intact"]
             else "CHANGED since it was signed: " + "; ".join(credentials["problems"]))
    return (f"Content Credentials: {what} by {credentials['generator'] or 'an unnamed tool'} ({models}), signed by "
            f"{credentials['signer'] or 'an unnamed signer'} ({trust}); the file is {state}")


def signing_credential() -> tuple[bytes, bytes]:
    """(certificate chain PEM, private key PEM): the user's, or the local one (made on first use)."""
    cert, key = os.environ.get("KINOGRAPH_C2PA_CERT"), os.environ.get("KINOGRAPH_C2PA_KEY")
    if cert or key:
        if not (cert and key):
            raise UsageError("set both KINOGRAPH_C2PA_CERT (certificate chain, PEM) and KINOGRAPH_C2PA_KEY "
                             "(its private key, PEM), or neither to sign with Kinograph's local credential")
        try:
            return Path(cert).read_bytes(), Path(key).read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read the signing credential: {exc}; check KINOGRAPH_C2PA_CERT and "
                             "KINOGRAPH_C2PA_KEY") from None
    folder = Path(os.environ.get("KINOGRAPH_CACHE_DIR") or Path.home() / ".cache" / "kinograph") / "c2pa"
    cert_file, key_file = folder / "local-signer.pem", folder / "local-signer.key"
    if not (cert_file.is_file() and key_file.is_file()):
        certs, key_pem = make_credential("Kinograph local signer")
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        for target, data in ((cert_file, certs), (key_file, key_pem)):
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
    return cert_file.read_bytes(), key_file.read_bytes()


def make_credential(common_name: str, days: int = 3650) -> tuple[bytes, bytes]:
    """A signing certificate (ES256) issued by its own small CA, as C2PA wants a signer that is not a CA:
    (leaf + CA chain PEM, leaf private key PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Kinograph")])

    def usage(ca: bool) -> x509.KeyUsage:
        return x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                             data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                             encipher_only=False, decipher_only=False)

    now = datetime.datetime.now(datetime.UTC)
    start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=days)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name(f"{common_name} CA")).issuer_name(name(f"{common_name} CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(start).not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(usage(True), critical=True).sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(name(common_name)).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage(False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    chain = leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return chain, private
