"""A sending queue kept on disk, so batches accepted before a crash or restart are still delivered.

Guarantee: at-least-once. A batch is written (OTLP protobuf, temp file then atomic rename) before
`offer` returns, i.e. before the pipeline sees it as accepted; its file is deleted only after the
exporter succeeded or failed permanently. A crash between a successful send and the delete sends that
batch again after the restart. Files are numbered, and what is on disk at start is queued before
anything new.

Disk trouble never stops the collector: if a write fails (disk full, read-only directory) the batch is
kept in memory only (as with `MemoryQueue`), the failure is logged once per state change and counted in
`collector_exporter_storage_errors`; writes are tried again for the next batch. A file that cannot be
read back is renamed `*.corrupt`, counted, and skipped.

The queue's directory and files get the storage extension's permissions (`directory_permissions`,
files without the execute bits), whatever the process umask; disk work runs on the queue's own thread.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.sdk.metrics.export import MetricsData

from collector.executors import OwnedExecutor
from collector.otlpdecode import decode_request
from collector.otlpjson import to_request

SUFFIX = ".batch"


def encode(data: MetricsData) -> bytes:
    """A batch as a serialized ExportMetricsServiceRequest (the SDK's own encoder)."""
    return to_request(data).SerializeToString()


def decode(payload: bytes) -> MetricsData:
    request = ExportMetricsServiceRequest()
    request.ParseFromString(payload)
    return decode_request(request)


@dataclass
class _Entry:
    seq: int
    path: Path | None  # None: kept in memory only (storage failed)
    data: MetricsData | None  # None: on disk, read when taken


class FileQueue:
    def __init__(
        self,
        capacity: int,
        directory: Path,
        logger: logging.LoggerAdapter[logging.Logger],
        on_storage_error: Callable[[str], None],
        fsync: bool = False,
        mode: int = 0o750,
    ) -> None:
        self.capacity = capacity
        self.directory = directory
        self.fsync = fsync
        self.mode = mode
        self.file_mode = mode & 0o666
        self._disk = OwnedExecutor(f"queue-{directory.name}")
        self.logger = logger
        self._on_storage_error = on_storage_error
        self._ready: asyncio.Queue[_Entry] = asyncio.Queue()
        self._in_flight: dict[int, _Entry] = {}
        self._next_seq = 0
        self._storage_ok = True

    # Start-up ----------------------------------------------------------------------------------------
    async def open(self) -> int:
        """Queue the batches a previous run left on disk; returns how many."""
        try:
            found = await self._disk.run(self._scan)
        except OSError as exc:
            self._storage_failed("open", exc)
            return 0
        for seq, path in found:
            self._ready.put_nowait(_Entry(seq, path, None))
        self._next_seq = found[-1][0] + 1 if found else 0
        return len(found)

    def _scan(self) -> list[tuple[int, Path]]:
        if not self.directory.is_dir():
            self.directory.mkdir(mode=self.mode, parents=True, exist_ok=True)
            os.chmod(self.directory, self.mode)  # mkdir's mode is cut by the umask
        found = []
        for path in self.directory.iterdir():
            if path.suffix == ".tmp":
                path.unlink(missing_ok=True)  # a write interrupted by a crash: never acknowledged
            elif path.suffix == SUFFIX and path.stem.isdigit():
                found.append((int(path.stem), path))
        return sorted(found)

    # BatchQueue --------------------------------------------------------------------------------------
    async def offer(self, data: MetricsData) -> bool:
        if self._ready.qsize() + len(self._in_flight) >= self.capacity:
            return False
        seq = self._next_seq
        self._next_seq += 1
        path: Path | None = self.directory / f"{seq:020d}{SUFFIX}"
        try:
            await self._disk.run(self._write, path, data)
        except OSError as exc:
            self._storage_failed("write", exc)
            path = None
        else:
            self._storage_recovered()
        self._ready.put_nowait(_Entry(seq, path, data))
        return True

    def _write(self, path: Path, data: MetricsData) -> None:
        payload = encode(data)  # here, on the queue's thread: a large batch takes seconds to encode
        temp = path.with_suffix(".tmp")
        try:
            descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, self.file_mode)
            os.fchmod(descriptor, self.file_mode)  # the umask must not widen or narrow it
            with open(descriptor, "wb") as file:
                file.write(payload)
                if self.fsync:
                    file.flush()
                    os.fsync(file.fileno())
            os.replace(temp, path)
        except OSError:
            temp.unlink(missing_ok=True)
            raise

    async def take(self) -> tuple[int, MetricsData]:
        while True:
            entry = await self._ready.get()
            if entry.data is None:
                assert entry.path is not None
                try:
                    entry.data = await self._disk.run(lambda p=entry.path: decode(p.read_bytes()))
                except (OSError, DecodeError) as exc:
                    await self._disk.run(self._quarantine, entry.path)
                    self._on_storage_error("read")
                    self.logger.error("cannot read a queued batch back; set aside", extra={"file": entry.path.name})
                    self.logger.debug("read error: %s", exc)
                    continue
            self._in_flight[entry.seq] = entry
            return entry.seq, entry.data

    @staticmethod
    def _quarantine(path: Path) -> None:
        try:
            path.rename(path.with_suffix(".corrupt"))
        except OSError:
            path.unlink(missing_ok=True)

    async def done(self, token: int) -> None:
        entry = self._in_flight.pop(token, None)
        if entry is None or entry.path is None:
            return
        try:
            await self._disk.run(entry.path.unlink, missing_ok=True)
        except OSError as exc:
            # The batch was delivered; it will be delivered once more after a restart (at-least-once).
            self._storage_failed("delete", exc)

    def size(self) -> int:
        return self._ready.qsize()

    def idle(self) -> bool:
        return self._ready.empty() and not self._in_flight

    def drain(self) -> tuple[list[MetricsData], int]:
        """At shutdown: the batches this process would lose (kept in memory after a failed write), and
        how many stay on disk for the next start."""
        waiting = []
        while not self._ready.empty():
            waiting.append(self._ready.get_nowait())
        entries = [*self._in_flight.values(), *waiting]
        self._in_flight.clear()
        lost = [e.data for e in entries if e.path is None and e.data is not None]
        self._disk.shutdown()
        return lost, sum(1 for e in entries if e.path is not None)

    # Storage health ----------------------------------------------------------------------------------
    def _storage_failed(self, operation: str, exc: OSError) -> None:
        self._on_storage_error(operation)
        if self._storage_ok:
            self._storage_ok = False
            self.logger.error(
                "persistent queue storage failed; batches are kept in memory until it works again",
                extra={"operation": operation, "directory": str(self.directory), "error": exc.strerror or str(exc)},
            )

    def _storage_recovered(self) -> None:
        if not self._storage_ok:
            self._storage_ok = True
            self.logger.info("persistent queue storage works again", extra={"directory": str(self.directory)})
