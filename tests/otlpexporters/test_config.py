"""Config keys as the Collector's otlp / otlphttp exporters spell them, and errors that name their path."""

from __future__ import annotations

import pytest

from collector.component import Kind
from collector.config import ConfigError, load
from collector.registry import Registry
from exporters.otlp import OTLPGrpcConfig
from exporters.otlphttp import OTLPHTTPConfig
from tests.support import write_config


def _problems(tmp_path, exporter_id: str, exporter: dict, environ: dict | None = None):
    config = {
        "receivers": {"otlp": {"protocols": {"grpc": {}}}},
        "exporters": {exporter_id: exporter},
        "service": {"pipelines": {"metrics": {"receivers": ["otlp"], "exporters": [exporter_id]}}},
    }
    try:
        return load([write_config(tmp_path, config)], Registry.discover(), environ or {})
    except ConfigError as exc:
        return [str(p) for p in exc.problems]


def test_defaults_follow_the_collector():
    grpc = OTLPGrpcConfig(endpoint="collector:4317")
    http = OTLPHTTPConfig(endpoint="http://collector:4318")
    assert grpc.compression == http.compression == "gzip"
    assert grpc.timeout == 5.0 and http.timeout == 30.0
    assert grpc.uses_tls and grpc.target == "collector:4317"
    assert grpc.retry_on_failure.enabled and grpc.sending_queue.enabled


@pytest.mark.parametrize(
    ("raw", "url"),
    [
        ({"endpoint": "http://vm:8428/opentelemetry"}, "http://vm:8428/opentelemetry/v1/metrics"),
        ({"endpoint": "https://otlp.example.com:4318/"}, "https://otlp.example.com:4318/v1/metrics"),
        (
            {"endpoint": "http://ignored:4318", "metrics_endpoint": "http://vm:8428/opentelemetry/v1/metrics"},
            "http://vm:8428/opentelemetry/v1/metrics",
        ),
        ({"metrics_endpoint": "https://ingest.example.com/otlp"}, "https://ingest.example.com/otlp"),
    ],
)
def test_otlphttp_metrics_url(raw, url):
    assert OTLPHTTPConfig(**raw).metrics_url == url


@pytest.mark.parametrize(
    ("endpoint", "insecure", "target", "tls"),
    [
        ("collector:4317", True, "collector:4317", False),
        ("collector:4317", False, "collector:4317", True),
        ("http://collector:4317", True, "collector:4317", False),
        ("http://collector:4317", False, "collector:4317", True),  # the Collector's rule: TLS unless insecure
        ("https://collector:4317", True, "collector:4317", True),  # https always means TLS
    ],
)
def test_otlp_endpoint_forms(endpoint, insecure, target, tls):
    config = OTLPGrpcConfig(endpoint=endpoint, tls={"insecure": insecure})
    assert config.target == target
    assert config.uses_tls is tls


@pytest.mark.parametrize(
    ("exporter_id", "exporter", "expected"),
    [
        ("otlp", {}, "exporters.otlp.endpoint: field required"),
        ("otlphttp", {}, "exporters.otlphttp: set endpoint"),
        ("otlphttp", {"endpoint": "vm:8428"}, "exporters.otlphttp.endpoint: expected an http:// or https://"),
        ("otlp", {"endpoint": "ftp://x:1"}, "exporters.otlp.endpoint: expected host:port"),
        (
            "otlp",
            {"endpoint": "x:1", "compression": "zstd"},
            "exporters.otlp.compression: compression 'zstd' is not supported: use gzip (the default), deflate or none",
        ),
        (
            "otlp",
            {"endpoint": "x:1", "tls": {"cert_file": "c.pem"}},
            "exporters.otlp.tls: cert_file and key_file go together",
        ),
        ("otlp", {"endpoint": "x:1", "tls": {"insecure_skip_verify": True}}, "insecure_skip_verify is not supported"),
        ("otlphttp", {"endpoint": "http://x", "tls": {"insecure_ca": True}}, "exporters.otlphttp.tls.insecure_ca"),
        ("otlphttp", {"endpoint": "http://x", "timeout": 5}, "exporters.otlphttp.timeout"),
        ("otlp", {"endpoint": "x:1", "sending_queue": {"queue_size": 0}}, "exporters.otlp.sending_queue.queue_size"),
    ],
)
def test_config_errors_name_their_path(tmp_path, exporter_id, exporter, expected):
    problems = _problems(tmp_path, exporter_id, exporter)
    assert isinstance(problems, list), "the config was accepted"
    assert any(expected in p for p in problems), problems


def test_header_values_come_from_env_and_stay_out_of_errors_and_reprs(tmp_path):
    secret = "tok-123-secret"
    loaded = _problems(
        tmp_path, "otlphttp", {"endpoint": "http://x", "headers": {"Authorization": "${env:TOKEN}"}}, {"TOKEN": secret}
    )
    config = loaded.component(Kind.EXPORTER, "otlphttp").config
    assert config.header_items() == [("Authorization", secret)]
    assert secret not in repr(config) and secret not in str(config.model_dump())

    broken = _problems(
        tmp_path,
        "otlphttp",
        {"endpoint": "http://x", "headers": {"X-Token": "${env:TOKEN}"}},
        {"TOKEN": f"{secret}\r\nEvil: 1"},
    )
    assert any("exporters.otlphttp.headers: header 'X-Token': the value contains a line break" in p for p in broken), (
        broken
    )
    assert not any(secret in p for p in broken)
