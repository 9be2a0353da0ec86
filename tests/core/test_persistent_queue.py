"""The sending queue with `storage`: batches survive a restart, disk trouble never stops delivery.

The exporter here is a small in-process recorder (this tests the queue's logic); the disk is real.
"""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest

from collector.component import ComponentError, Exporter, Kind, PermanentError
from collector.exporterhelper import QueueConfig, QueuedSender, RetryConfig, SendingConfig
from collector.telemetry import Telemetry
from collector.testing import MetricsData, NopHost, create_settings, gauge, metrics_data
from extensions.file_storage import FileStorageConfig
from extensions.file_storage.extension import FileStorage


def batch(value: int) -> MetricsData:
    return metrics_data(gauge("queued", value, attributes={"n": str(value)}, time=1_000 + value, unit="1"))


def value_of(data: MetricsData) -> int:
    return data.resource_metrics[0].scope_metrics[0].metrics[0].data.data_points[0].value


class Recorder(Exporter):
    """Fails while `mode` says so, records what it delivered."""

    def __init__(self, telemetry: Telemetry) -> None:
        super().__init__(create_settings(Kind.EXPORTER, "recorder", telemetry), None)
        self.mode = "ok"
        self.delivered: list[int] = []

    async def export(self, data: MetricsData) -> None:
        if self.mode == "down":
            raise ConnectionError("backend down")
        if self.mode == "reject":
            raise PermanentError("InvalidParameterValue: bad data")
        self.delivered.append(value_of(data))


SENDING = SendingConfig(
    retry_on_failure=RetryConfig(initial_interval="10ms", max_interval="20ms", max_elapsed_time=0),
    sending_queue=QueueConfig(num_consumers=1, storage="file_storage", queue_size=50),
)


async def start_sender(directory: Path, permissions: str = "0750") -> tuple[QueuedSender, Recorder, Telemetry]:
    telemetry = Telemetry()
    config = FileStorageConfig(directory=str(directory), create_directory=True, directory_permissions=permissions)
    settings = create_settings(Kind.EXTENSION, "file_storage", telemetry)
    storage = FileStorage(settings, config)
    host = NopHost({"file_storage": storage}, telemetry)
    await storage.start(host)
    exporter = Recorder(telemetry)
    sender = QueuedSender(exporter, SENDING, telemetry)
    await sender.start(host)
    return sender, exporter, telemetry


def batch_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*/*.batch"))


async def wait_until(condition, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_batches_are_on_disk_before_acceptance_and_survive_a_restart(tmp_path: Path) -> None:
    sender, exporter, _ = await start_sender(tmp_path)
    exporter.mode = "down"
    for value in (1, 2, 3):
        await sender.consume(batch(value))
        assert len(batch_files(tmp_path)) == value  # persisted before consume returned
    loop = asyncio.get_running_loop()
    await sender.shutdown(loop.time() + 0.2)
    assert exporter.delivered == []
    assert len(batch_files(tmp_path)) == 3

    restarted, exporter2, telemetry = await start_sender(tmp_path)
    await restarted.consume(batch(4))
    await wait_until(lambda: len(exporter2.delivered) == 4)
    assert exporter2.delivered == [1, 2, 3, 4]  # the previous run's batches first
    await wait_until(lambda: not batch_files(tmp_path))
    await restarted.shutdown(loop.time() + 1)
    assert telemetry.value("otelcol_exporter_sent_metric_points", exporter="recorder") == 4


async def test_permanent_failure_removes_the_batch(tmp_path: Path) -> None:
    sender, exporter, telemetry = await start_sender(tmp_path)
    exporter.mode = "reject"
    await sender.consume(batch(1))
    await sender.consume(batch(2))
    await wait_until(lambda: telemetry.value("otelcol_exporter_send_failed_metric_points", exporter="recorder") == 2)
    await wait_until(lambda: not batch_files(tmp_path))
    await sender.shutdown(asyncio.get_running_loop().time() + 1)


async def test_unusable_storage_falls_back_to_memory_and_recovers(tmp_path: Path) -> None:
    sender, exporter, telemetry = await start_sender(tmp_path)
    client_dir = next(tmp_path.iterdir())
    exporter.mode = "down"
    # Running as root makes chmod useless, so stand in for a read-only or full disk with ENOTDIR:
    # the queue's directory is replaced by a plain file, and every write fails with an OSError.
    client_dir.rmdir()
    client_dir.write_text("not a directory")
    await sender.consume(batch(1))
    assert telemetry.value("collector_exporter_storage_errors", exporter="recorder", operation="write") == 1
    client_dir.unlink()
    client_dir.mkdir()
    await sender.consume(batch(2))
    assert len(batch_files(tmp_path)) == 1
    exporter.mode = "ok"
    await wait_until(lambda: sorted(exporter.delivered) == [1, 2])
    await wait_until(lambda: not batch_files(tmp_path))
    await sender.shutdown(asyncio.get_running_loop().time() + 1)


async def test_storage_that_cannot_open_still_delivers(tmp_path: Path) -> None:
    (tmp_path / "exporter_recorder_metrics").write_text("in the way")
    sender, exporter, telemetry = await start_sender(tmp_path)
    await sender.consume(batch(7))
    await wait_until(lambda: exporter.delivered == [7])
    assert telemetry.value("collector_exporter_storage_errors", exporter="recorder", operation="open") == 1
    await sender.shutdown(asyncio.get_running_loop().time() + 1)


async def test_a_corrupt_file_is_set_aside(tmp_path: Path) -> None:
    client_dir = tmp_path / "exporter_recorder_metrics"
    client_dir.mkdir()
    (client_dir / f"{0:020d}.batch").write_bytes(b"\xff\xff not protobuf")
    (client_dir / f"{1:020d}.tmp").write_bytes(b"half written")
    sender, exporter, telemetry = await start_sender(tmp_path)
    await sender.consume(batch(5))
    await wait_until(lambda: exporter.delivered == [5])
    assert telemetry.value("collector_exporter_storage_errors", exporter="recorder", operation="read") == 1
    assert [p.suffix for p in client_dir.iterdir()] == [".corrupt"]
    await sender.shutdown(asyncio.get_running_loop().time() + 1)


async def test_missing_directory_without_create_directory_is_an_error(tmp_path: Path) -> None:
    telemetry = Telemetry()
    settings = create_settings(Kind.EXTENSION, "file_storage", telemetry)
    storage = FileStorage(settings, FileStorageConfig(directory=str(tmp_path / "missing")))
    with pytest.raises(ComponentError, match="create_directory"):
        await storage.start(NopHost())


@pytest.mark.parametrize("permissions,umask", [("0750", 0o077), ("0700", 0o022), ("0770", 0o002)])
async def test_every_directory_and_file_gets_directory_permissions_whatever_the_umask(tmp_path, permissions, umask):
    """Issue 18 item 9: the client directory was 0755 and batch files 0644 despite `directory_permissions`."""
    old = os.umask(umask)
    try:
        root = tmp_path / "state" / "queue"  # two levels created by the extension
        sender, exporter, _ = await start_sender(root, permissions)
        exporter.mode = "down"
        await sender.consume(batch(1))
        await sender.shutdown(asyncio.get_running_loop().time() + 0.1)
    finally:
        os.umask(old)
    mode = int(permissions, 8)
    directories = [tmp_path / "state", root, *(p for p in root.iterdir() if p.is_dir())]
    assert len(directories) == 3
    for directory in directories:
        assert stat.S_IMODE(directory.stat().st_mode) == mode, directory
    files = batch_files(root)
    assert files
    for file in files:
        assert stat.S_IMODE(file.stat().st_mode) == mode & 0o666, file
