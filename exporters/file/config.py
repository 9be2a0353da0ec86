"""`file` config: the Collector's fileexporter keys (path, format, rotation)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from collector.component import ConfigModel


class RotationConfig(ConfigModel):
    """The Collector's (lumberjack's) rotation keys; `max_megabytes` triggers a rotation."""

    max_megabytes: int = Field(100, gt=0)
    max_days: int = Field(0, ge=0, description="Delete backups older than this; 0 keeps them.")
    max_backups: int = Field(100, ge=0, description="How many rotated files to keep; 0 keeps all.")
    localtime: bool = False


class FileConfig(ConfigModel):
    path: str = Field(min_length=1)
    format: Literal["json"] = "json"
    rotation: RotationConfig | None = None
