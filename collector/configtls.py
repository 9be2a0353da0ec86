"""Server-side TLS settings, keyed as the Collector's `configtls` (`tls:` under a listener's config).

Shared by every component that listens (the `otlp` receiver, the `prometheus` exporter).
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Literal

from pydantic import model_validator

from collector.component import ConfigModel

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
