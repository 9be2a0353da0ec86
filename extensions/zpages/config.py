"""The `zpages` extension's settings: the Collector's `endpoint` (and `tls`, as its confighttp server
settings have), plus how often the pages reload themselves."""

from __future__ import annotations

from pydantic import Field

from collector.component import ConfigModel
from collector.confignet import Endpoint
from collector.configtls import TLSServerConfig
from collector.configtypes import Duration


class ZPagesConfig(ConfigModel):
    endpoint: Endpoint = Field(
        "localhost:55679", description="Where the pages listen; loopback by default, as in the Collector."
    )
    tls: TLSServerConfig | None = None
    refresh_interval: Duration = Field(
        10.0, ge=1, description="How often an open page reloads itself (a meta refresh, no script)."
    )
