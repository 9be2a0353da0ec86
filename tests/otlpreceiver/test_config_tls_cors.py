"""Config errors name their path; TLS and CORS work against real clients."""

from __future__ import annotations

import datetime
import ipaddress
import subprocess
import sys

import grpc
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics.export import MetricExportResult

from collector.metrics import count_points
from collector.otlpjson import to_request
from collector.testing import every_kind
from tests.otlpreceiver.conftest import free_port, listening, otlp_pipeline
from tests.support import read_points, run_collector, wait_for


def validate(tmp_path, receiver: dict) -> subprocess.CompletedProcess:
    config = otlp_pipeline(tmp_path, receiver.get("protocols"))
    return subprocess.run(
        [sys.executable, "-m", "collector", "validate", "--config", str(config)], capture_output=True, text=True
    )


@pytest.mark.parametrize(
    ("receiver", "message"),
    [
        ({"protocols": {}}, "enable grpc, http or both"),
        ({"protocols": {"grpc": {"endpoint": "localhost"}}}, "receivers.otlp.protocols.grpc.endpoint"),
        ({"protocols": {"http": {"endpoint": "::1:4318"}}}, "IPv6 address in brackets"),
        ({"protocols": {"grpc": {"max_recv_msg_size_mib": 0}}}, "receivers.otlp.protocols.grpc.max_recv_msg_size_mib"),
        (
            {"protocols": {"http": {"cors_allowed_origins": ["*"]}}},
            "receivers.otlp.protocols.http.cors_allowed_origins",
        ),
        ({"protocols": {"http": {"tls": {"cert_file": "a.crt"}}}}, "receivers.otlp.protocols.http.tls.key_file"),
        # Upper bounds (issue 18): a request decodes to ~20x its size, so 64 MiB is the most either takes.
        (
            {"protocols": {"http": {"max_request_body_size": 64 * 1024 * 1024 + 1}}},
            "receivers.otlp.protocols.http.max_request_body_size",
        ),
        ({"protocols": {"grpc": {"max_recv_msg_size_mib": 65}}}, "receivers.otlp.protocols.grpc.max_recv_msg_size_mib"),
        ({"protocols": {"http": {"read_timeout": "0s"}}}, "receivers.otlp.protocols.http.read_timeout"),
    ],
)
def test_config_errors_name_the_path_and_exit_2(tmp_path, receiver, message):
    result = validate(tmp_path, receiver)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stdout + result.stderr


def test_empty_protocol_sections_enable_the_defaults(tmp_path):
    result = validate(tmp_path, {"protocols": {"grpc": None, "http": None}})
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for localhost / 127.0.0.1."""
    directory = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "server.crt", directory / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def test_tls_on_both_protocols(tmp_path, certificate):
    cert_file, key_file = certificate
    tls = {"cert_file": str(cert_file), "key_file": str(key_file)}
    grpc_port, http_port, out = free_port(), free_port(), tmp_path / "out.jsonl"
    protocols = {
        "grpc": {"endpoint": f"127.0.0.1:{grpc_port}", "tls": tls},
        "http": {"endpoint": f"127.0.0.1:{http_port}", "tls": tls},
    }
    config = otlp_pipeline(tmp_path, protocols, {"file": {"path": str(out)}})
    with run_collector(config) as process:
        wait_for(lambda: listening(grpc_port) and listening(http_port), 30, f"listening\n{process.logs()}")
        exporter = OTLPMetricExporter(
            endpoint=f"localhost:{grpc_port}",
            credentials=grpc.ssl_channel_credentials(cert_file.read_bytes()),
        )
        try:
            assert exporter.export(every_kind()) is MetricExportResult.SUCCESS
        finally:
            exporter.shutdown()
        body = to_request(every_kind()).SerializeToString()
        url = f"https://127.0.0.1:{http_port}/v1/metrics"
        ok = requests.post(url, data=body, headers={"Content-Type": "application/x-protobuf"}, verify=str(cert_file))
        assert ok.status_code == 200
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.post(url.replace("https", "http"), data=body, headers={"Content-Type": "application/x-protobuf"})
        wait_for(lambda: len(read_points(out)) == 2 * count_points(every_kind()), 20, "both TLS pushes written")


def test_tls_with_an_unreadable_key_fails_at_start_with_the_path(tmp_path):
    port = free_port()
    tls = {"cert_file": str(tmp_path / "missing.crt"), "key_file": str(tmp_path / "k")}
    config = otlp_pipeline(tmp_path, {"http": {"endpoint": f"127.0.0.1:{port}", "tls": tls}})
    with run_collector(config) as process:
        code = process.process.wait(30)
    assert code != 0
    assert "receivers.otlp" in process.logs() and "protocols.http" in process.logs()


def test_cors_preflight_and_response_headers(tmp_path):
    port = free_port()
    cors = {"allowed_origins": ["https://*.example.com"], "max_age": 600}
    config = otlp_pipeline(tmp_path, {"http": {"endpoint": f"127.0.0.1:{port}", "cors": cors}})
    url = f"http://127.0.0.1:{port}/v1/metrics"
    with run_collector(config) as process:
        wait_for(lambda: listening(port), 30, f"listening\n{process.logs()}")
        allowed = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"}
        preflight = requests.options(url, headers={**allowed, "Access-Control-Request-Headers": "content-type"})
        assert preflight.status_code == 204
        assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
        assert preflight.headers["Access-Control-Allow-Methods"] == "POST"
        assert preflight.headers["Access-Control-Max-Age"] == "600"
        denied = requests.options(url, headers={**allowed, "Origin": "https://evil.test"})
        assert "Access-Control-Allow-Origin" not in denied.headers
        body = to_request(every_kind()).SerializeToString()
        post = requests.post(
            url, data=body, headers={"Content-Type": "application/x-protobuf", "Origin": "https://app.example.com"}
        )
        assert post.status_code == 200 and post.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
