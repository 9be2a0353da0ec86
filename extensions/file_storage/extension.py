from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

from pydantic import Field, field_validator

from collector.component import ComponentError, ConfigModel, CreateSettings, Extension, Factory, Kind, Stability
from collector.configtypes import Duration, PositiveDuration, Refused
from collector.executors import OwnedExecutor


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
    recreate: Refused("to start with empty queues, stop the collector and empty the directory") = None

    @field_validator("directory_permissions")
    @classmethod
    def _octal(cls, value: str) -> str:
        if not re.fullmatch(r"0?[0-7]{3}", value):
            raise ValueError(f"{value!r} is not an octal file mode like 0750")
        return value


class FileStorage(Extension[FileStorageConfig]):
    """Hands each client (e.g. an exporter's sending queue) its own sub-directory.

    Unlike the Collector's bbolt files, every client gets a directory of plain files, one per stored
    item, so a crash mid-write can only lose the item being written (writes go to a temp name first).
    """

    def __init__(self, settings: CreateSettings, config: FileStorageConfig) -> None:
        super().__init__(settings, config)
        self.permissions = int(self.config.directory_permissions, 8)
        self.fsync = self.config.fsync

    async def start(self, host: object) -> None:
        disk = OwnedExecutor(self.id)  # once, at start: a hung mount costs this extension's thread only
        try:
            await asyncio.wait_for(disk.submit(self._check_directory), self.config.timeout)
        except TimeoutError:
            raise ComponentError(f"directory {self.config.directory!r} did not answer within timeout") from None
        finally:
            disk.shutdown()

    def _check_directory(self) -> None:
        directory = Path(self.config.directory)
        if not directory.is_dir():
            if not self.config.create_directory:
                raise ComponentError(
                    f"directory {str(directory)!r} does not exist: create it or set create_directory: true"
                )
            try:
                for missing in [*reversed([p for p in directory.parents if not p.exists()]), directory]:
                    missing.mkdir(mode=self.permissions, exist_ok=True)
                    os.chmod(missing, self.permissions)  # mkdir's mode is cut by the umask
            except OSError as exc:
                raise ComponentError(f"cannot create directory {str(directory)!r}: {exc.strerror}") from exc
        if not os.access(directory, os.W_OK | os.X_OK):
            # Not fatal: queues using it fall back to memory and say so (see exporters' sending_queue).
            self.logger.warning("storage directory is not writable", extra={"directory": str(directory)})

    def client_directory(self, kind: str, component_id: str, signal: str = "metrics") -> Path:
        """`<directory>/<kind>_<type>_<name>_<signal>`, as the Collector names its per-client files."""
        safe_id = re.sub(r"[^A-Za-z0-9._-]", "_", component_id.replace("/", "_"))
        return Path(self.config.directory) / f"{kind}_{safe_id}_{signal}"


factory = Factory(
    type="file_storage",
    kind=Kind.EXTENSION,
    config_model=FileStorageConfig,
    create=FileStorage,
    stability=Stability.ALPHA,
    description="A directory for state that survives a restart, e.g. exporters' persistent sending queues.",
)
