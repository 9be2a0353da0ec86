"""TLS settings keyed as the Collector's `configtls` (`tls:` under a component's config): the server side
(the `otlp` receiver, the `prometheus` exporter) and the client side (OTLP exporters, the `jmx` receiver's py4j).
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from collector.component import ComponentError, ConfigModel

_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


class TLSServerConfig(ConfigModel):
    cert_file: str
    key_file: str
    client_ca_file: str | None = None
    """When set, clients must present a certificate signed by this CA (mutual TLS)."""
    min_version: Literal["1.2", "1.3"] = "1.2"

    @model_validator(mode="after")
    def _files_named(self) -> TLSServerConfig:
        if not self.cert_file.strip() or not self.key_file.strip():
            raise ValueError("cert_file and key_file must both name files")
        return self

    def ssl_context(self) -> ssl.SSLContext:
        """For asyncio/aiohttp servers. Raises OSError/ssl.SSLError naming the unreadable file."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = _VERSIONS[self.min_version]
        context.load_cert_chain(self.cert_file, self.key_file)
        if self.client_ca_file:
            context.load_verify_locations(self.client_ca_file)
            context.verify_mode = ssl.CERT_REQUIRED
        return context

    def grpc_credentials(self):  # -> grpc.ServerCredentials
        import grpc

        root = Path(self.client_ca_file).read_bytes() if self.client_ca_file else None
        pair = (Path(self.key_file).read_bytes(), Path(self.cert_file).read_bytes())
        return grpc.ssl_server_credentials([pair], root_certificates=root, require_client_auth=root is not None)


class TLSClientConfig(ConfigModel):
    """The Collector's client `tls` keys (configtls)."""

    insecure: bool = Field(False, description="gRPC: plaintext, no TLS at all. otlphttp: the URL scheme decides.")
    insecure_skip_verify: bool = Field(False, description="TLS without verifying the server's certificate.")
    ca_file: str | None = Field(None, description="CA bundle that verifies the server; system roots when unset.")
    cert_file: str | None = Field(None, description="Client certificate (mutual TLS), with key_file.")
    key_file: str | None = Field(None, description="Client private key (mutual TLS), with cert_file.")

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
