"""Which AWS errors are retried, and config errors for the AWS exporters and the on-disk queue."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ParamValidationError, ReadTimeoutError

from collector.component import PermanentError
from collector.executors import OwnedExecutor
from common.aws.client import call, is_retryable
from tests.support import write_config


def client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (client_error("ThrottlingException", 400), True),
        (client_error("Throttling", 400), True),
        (client_error("TooManyRequestsException", 429), True),
        (client_error("ServiceUnavailable", 503), True),
        (client_error("InternalFailure", 500), True),
        (client_error("InvalidParameterValue", 400), False),
        (client_error("InvalidParameterException", 400), False),
        (client_error("AccessDeniedException", 403), False),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), True),
        (ReadTimeoutError(endpoint_url="http://127.0.0.1:1"), True),
        (ParamValidationError(report="bad"), False),
    ],
)
def test_retryable_errors(error: Exception, retryable: bool) -> None:
    assert is_retryable(error) is retryable


async def test_call_turns_validation_errors_into_permanent_ones() -> None:
    def rejects() -> None:
        raise client_error("InvalidParameterValue", 400)

    def throttled() -> None:
        raise client_error("ThrottlingException", 400)

    threads = OwnedExecutor("test-aws")
    with pytest.raises(PermanentError, match="InvalidParameterValue"):
        await call(rejects, threads=threads)
    with pytest.raises(ClientError):
        await call(throttled, threads=threads)
    threads.shutdown()


def validate(tmp_path: Path, config: dict) -> subprocess.CompletedProcess[str]:
    path = write_config(tmp_path, config)
    return subprocess.run(
        [sys.executable, "-m", "collector", "validate", "--config", str(path)], capture_output=True, text=True
    )


def pipeline(exporter: str) -> dict:
    return {"pipelines": {"metrics": {"receivers": ["otlp"], "exporters": [exporter]}}}


def test_storage_must_name_an_enabled_extension(tmp_path: Path) -> None:
    result = validate(
        tmp_path,
        {
            "receivers": {"otlp": {"protocols": {"grpc": {}}}},
            "exporters": {"awsemf": {"output_destination": "stdout", "sending_queue": {"storage": "file_storage"}}},
            "service": pipeline("awsemf"),
        },
    )
    assert result.returncode == 2, result.stderr
    assert "exporters.awsemf.sending_queue.storage" in result.stdout + result.stderr


def test_awscloudwatch_config_errors_have_paths(tmp_path: Path) -> None:
    result = validate(
        tmp_path,
        {
            "receivers": {"otlp": {"protocols": {"grpc": {}}}},
            "exporters": {"awscloudwatch": {"namespace": "AWS/Mine", "storage_resolution": 5}},
            "service": pipeline("awscloudwatch"),
        },
    )
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "exporters.awscloudwatch.namespace" in output
    assert "exporters.awscloudwatch.storage_resolution" in output


def test_valid_config_with_storage_passes(tmp_path: Path) -> None:
    result = validate(
        tmp_path,
        {
            "receivers": {"otlp": {"protocols": {"grpc": {}}}},
            "exporters": {"awsemf": {"output_destination": "stdout", "sending_queue": {"storage": "file_storage"}}},
            "extensions": {"file_storage": {"directory": str(tmp_path), "directory_permissions": "0700"}},
            "service": {"extensions": ["file_storage"], **pipeline("awsemf")},
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
