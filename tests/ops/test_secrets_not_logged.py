"""Secrets given through ${env:} never reach a log line or `collector validate` output: a real collector at
--log-level debug sends with secret headers and credentials to a backend that refuses and to one that is
down, and `validate` is run on good and broken configs carrying the same secrets."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.ops.conftest import free_port, listening
from tests.support import run_collector, wait_for, write_config

SECRETS = {
    "OTLP_TOKEN": "tok-3f9a1c7e55d2",
    "OTLP_API_KEY": "key-8b6e0d4f2a91",
    "OTLP_PASSWORD": "pw-c0ffee12ab34",
}


def refusing_backend(tmp_path, http_port: int) -> dict:
    """A real collector whose memory_limiter (1 MiB) refuses everything with 503."""
    return {
        "receivers": {"otlp": {"protocols": {"http": {"endpoint": f"127.0.0.1:{http_port}"}}}},
        "processors": {"memory_limiter": {"check_interval": "100ms", "limit_mib": 1}},
        "exporters": {"file": {"path": str(tmp_path / "never.jsonl")}},
        "service": {
            "pipelines": {"metrics": {"receivers": ["otlp"], "processors": ["memory_limiter"], "exporters": ["file"]}}
        },
    }


def sender(refusing_port: int, down_port: int) -> dict:
    fast_retry = {"initial_interval": "50ms", "max_interval": "100ms", "max_elapsed_time": "0s"}
    return {
        "receivers": {
            "static": {"collection_interval": "100ms", "initial_delay": "0s", "metrics": [{"name": "lag", "value": 1}]}
        },
        "exporters": {
            "otlphttp/refused": {
                "endpoint": f"http://collector:${{env:OTLP_PASSWORD}}@127.0.0.1:{refusing_port}",
                "headers": {"Authorization": "Bearer ${env:OTLP_TOKEN}", "X-Api-Key": "${env:OTLP_API_KEY}"},
                "retry_on_failure": fast_retry,
            },
            "otlp/down": {
                "endpoint": f"127.0.0.1:{down_port}",
                "tls": {"insecure": True},
                "headers": {"authorization": "Bearer ${env:OTLP_TOKEN}", "x-api-key": "${env:OTLP_API_KEY}"},
                "retry_on_failure": fast_retry,
            },
        },
        "service": {
            "shutdown_grace_period": "1s",  # the batches still being retried are given up at stop
            "pipelines": {"metrics": {"receivers": ["static"], "exporters": ["otlphttp/refused", "otlp/down"]}},
        },
    }


def assert_no_secret(text: str, what: str, secrets: dict[str, str] = SECRETS) -> None:
    leaked = [name for name, value in secrets.items() if value in text]
    assert not leaked, f"{what} shows the value of {leaked}:\n{text}"


def validate(path, env: dict[str, str], python=sys.executable) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), "-m", "collector", "--log-level", "debug", "validate", "--config", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )


def test_secrets_stay_out_of_debug_logs_while_sending_fails(example_plugin, tmp_path):
    backend_dir, sender_dir = tmp_path / "backend", tmp_path / "sender"
    backend_dir.mkdir()
    sender_dir.mkdir()
    refusing_port, down_port = free_port(), free_port()
    backend_path = write_config(backend_dir, refusing_backend(backend_dir, refusing_port))
    sender_path = write_config(sender_dir, sender(refusing_port, down_port))

    with run_collector(backend_path, python=example_plugin) as backend:
        wait_for(lambda: listening(refusing_port), 30, f"backend listening:\n{backend.logs()}")
        with run_collector(sender_path, "--log-level", "debug", env=SECRETS, python=example_plugin) as collector:

            def both_failing() -> bool:
                logs = collector.logs()
                return "component=otlphttp/refused" in logs and "component=otlp/down" in logs and "503" in logs

            wait_for(both_failing, 30, "both exporters failing and retrying")
            assert collector.stop() == 0
        logs = collector.logs()
    assert "DEBUG" in logs  # debug really was on
    assert_no_secret(logs, "the sender's debug log")
    assert_no_secret(backend.logs(), "the refusing backend's log")

    result = validate(sender_path, SECRETS, example_plugin)
    assert result.returncode == 0, result.stderr
    assert_no_secret(result.stdout + result.stderr, "collector validate")


@pytest.mark.parametrize(
    ("broken", "expected_path"),
    [
        # a header value with a line break: refused, the value not shown
        ({"OTLP_TOKEN": SECRETS["OTLP_TOKEN"] + "\r\nX-Injected: 1"}, "exporters.otlphttp/refused.headers"),
        # credentials in a gRPC endpoint that is not a valid endpoint
        ({"GRPC_ENDPOINT": f"http://user:{SECRETS['OTLP_PASSWORD']}@127.0.0.1:1/path"}, "exporters.otlp/down.endpoint"),
        # credentials in a URL the http exporter cannot parse
        ({"HTTP_ENDPOINT": f"ftp://user:{SECRETS['OTLP_PASSWORD']}@127.0.0.1:1"}, "exporters.otlphttp/refused"),
    ],
)
def test_config_errors_name_the_path_not_the_secret(tmp_path, broken, expected_path):
    config = sender(free_port(), free_port())
    config["exporters"]["otlp/down"]["endpoint"] = "${env:GRPC_ENDPOINT:-127.0.0.1:1}"
    config["exporters"]["otlphttp/refused"]["endpoint"] = "${env:HTTP_ENDPOINT:-http://127.0.0.1:1}"
    config["receivers"] = {"otlp": {"protocols": {"grpc": {"endpoint": "127.0.0.1:0"}}}}
    config["service"]["pipelines"]["metrics"]["receivers"] = ["otlp"]
    path = write_config(tmp_path, config)
    result = validate(path, {**SECRETS, **broken})
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert expected_path in output
    assert "Traceback" not in output
    assert_no_secret(output, "a config error")
