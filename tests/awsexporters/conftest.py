"""A real moto server (CloudWatch + CloudWatch Logs) per test session, dummy credentials via the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest

from tests.support import free_port, listening, wait_for

# Dummy credentials: moto accepts anything; tests assert they never reach a log.
DUMMY_KEY_ID = "AKIAEXAMPLEDUMMYKEY1"
DUMMY_SECRET = "dummy/secret/never+logged+0123456789abcd"
REGION = "eu-west-1"
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": DUMMY_KEY_ID,
    "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
}


@dataclass
class MotoServer:
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)  # e.g. INITIAL_NO_AUTH_ACTION_COUNT: IAM enforced
    program: str = "moto_server"  # or moto_proxy: an HTTPS-intercepting proxy in front of moto's backends

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        binary = Path(sys.executable).with_name(self.program)
        if not binary.exists():
            pytest.fail(f"{self.program} not found beside {sys.executable}: install the test extra (moto[server])")
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(binary), "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
            )
        try:
            wait_for(lambda: listening(self.port), 30, f"moto_server on port {self.port} (log: {self.log_path})")
        except AssertionError:
            self.stop()
            pytest.fail(f"moto_server did not start; see {self.log_path}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def client(self, service: str):
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.endpoint,
            aws_access_key_id=DUMMY_KEY_ID,
            aws_secret_access_key=DUMMY_SECRET,
        )


@pytest.fixture(scope="session", autouse=True)
def aws_environment() -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in AWS_ENV}
    os.environ.update(AWS_ENV)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(free_port(), tmp_path_factory.mktemp("moto") / "moto.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_moto(tmp_path: Path) -> Iterator[MotoServer]:
    """A moto server this test may stop and start (backend down, then up)."""
    server = MotoServer(free_port(), tmp_path / "moto.log")
    yield server
    server.stop()
