"""`debug` config: how much of each batch is written."""

from __future__ import annotations

from typing import Literal

from collector.component import ConfigModel


class DebugConfig(ConfigModel):
    verbosity: Literal["basic", "normal", "detailed"] = "basic"
