"""The `batch` processor's settings, with the Collector's keys and defaults."""

from __future__ import annotations

from typing import Self

from pydantic import Field, field_validator, model_validator

from collector.component import ConfigModel
from collector.configtypes import Duration


class BatchConfig(ConfigModel):
    """The Collector batch processor's keys and defaults."""

    send_batch_size: int = Field(
        8192, ge=0, description="Send as soon as this many points are held; 0 = only the timeout sends."
    )
    send_batch_max_size: int = Field(0, ge=0, description="Never send more points at once; 0 = no limit.")
    timeout: Duration = Field(0.2, ge=0, description="Send what is held after this long; 0 = at once.")
    metadata_keys: list[str] = Field(
        default_factory=list,
        description="One batcher per distinct value of these client metadata keys. No receiver here attaches "
        "client metadata (include_metadata), so all data has the empty value and one batcher runs.",
    )
    metadata_cardinality_limit: int = Field(1000, ge=0, description="Most distinct metadata combinations.")

    @field_validator("metadata_keys")
    @classmethod
    def _distinct_keys(cls, keys: list[str]) -> list[str]:
        seen: set[str] = set()
        for key in keys:
            if key.lower() in seen:  # case-insensitive, as HTTP and gRPC metadata are
                raise ValueError(f"duplicate entry in metadata_keys: {key!r} (case-insensitive)")
            seen.add(key.lower())
        return keys

    @model_validator(mode="after")
    def _max_not_below_size(self) -> Self:
        if self.send_batch_max_size and self.send_batch_max_size < self.send_batch_size:
            raise ValueError("send_batch_max_size must be 0 or at least send_batch_size")
        return self
