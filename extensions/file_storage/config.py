"""The `file_storage` extension's settings, with the Collector's keys."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Field, field_validator

from collector.component import ConfigModel
from collector.configtypes import Duration, PositiveDuration, Refused


class CompactionConfig(ConfigModel):
    """The Collector's `compaction` keys, accepted and checked. Here there is nothing to compact: every
    stored item is its own file, deleted (and its space freed) as soon as it is sent."""

    on_start: bool = False
    on_rebound: bool = False
    directory: str | None = None
    max_transaction_size: int = Field(65536, ge=0)
    rebound_needed_threshold_mib: int = Field(10, ge=0)
    rebound_trigger_threshold_mib: int = Field(5, ge=0)
    check_interval: Duration = Field(5.0, ge=0)
    cleanup_on_start: bool = False


class FileStorageConfig(ConfigModel):
    """The Collector's file_storage keys."""

    directory: str = Field("/var/lib/otelcol/file_storage", min_length=1)
    create_directory: bool = Field(False, description="Create `directory` (and parents) if it is missing.")
    directory_permissions: str = Field(
        "0750",
        description="Octal mode for every directory this extension and its clients create; their files get it "
        "without the execute bits (0750 -> 0640).",
    )
    fsync: bool = Field(False, description="fsync every write: survives a power cut, not only a crash.")
    timeout: PositiveDuration = Field(
        1.0, description="How long start waits for the directory (a hung mount fails the start after it)."
    )
    compaction: CompactionConfig = CompactionConfig()
    recreate: Annotated[Any, Refused("to start with empty queues, stop the collector and empty the directory")] = None

    @field_validator("directory_permissions")
    @classmethod
    def _octal(cls, value: str) -> str:
        if not re.fullmatch(r"0?[0-7]{3}", value):
            raise ValueError(f"{value!r} is not an octal file mode like 0750")
        return value
