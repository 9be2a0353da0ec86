"""The Collector's HTTP server keys (confighttp ServerConfig) that a GET-only endpoint here cannot honour.

The Collector squashes its whole HTTP server config into every component that listens (the prometheus
exporter, the health check ...), so a Collector user may bring any of these keys. Each one is refused
with its reason instead of being an unknown key or, worse, accepted and ignored. Components mix this in
and redefine a key they do support.
"""

from __future__ import annotations

from typing import Annotated, Any

from collector.component import ConfigModel
from collector.configtypes import Refused

_LISTENER = "the HTTP listener's limits are the collector's own, the same for every endpoint (docs/operations.md)"
_NO_BODY = "this endpoint answers GET requests, which have no body"
_NO_AUTH = "authenticator extensions are not available; require client certificates with tls.client_ca_file"


class GetEndpointServerKeys(ConfigModel):
    cors: Annotated[Any, Refused("this endpoint is polled by tools, not browsers")] = None
    auth: Annotated[Any, Refused(_NO_AUTH)] = None
    include_metadata: Annotated[Any, Refused("no request metadata travels with the data here")] = None
    compression_algorithms: Annotated[Any, Refused(_NO_BODY)] = None
    max_request_body_size: Annotated[Any, Refused(_NO_BODY)] = None
    read_timeout: Annotated[Any, Refused(_LISTENER)] = None
    read_header_timeout: Annotated[Any, Refused(_LISTENER)] = None
    write_timeout: Annotated[Any, Refused(_LISTENER)] = None
    keepalive: Annotated[Any, Refused(_LISTENER)] = None
    middlewares: Annotated[Any, Refused("middleware extensions are not available")] = None
