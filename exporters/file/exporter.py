from __future__ import annotations

import os
import time
from pathlib import Path
from typing import IO

from opentelemetry.sdk.metrics.export import MetricsData

from collector.component import Exporter
from collector.executors import OwnedExecutor
from collector.otlpjson import to_json_line
from exporters.file.config import RotationConfig


class FileExporter(Exporter):
    """Appends and flushes after every batch so a reader (or a crash) sees whole lines only.

    Encoding and writing run on the exporter's own thread. One consumer keeps lines in arrival order;
    batches above 10,000 points are written as several lines, so no single write outlives the timeout.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.path = Path(self.config.path)
        self._file: IO[str] | None = None
        self._disk = OwnedExecutor(f"file-{self.id}")

    async def start(self, host: object) -> None:
        await self._disk.run(self._open)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")

    async def export(self, data: MetricsData) -> None:
        await self._disk.run(self._write, data)

    def _write(self, data: MetricsData) -> None:
        assert self._file is not None, "export before start"
        line = to_json_line(data) + "\n"
        rotation = self.config.rotation
        if rotation and self._file.tell() + len(line) > rotation.max_megabytes * 1024 * 1024 and self._file.tell():
            self._rotate(rotation)
        self._file.write(line)
        self._file.flush()

    def _rotate(self, rotation: RotationConfig) -> None:
        assert self._file is not None
        self._file.close()
        now = time.localtime() if rotation.localtime else time.gmtime()
        stamp = time.strftime("%Y-%m-%dT%H-%M-%S", now) + f".{int(time.time() * 1000) % 1000:03d}"
        backup = self.path.with_name(f"{self.path.stem}-{stamp}{self.path.suffix}")
        os.replace(self.path, backup)
        self._prune(rotation)
        self._file = self.path.open("a", encoding="utf-8")

    def _prune(self, rotation: RotationConfig) -> None:
        backups = sorted(self.path.parent.glob(f"{self.path.stem}-*{self.path.suffix}"), key=os.path.getmtime)
        if rotation.max_days:
            cutoff = time.time() - rotation.max_days * 86400
            for old in [b for b in backups if b.stat().st_mtime < cutoff]:
                old.unlink(missing_ok=True)
                backups.remove(old)
        if rotation.max_backups:
            for old in backups[: max(0, len(backups) - rotation.max_backups)]:
                old.unlink(missing_ok=True)

    async def shutdown(self) -> None:
        if self._file is not None:
            await self._disk.run(self._file.close)
            self._file = None
        self._disk.shutdown()
