"""The emulator's small PKI: one CA per state directory, server certificates it signs.

Shared by the ARM emulator (HTTPS for 127.0.0.1, ::1, localhost) and the private
endpoint gateway (certificates for the Arc FQDNs the agents dial by SNI).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes as PrivateKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from arclink.statedir import write_private, write_public


@dataclass
class CA:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    cert_path: Path

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


class PemError(ValueError):
    """A PEM file of the state directory does not load: ``path`` and ``what`` it should hold."""

    def __init__(self, path: Path, what: str) -> None:
        super().__init__(f"{path} is not a valid PEM {what}")
        self.path, self.what = path, what


_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())  # immutable: one for every check


def _write_private(path: Path, data: bytes) -> None:
    write_private(path, data)  # a fresh 0600 file renamed into place, through no symlink


def _private_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _pss() -> Any:
    from cryptography.hazmat.primitives.asymmetric import padding

    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)


def ensure_ca(state_dir: str | Path) -> CA:
    """Load ``ca.pem``/``ca-key.pem`` from the state dir, creating them on first use."""
    d = Path(state_dir)
    d.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = d / "ca.pem", d / "ca-key.pem"
    if cert_path.exists() and key_path.exists():
        try:
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        except ValueError:
            raise PemError(cert_path, "certificate") from None
        try:
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        except (ValueError, TypeError):
            raise PemError(key_path, "private key") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise PemError(key_path, "EC private key")
        return CA(cert, key, cert_path.resolve())
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "arclink emulator CA")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(key_path, _private_pem(key))
    write_public(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return CA(cert, key, cert_path.resolve())


def issue_server_cert(ca: CA, dns_names: list[str], ips: Sequence[str] = (), *, client: bool = False,
                      common_name: str | None = None) -> tuple[bytes, bytes]:
    """A leaf certificate (PEM) and its key (PEM) signed by ``ca``."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
    sans += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    cn = common_name or (dns_names[0] if dns_names else (ips[0] if ips else "arclink"))
    usage = [ExtendedKeyUsageOID.CLIENT_AUTH] if client else [ExtendedKeyUsageOID.SERVER_AUTH]
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(ca.cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usage), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(ca.key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.PEM), _private_pem(key)


def names_covered(cert_path: Path, dns_names: Sequence[str], ips: Sequence[str]) -> bool:
    """Whether the certificate at ``cert_path`` names every DNS name and address given. A file that is
    not a certificate counts as covering them: it is not replaced here, the caller's load names it."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError):
        return True
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    have_names = {n.lower() for n in san.get_values_for_type(x509.DNSName)}
    have_ips = {str(i) for i in san.get_values_for_type(x509.IPAddress)}
    return {n.lower() for n in dns_names} <= have_names and {str(ipaddress.ip_address(i)) for i in ips} <= have_ips


def write_leaf(directory: str | Path, stem: str, cert_pem: bytes, key_pem: bytes) -> tuple[Path, Path]:
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = d / f"{stem}.pem", d / f"{stem}-key.pem"
    write_public(cert_path, cert_pem)
    _write_private(key_path, key_pem)
    return cert_path, key_path


# --- agent onboarding keys -----------------------------------------------------------------
# ``az connectedk8s connect`` makes an RSA-4096 key pair and sends the public half as the
# connectedCluster's ``agentPublicKeyCertificate`` (base64 DER). Agents prove they hold the
# private half by signing their hellos. Fleets use P-256: same protocol, faster keys.

def new_agent_key(kind: str = "rsa4096") -> PrivateKey:
    if kind == "rsa4096":
        return rsa.generate_private_key(public_exponent=65537, key_size=4096)
    if kind == "rsa2048":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError(f"unknown key kind '{kind}' (rsa4096, rsa2048, ec)")


def public_key_b64(key: PrivateKey) -> str:
    """The ``agentPublicKeyCertificate`` value: base64 of the DER SubjectPublicKeyInfo."""
    import base64

    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def save_private_key(path: str | Path, key: PrivateKey) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    _write_private(p, _private_pem(key))
    return p


def load_private_key(path: str | Path) -> PrivateKey:
    return serialization.load_pem_private_key(Path(path).read_bytes(), password=None)


def sign_payload(key: PrivateKey, payload: bytes) -> bytes:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(payload, _pss(), hashes.SHA256())
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(payload, ec.ECDSA(hashes.SHA256()))
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(payload)
    raise ValueError("unsupported agent key type")


def signed_hello(key: PrivateKey, sni: str, agent_version: str, *, issued: int | None = None,
                 nonce: bytes | None = None, public_b64: str | None = None) -> dict:
    """An agent's hello for a connection to ``sni`` (``arclink.model.wire``): a fresh nonce and the
    current time unless given, signed with ``key`` (whose ``public_key_b64`` the caller may have kept)."""
    import base64
    import os
    import time

    from arclink.model.wire import NONCE_BYTES, auth_payload

    nonce = os.urandom(NONCE_BYTES) if nonce is None else nonce
    issued = int(time.time()) if issued is None else issued
    sig = sign_payload(key, auth_payload(nonce, issued, sni))
    return {"type": "hello", "key": public_b64 or public_key_b64(key), "nonce": base64.b64encode(nonce).decode(), "time": issued,
            "sig": base64.b64encode(sig).decode(), "agentVersion": agent_version}


def load_agent_public_key(public_der: bytes) -> Any:
    """The public key object of an agent's DER key (RSA, EC or Ed25519), or None when it is none of
    those; a verifier that meets the same key often keeps the object (loading costs a third of a check)."""
    from cryptography.hazmat.primitives.asymmetric import ed25519

    try:
        pub = serialization.load_der_public_key(public_der)
    except (ValueError, TypeError):
        return None
    return pub if isinstance(pub, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey)) else None


def verify_signature(pub: Any, signature: bytes, payload: bytes) -> bool:
    """True when ``signature`` over ``payload`` was made by the private half of ``pub``
    (a key from ``load_agent_public_key``)."""
    try:
        if isinstance(pub, ec.EllipticCurvePublicKey):  # the usual agent key first: this runs per admission
            pub.verify(signature, payload, _ECDSA_SHA256)
        elif isinstance(pub, rsa.RSAPublicKey):
            pub.verify(signature, payload, _pss(), hashes.SHA256())
        else:
            pub.verify(signature, payload)
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False
