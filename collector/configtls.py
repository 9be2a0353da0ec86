"""TLS settings keyed as the Collector's `configtls` (`tls:` under a component's config): the server side
(the `otlp` receiver, the `prometheus` exporter) and the client side (OTLP exporters, the `jmx` receiver's py4j).
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, field_validator, model_validator

from collector.component import ComponentError, ConfigModel
from collector.configtypes import Refused

if TYPE_CHECKING:
    import grpc

_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}
_OLD_VERSIONS = ("1.0", "1.1")
_PEM = (
    "inline certificates and keys are not read: give them as files (cert_file, key_file, ca_file) that only "
    "the collector can read"
)
_RELOAD = (
    "certificates are read at start; replace the files and send SIGHUP, which reloads the config and re-reads them"
)
_OPENSSL = (
    "the TLS library (OpenSSL, through Python's ssl) chooses; its defaults allow only TLS 1.2+ suites with "
    "forward secrecy"
)


def _modern(version: str, key: str) -> str:
    if version in _OLD_VERSIONS:
        raise ValueError(
            f"{key} {version!r} is not supported: TLS 1.0 and 1.1 are deprecated and insecure; use 1.2 or 1.3"
        )
    if version not in _VERSIONS:
        raise ValueError(f"{key} must be 1.2 or 1.3, got {version!r}")
    return version


class _RefusedTLSKeys(ConfigModel):
    """The Collector's `configtls` keys, common to clients and servers, that this design cannot have."""

    ca_pem: Annotated[Any, Refused(_PEM)] = None
    cert_pem: Annotated[Any, Refused(_PEM)] = None
    key_pem: Annotated[Any, Refused(_PEM)] = None
    cipher_suites: Annotated[Any, Refused(_OPENSSL)] = None
    curve_preferences: Annotated[Any, Refused(_OPENSSL)] = None
    reload_interval: Annotated[Any, Refused(_RELOAD)] = None
    tpm: Annotated[Any, Refused("keys are read from key_file; a TPM-held key cannot be used")] = None


class TLSServerConfig(_RefusedTLSKeys):
    """The Collector's server `tls` keys (configtls ServerConfig)."""

    cert_file: str
    key_file: str
    client_ca_file: str | None = Field(
        None, description="When set, clients must present a certificate signed by this CA (mutual TLS)."
    )
    ca_file: str | None = Field(
        None,
        description="Read and checked at start. As in the Collector, it does not make the server ask for client "
        "certificates: only client_ca_file does (mutual TLS).",
    )
    include_system_ca_certs_pool: bool = Field(
        False, description="With client_ca_file: also accept client certificates signed by the system's CAs."
    )
    min_version: str = "1.2"
    max_version: str | None = Field(None, description="1.2 or 1.3; unset = the newest the TLS library offers.")
    client_ca_file_reload: Annotated[Any, Refused(_RELOAD)] = None

    @field_validator("min_version")
    @classmethod
    def _min(cls, version: str) -> str:
        return _modern(version, "min_version")

    @field_validator("max_version")
    @classmethod
    def _max(cls, version: str | None) -> str | None:
        return None if version is None else _modern(version, "max_version")

    @model_validator(mode="after")
    def _files_named(self) -> TLSServerConfig:
        if not self.cert_file.strip() or not self.key_file.strip():
            raise ValueError("cert_file and key_file must both name files")
        if self.max_version and _VERSIONS[self.max_version] < _VERSIONS[self.min_version]:
            raise ValueError("max_version is below min_version")
        return self

    def ssl_context(self) -> ssl.SSLContext:
        """For asyncio/aiohttp servers. Raises OSError/ssl.SSLError naming the unreadable file."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = _VERSIONS[self.min_version]
        if self.max_version:
            context.maximum_version = _VERSIONS[self.max_version]
        context.load_cert_chain(self.cert_file, self.key_file)
        if self.ca_file:
            context.load_verify_locations(self.ca_file)  # checked; asks nothing of clients (verify_mode stays)
        if self.client_ca_file:
            context.load_verify_locations(self.client_ca_file)
            if self.include_system_ca_certs_pool:
                context.load_default_certs(ssl.Purpose.CLIENT_AUTH)
            context.verify_mode = ssl.CERT_REQUIRED
        return context

    def grpc_credentials(self) -> grpc.ServerCredentials:
        """gRPC servers take no version bounds: gRPC itself requires TLS 1.2 or newer."""
        import grpc  # local import: heavy, loaded only when a gRPC server starts, not by every TLS config

        if self.ca_file:
            Path(self.ca_file).read_bytes()  # checked at start, as for HTTP servers
        root = Path(self.client_ca_file).read_bytes() if self.client_ca_file else None
        pair = (Path(self.key_file).read_bytes(), Path(self.cert_file).read_bytes())
        return grpc.ssl_server_credentials([pair], root_certificates=root, require_client_auth=root is not None)


_CLIENT_VERSIONS = "clients always require TLS 1.2 or newer; the newest both sides offer is used"
_CLIENT_CAS = "with ca_file only that CA is trusted, without it the system's CAs"


class TLSClientConfig(_RefusedTLSKeys):
    """The Collector's client `tls` keys (configtls)."""

    insecure: bool = Field(False, description="gRPC: plaintext, no TLS at all. otlphttp: the URL scheme decides.")
    insecure_skip_verify: bool = Field(False, description="TLS without verifying the server's certificate.")
    ca_file: str | None = Field(None, description="CA bundle that verifies the server; system roots when unset.")
    cert_file: str | None = Field(None, description="Client certificate (mutual TLS), with key_file.")
    key_file: str | None = Field(None, description="Client private key (mutual TLS), with cert_file.")
    min_version: Annotated[Any, Refused(_CLIENT_VERSIONS)] = None
    max_version: Annotated[Any, Refused(_CLIENT_VERSIONS)] = None
    include_system_ca_certs_pool: Annotated[Any, Refused(_CLIENT_CAS)] = None

    @model_validator(mode="after")
    def _pairs(self) -> TLSClientConfig:
        if bool(self.cert_file) != bool(self.key_file):
            raise ValueError("cert_file and key_file go together: set both for mutual TLS, or neither")
        if self.insecure and self.insecure_skip_verify:
            raise ValueError("insecure (no TLS) and insecure_skip_verify (TLS, unverified) exclude each other")
        return self

    def read_files(self) -> tuple[bytes | None, bytes | None, bytes | None]:
        """(ca, cert, key) file contents; a missing file is a ComponentError naming its key. Blocking."""
        return _read("ca_file", self.ca_file), _read("cert_file", self.cert_file), _read("key_file", self.key_file)


def _read(key: str, path: str | None) -> bytes | None:
    if not path:
        return None
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as exc:
        raise ComponentError(f"tls.{key}: cannot read {path}: {exc.strerror}") from exc
