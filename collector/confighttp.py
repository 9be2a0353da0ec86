"""The Collector's HTTP server keys (confighttp ServerConfig) that a GET-only endpoint here cannot honour.

The Collector squashes its whole HTTP server config into every component that listens (the prometheus
exporter, the health check ...), so a Collector user may bring any of these keys. Each one is refused
with its reason instead of being an unknown key or, worse, accepted and ignored. Components mix this in
and redefine a key they do support.
"""

from __future__ import annotations

from collector.component import ConfigModel
from collector.configtypes import Refused

_LISTENER = "the HTTP listener's limits are the collector's own, the same for every endpoint (docs/operations.md)"
_NO_BODY = "this endpoint answers GET requests, which have no body"


class GetEndpointServerKeys(ConfigModel):
    cors: Refused("this endpoint is polled by tools, not browsers") = None
    auth: Refused("authenticator extensions are not available; require client certificates with tls.client_ca_file") = (
        None
    )
    include_metadata: Refused("no request metadata travels with the data here") = None
    compression_algorithms: Refused(_NO_BODY) = None
    max_request_body_size: Refused(_NO_BODY) = None
    read_timeout: Refused(_LISTENER) = None
    read_header_timeout: Refused(_LISTENER) = None
    write_timeout: Refused(_LISTENER) = None
    keepalive: Refused(_LISTENER) = None
    middlewares: Refused("middleware extensions are not available") = None
