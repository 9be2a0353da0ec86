from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

from collector.component import ComponentError, StorageExtension
from collector.executors import OwnedExecutor
from extensions.file_storage.config import FileStorageConfig


class FileStorage(StorageExtension):
    """Hands each client (e.g. an exporter's sending queue) its own sub-directory.

    Unlike the Collector's bbolt files, every client gets a directory of plain files, one per stored
    item, so a crash mid-write can only lose the item being written (writes go to a temp name first).
    """

    config: FileStorageConfig

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
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
