"""The Collector's AWS session keys (awsutil.AWSSessionSettings) on both AWS exporters, against real moto
servers: `role_arn` assumed through STS on a moto server that enforces IAM (the source credentials
alone may not write), `profile` + `shared_credentials_file`, `proxy_address` + `certificate_file_path` /
`no_verify_ssl` through moto's HTTPS-intercepting proxy, `request_timeout_seconds` against a server
that never answers, `local_mode` and the instance-metadata region, `tags` on a created log group."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import moto.moto_proxy
import pytest
from botocore.config import Config

from collector.component import ComponentError, PermanentError
from collector.testing import NopHost, create, gauge, metrics_data
from common.aws.client import AwsConfig, make_client
from exporters.awscloudwatch import factory as cloudwatch_factory
from exporters.awsemf import factory
from tests.awsexporters.conftest import DUMMY_KEY_ID, DUMMY_SECRET, REGION, MotoServer
from tests.awsexporters.emf_rules import check_document
from tests.support import free_port

pytestmark = pytest.mark.integration

ACCOUNT = "123456789012"  # moto's default account
ROLE = f"arn:aws:iam::{ACCOUNT}:role/emf-writer"
MOTO_CA = Path(moto.moto_proxy.__file__).with_name("ca.crt")


def policy(*actions: str, **extra: Any) -> str:
    statement = {"Effect": "Allow", "Action": list(actions), **extra}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


EXTERNAL_ID = "collector-1"
TRUST = policy(
    "sts:AssumeRole",
    Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:user/source"},
    Condition={"StringEquals": {"sts:ExternalId": EXTERNAL_ID}},
)
ANY = {"Resource": "*"}


class Iam:
    """Users and a role on an IAM-enforcing moto server: `source` may only assume the role, the role
    may write logs and metrics, `reader` may read them back."""

    SETUP_ACTIONS = 8  # moto answers this many requests unauthenticated, then enforces IAM

    def __init__(self, server: MotoServer) -> None:
        iam = server.client("iam")
        iam.create_user(UserName="source")
        self.source = iam.create_access_key(UserName="source")["AccessKey"]
        assume = policy("sts:AssumeRole", **ANY)
        write = policy("logs:*", "cloudwatch:*", "monitoring:*", **ANY)  # moto names CloudWatch `monitoring`
        iam.put_user_policy(UserName="source", PolicyName="assume", PolicyDocument=assume)
        iam.create_role(RoleName="emf-writer", AssumeRolePolicyDocument=TRUST)
        iam.put_role_policy(RoleName="emf-writer", PolicyName="write", PolicyDocument=write)
        iam.create_user(UserName="reader")
        reader = iam.create_access_key(UserName="reader")["AccessKey"]
        iam.put_user_policy(UserName="reader", PolicyName="read", PolicyDocument=write)
        self.reader = boto3.session.Session(
            aws_access_key_id=reader["AccessKeyId"], aws_secret_access_key=reader["SecretAccessKey"], region_name=REGION
        )


@pytest.fixture(scope="module")
def iam_moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MotoServer, Iam]]:
    server = MotoServer(
        free_port(),
        tmp_path_factory.mktemp("moto-iam") / "moto.log",
        env={"INITIAL_NO_AUTH_ACTION_COUNT": str(Iam.SETUP_ACTIONS)},
    )
    server.start()
    yield server, Iam(server)
    server.stop()


@pytest.fixture
def source_profile(tmp_path: Path, iam_moto: tuple[MotoServer, Iam], monkeypatch: pytest.MonkeyPatch) -> Path:
    """A credentials file whose `writer` profile holds the source user's keys; STS is the moto server."""
    server, iam = iam_moto
    path = tmp_path / "credentials"
    path.write_text(
        f"[writer]\naws_access_key_id = {iam.source['AccessKeyId']}\n"
        f"aws_secret_access_key = {iam.source['SecretAccessKey']}\n"
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", server.endpoint)  # the SDK's own setting for STS's URL
    return path


def session_keys(server: MotoServer, credentials: Path, **extra: Any) -> dict[str, Any]:
    return {
        "region": REGION,
        "endpoint": server.endpoint,
        "profile": "writer",
        "shared_credentials_file": [str(credentials)],
        **extra,
    }


async def test_role_arn_is_assumed_through_sts(iam_moto, source_profile: Path) -> None:
    server, iam = iam_moto
    group = f"/metrics/role-{uuid.uuid4().hex[:8]}"
    keys = session_keys(server, source_profile, log_group_name=group, log_stream_name="s")

    alone = create(factory, {"output_destination": "cloudwatch", **keys})
    await alone.start(NopHost())
    with pytest.raises(PermanentError, match=r"AccessDenied|not authorized"):
        await alone.export(alone.prepare(metrics_data(gauge("lag", 1, attributes={"server": "a"}))))

    wrong_id = create(
        factory, {"output_destination": "cloudwatch", "role_arn": ROLE, "external_id": "someone-else", **keys}
    )
    await wrong_id.start(NopHost())
    with pytest.raises(Exception, match="AssumeRole"):  # the role's trust policy wants our external_id
        await wrong_id.export(wrong_id.prepare(metrics_data(gauge("lag", 1, attributes={"server": "a"}))))

    exporter = create(
        factory, {"output_destination": "cloudwatch", "role_arn": ROLE, "external_id": EXTERNAL_ID, **keys}
    )
    await exporter.start(NopHost())
    await exporter.export(exporter.prepare(metrics_data(gauge("lag", 2, attributes={"server": "a"}))))
    reader = iam.reader.client("logs", endpoint_url=server.endpoint)
    [event] = reader.get_log_events(logGroupName=group, logStreamName="s")["events"]
    assert check_document(event["message"])["lag"] == 2

    role = {"role_arn": ROLE, "external_id": EXTERNAL_ID}
    metrics = create(cloudwatch_factory, {"namespace": "RoleTest", **role, **session_keys(server, source_profile)})
    await metrics.start(NopHost())
    await metrics.export(metrics.prepare(metrics_data(gauge("lag", 3, attributes={"server": "a"}))))
    listed = iam.reader.client("cloudwatch", endpoint_url=server.endpoint).list_metrics(Namespace="RoleTest")
    assert [m["MetricName"] for m in listed["Metrics"]] == ["lag"]


def through_proxy(proxy: MotoServer) -> Any:
    return boto3.client(
        "logs",
        region_name=REGION,
        aws_access_key_id=DUMMY_KEY_ID,
        aws_secret_access_key=DUMMY_SECRET,
        verify=str(MOTO_CA),
        config=Config(proxies={"https": proxy.endpoint}),
    )


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """moto_proxy: an HTTP proxy that intercepts HTTPS to AWS hosts with its own CA and answers as moto."""
    server = MotoServer(free_port(), tmp_path_factory.mktemp("moto-proxy") / "proxy.log", program="moto_proxy")
    server.start()
    yield server
    server.stop()


@pytest.mark.filterwarnings("ignore:Unverified HTTPS request")  # what no_verify_ssl asks for
@pytest.mark.parametrize("tls", [{"certificate_file_path": str(MOTO_CA)}, {"no_verify_ssl": True}])
async def test_proxy_address_with_the_proxys_certificate(proxy: MotoServer, tls: dict[str, Any]) -> None:
    group = f"/metrics/proxy-{uuid.uuid4().hex[:8]}"
    # moto_proxy makes a certificate per host on first use: slow on a busy machine, hence the timeout
    config = {"region": REGION, "proxy_address": proxy.endpoint, "timeout": "30s", **tls}
    config.update(log_group_name=group, log_stream_name="s")
    exporter = create(factory, {"output_destination": "cloudwatch", **config})
    await exporter.start(NopHost())
    await exporter.export(exporter.prepare(metrics_data(gauge("lag", 4))))
    [event] = through_proxy(proxy).get_log_events(logGroupName=group, logStreamName="s")["events"]
    assert check_document(event["message"])["lag"] == 4


async def test_the_proxys_certificate_is_refused_without_it(proxy: MotoServer) -> None:
    config = {"region": REGION, "proxy_address": proxy.endpoint, "max_retries": 0}
    exporter = create(factory, {"output_destination": "cloudwatch", **config})
    await exporter.start(NopHost())
    with pytest.raises(Exception, match=r"CERTIFICATE_VERIFY_FAILED|SSL"):
        await exporter.export(exporter.prepare(metrics_data(gauge("lag", 5))))


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never answers: only a client timeout ends a request."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


async def test_request_timeout_seconds_bounds_one_request(silent_server: int) -> None:
    config = {
        "region": REGION,
        "endpoint": f"http://127.0.0.1:{silent_server}",
        "request_timeout_seconds": 0.5,
        "timeout": "60s",
    }
    exporter = create(cloudwatch_factory, {"namespace": "T", **config})
    await exporter.start(NopHost())
    assert exporter.client.meta.config.read_timeout == 0.5
    with pytest.raises(Exception, match="Read timeout"):
        await exporter.export(exporter.prepare(metrics_data(gauge("lag", 6))))


class _Imds(BaseHTTPRequestHandler):
    """EC2 instance metadata, IMDSv2 as botocore asks it (a token, then the availability zone)."""

    requests: list[str] = []

    def do_PUT(self) -> None:
        self.requests.append(self.path)
        self._answer("token-1")

    def do_GET(self) -> None:
        self.requests.append(self.path)
        self._answer("eu-central-1a" if self.path.endswith("availability-zone/") else "")

    def _answer(self, body: str) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def imds(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Imds)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "false")
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", f"http://127.0.0.1:{server.server_port}/")
    _Imds.requests = []
    yield _Imds.requests
    server.shutdown()
    thread.join()
    server.server_close()


def test_region_from_instance_metadata_unless_local_mode(imds: list[str]) -> None:
    client = make_client("logs", AwsConfig(), 5.0)
    assert client.meta.region_name == "eu-central-1"
    assert imds  # asked
    imds.clear()
    with pytest.raises(ComponentError, match="no AWS region"):
        make_client("logs", AwsConfig(local_mode=True), 5.0)
    assert imds == []  # local_mode: never asked


async def test_tags_of_a_created_log_group(moto: MotoServer) -> None:
    group = f"/metrics/tags-{uuid.uuid4().hex[:8]}"
    config = {
        "output_destination": "cloudwatch",
        "region": REGION,
        "endpoint": moto.endpoint,
        "log_group_name": group,
        "tags": {"team": "data", "cost-center": "42"},
    }
    exporter = create(factory, config)
    await exporter.start(NopHost())
    await exporter.export(exporter.prepare(metrics_data(gauge("lag", 7))))
    assert moto.client("logs").list_tags_log_group(logGroupName=group)["tags"] == {"team": "data", "cost-center": "42"}
