"""Throwaway X.509 material made in the tests (cryptography): a CA, certificates for 127.0.0.1/localhost."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID


def make_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def make_cert(subject: str, key, issuer_name: str, issuer_key, ca: bool, san: bool = False) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san:
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def write_pem(path: Path, cert: x509.Certificate | None = None, key=None) -> Path:
    if cert is not None:
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    else:
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return path


def server_keystore(directory: Path, password: str) -> tuple[Path, Path]:
    """A fresh CA and a PKCS#12 keystore (server key + certificate for 127.0.0.1/localhost) a JVM loads.
    Returns (keystore, ca.pem)."""
    ca_key, server_key = make_key(), make_key()
    ca = make_cert("test CA", ca_key, "test CA", ca_key, ca=True)
    server = make_cert("localhost", server_key, "test CA", ca_key, ca=False, san=True)
    keystore = directory / "gateway.p12"
    keystore.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"gateway", server_key, server, [ca], serialization.BestAvailableEncryption(password.encode())
        )
    )
    return keystore, write_pem(directory / "ca.pem", ca)
