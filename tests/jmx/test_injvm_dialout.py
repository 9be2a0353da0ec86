"""Dial-out: the in-JVM gateway (here the Java agent on a plain JVM) connects to the `jmx` receiver's `listen`
side with the certificate and token docs/msk-connect.md's commands make; nothing listens in the worker JVM;
values equal a direct JMX read; two collectors, one restarted mid-way without costing the other anything;
the listener's refusals, bounds and config rules. The connector wrapper on the real Debezium bed:
test_injvm_connector.py."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import secrets
import socket
import ssl
import warnings
from pathlib import Path

import pytest
from pydantic import ValidationError

from receivers.jmx import JmxConfig
from receivers.jmx.listen import DialedGateway
from receivers.jmx.receiver import ListenReceiver
from tests.jmx import injvm, testbed
from tests.jmx.conftest import make_receiver
from tests.support import free_port

EDGE = "test.edge:type=Edge,name=first"
RULES = [
    {"bean": "test.edge:type=Edge,name=*", "mapping": {"Count": {"metric": "edge.count"}}},
    {
        "bean": "jmxotel:type=Gateway",
        "mapping": {"Holders": {"metric": "gateway.holders"}, "ConnectedCollectors": {"metric": "gateway.collectors"}},
    },
]


def dialing_receiver(port: int, recipe: injvm.Recipe, **listen: object) -> ListenReceiver:
    return make_receiver({**injvm.listen_config(port, recipe, **listen), "rules": RULES})


async def one_worker(receiver: ListenReceiver, timeout: float = 30) -> DialedGateway:
    """The worker connected to this receiver, once there is exactly one."""
    for _ in range(int(timeout * 10)):
        if len(receiver.listener.workers) == 1:
            return next(iter(receiver.listener.workers.values()))
        await asyncio.sleep(0.1)
    raise AssertionError(f"no worker connected within {timeout}s (have {len(receiver.listener.workers)})")


def jmx_count(target: testbed.JavaTarget) -> int:
    """Edge's Count read over plain JMX (each read of it adds one)."""
    values = testbed.jmx_dump(target.service_url, EDGE)
    return int(next(text for (_, attribute), text in values.items() if attribute == "Count"))


def gone(receiver: ListenReceiver) -> float:
    return receiver.settings.telemetry.value("collector_jmx_listen_workers_gone", receiver=str(receiver.id))


@pytest.mark.integration
def test_the_agent_dials_two_collectors_and_a_restart_of_one_costs_the_other_nothing(
    gateway_jar: injvm.GatewayJar, recipe: injvm.Recipe, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    first_port, second_port = free_port(), free_port()
    settings = {
        "connect": f"localhost:{first_port},localhost:{second_port}",  # the names the certificate carries
        "token_file": str(recipe.file("gateway.token")),
        "tls_ca": str(recipe.file("ca.pem")),
        "strict": "true",
    }

    async def scenario() -> None:
        first, second = dialing_receiver(first_port, recipe), dialing_receiver(second_port, recipe)
        await first.listener.start()
        await second.listener.start()
        target = await asyncio.to_thread(injvm.start_agent_target, gateway_jar, settings)
        try:
            worker = await one_worker(first)
            await one_worker(second)
            # Nothing of the gateway listens: the JVM's only listening port is the test bed's JMX oracle.
            assert injvm.listening_ports(target.process.pid) == {target.port}

            before = await asyncio.to_thread(jmx_count, target)
            data = await first.scrape()
            assert injvm.value(data, "edge.count") == before + 1  # the same counter, read once more
            assert await asyncio.to_thread(jmx_count, target) == before + 2
            assert injvm.value(data, "jmx.up") == 1
            assert injvm.value(data, "gateway.holders") == 1
            assert injvm.value(data, "gateway.collectors") == 2  # one connection per collector
            resource = dict(data.resource_metrics[0].resource.attributes)
            assert resource["process.pid"] == target.process.pid
            assert resource["server.address"] == "127.0.0.1" and resource["host.name"]
            again = await second.scrape()
            assert dict(again.resource_metrics[0].resource.attributes) == resource  # the same JVM, same identity

            # The first collector restarts; the second keeps scraping the same worker all along.
            keep_scraping = asyncio.create_task(scrape_until_cancelled(second))
            await first.listener.stop()
            await asyncio.sleep(3)  # long enough for the gateway to fail to reconnect more than once
            first = dialing_receiver(first_port, recipe)
            await first.listener.start()
            back = await one_worker(first)
            assert back.key == worker.key  # service.instance.id: the same JVM
            await asyncio.sleep(0.5)
            keep_scraping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keep_scraping
            assert len(second_ups) >= 10 and set(second_ups) == {1}, second_ups
            assert gone(second) == 0
            after = await first.scrape()
            assert injvm.value(after, "jmx.up") == 1 and injvm.value(after, "gateway.collectors") == 2
            assert injvm.value(after, "edge.count") > before + 2

            # The worker leaves: each collector drops its target, counted and logged once.
            await asyncio.to_thread(target.stop)
            for receiver in (first, second):
                for _ in range(100):
                    if not receiver.listener.workers:
                        break
                    await asyncio.sleep(0.1)
                assert gone(receiver) == 1
                assert (await receiver.scrape()).resource_metrics == []
        finally:
            await asyncio.to_thread(target.stop)
            await first.listener.stop()
            await second.listener.stop()

        log = "\n".join(target.log)
        # One line per state change in the worker's log, not one per failed attempt.
        assert log.count(f"connected to collector localhost:{first_port}") == 2, log
        assert log.count(f"connected to collector localhost:{second_port}") == 1, log
        assert log.count(f"collector localhost:{first_port} closed; reconnecting") == 1, log
        assert log.count(f"collector localhost:{first_port} unreachable") == 1, log
        assert recipe.token not in log and recipe.token not in caplog.text

    second_ups: list[float] = []

    async def scrape_until_cancelled(receiver: ListenReceiver) -> None:
        while True:
            data = await receiver.scrape()
            second_ups.append(injvm.value(data, "jmx.up"))
            await asyncio.sleep(0.2)

    asyncio.run(scenario())
    messages = [r.getMessage() for r in caplog.records]
    assert sum(m == "worker connected" for m in messages) == 3
    assert sum(m.startswith("worker gone") for m in messages) == 3  # first's old listener, new one, second


@pytest.mark.integration
@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"connect": "10.255.255.1:25334", "token_file": "GOOD"}, "refusing plaintext to 10.255.255.1:25334"),
        ({"connect": "127.0.0.1:25334"}, "connect needs a token"),
        ({"connect": "127.0.0.1:25334", "token_file": "SHORT"}, "shorter than 32 bytes"),
        ({"connect": "collector-without-port", "token_file": "GOOD"}, "is not host:port"),
        ({"connect": "127.0.0.1:25334", "token_file": "GOOD", "tls_ca": "EMPTY"}, "tls_ca holds no certificate"),
    ],
)
def test_the_agent_refuses_to_dial_out_unsafely(
    gateway_jar: injvm.GatewayJar, tmp_path: Path, settings: dict[str, str], message: str
) -> None:
    files = {"GOOD": secrets.token_urlsafe(32), "SHORT": "short", "EMPTY": ""}
    for key, value in settings.items():
        if value in files:
            path = tmp_path / value
            path.write_text(files[value])
            settings[key] = str(path)
    result = injvm.agent_refusal(gateway_jar, settings)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr


@pytest.mark.integration
def test_dialing_out_alone_and_listening_together_are_one_gateway(
    gateway_jar: injvm.GatewayJar, recipe: injvm.Recipe
) -> None:
    """`port` and `connect` together: the gateway listens and dials; the agent's comma list parses."""
    listen_port, dial_port = free_port(), free_port()
    settings = {
        "port": str(listen_port),
        "connect": f"127.0.0.1:{dial_port}",
        "token_file": str(recipe.file("gateway.token")),
    }

    async def scenario() -> None:
        receiver = make_receiver(
            {
                "listen": {"endpoint": f"127.0.0.1:{dial_port}", "auth_tokens": [recipe.token], "keepalive": "1s"},
                "rules": RULES,
            }
        )
        await receiver.listener.start()
        target = await asyncio.to_thread(injvm.start_agent_target, gateway_jar, settings)
        try:
            await one_worker(receiver)
            assert injvm.listening_ports(target.process.pid) == {target.port, listen_port}
            assert injvm.value(await receiver.scrape(), "gateway.collectors") == 1
        finally:
            await asyncio.to_thread(target.stop)
            await receiver.listener.stop()

    asyncio.run(scenario())


@pytest.mark.integration
def test_the_listener_refuses_counts_and_logs_once_per_change(
    recipe: injvm.Recipe, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    port = free_port()
    receiver = dialing_receiver(port, recipe, handshake_timeout="0.5s", max_connections=2)
    client_tls = ssl.create_default_context(cafile=str(recipe.file("ca.pem")))

    def refused(reason: str) -> float:
        return receiver.settings.telemetry.value(
            "collector_jmx_listen_refused_connections", receiver=str(receiver.id), reason=reason
        )

    def hello(token: str, first_line: bytes = b"jmxotel-dialout 1") -> bytes:
        """A worker's handshake spoken by hand; returns the listener's answer (b"" when it just closed)."""
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            client_tls.wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            tls.sendall(first_line + b"\n" + token.encode() + b"\nhost.name=probe\n")
            return tls.recv(100)

    async def scenario() -> None:
        await receiver.listener.start()
        try:
            wrong = secrets.token_urlsafe(32)
            assert await asyncio.to_thread(hello, wrong) == b"REFUSED\tunknown token\n"
            assert await asyncio.to_thread(hello, wrong) == b"REFUSED\tunknown token\n"
            assert refused("token") == 2
            assert await asyncio.to_thread(hello, recipe.token, b"GET / HTTP/1.1") == b""
            assert refused("protocol") == 1

            def plaintext() -> bytes:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                    raw.sendall(b"jmxotel-dialout 1\n" + recipe.token.encode() + b"\n\n")
                    return raw.recv(100)

            assert b"OK" not in await asyncio.to_thread(plaintext)
            assert refused("tls") == 1
            # Two silent connections fill the cap: a third is turned away at once; the two time out.
            silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
            await asyncio.sleep(0.2)
            third = socket.create_connection(("127.0.0.1", port), timeout=5)
            assert await asyncio.to_thread(third.recv, 10) == b""
            assert refused("capacity") == 1
            await asyncio.sleep(1)
            assert refused("handshake_timeout") == 2
            for each in [*silent, third]:
                each.close()
            assert receiver.listener.workers == {}
        finally:
            await receiver.listener.stop()

    asyncio.run(scenario())
    warnings = [r.getMessage() for r in caplog.records if r.getMessage().startswith("refusing worker connections")]
    # token, protocol, tls, capacity, handshake_timeout: each once though token and timeouts came twice
    assert warnings == [
        f"refusing worker connections: {reason}"
        for reason in ("token", "protocol", "tls", "capacity", "handshake_timeout")
    ], warnings
    assert recipe.token not in caplog.text


TOKEN = "t" * 32


@pytest.mark.parametrize(
    ("listen", "extra", "message"),
    [
        ({"endpoint": "0.0.0.0:25334", "auth_tokens": [TOKEN]}, {}, "beyond loopback: give tls"),
        ({"auth_tokens": ["short"]}, {}, "auth_tokens[0]: shorter than 32 bytes"),
        ({"auth_tokens": []}, {}, "auth_tokens"),
        ({"auth_tokens": [TOKEN], "keepalive": "2m"}, {}, "keepalive: at most 60s"),
        ({"auth_tokens": [TOKEN], "insecure": True, "tls": {"cert_file": "c", "key_file": "k"}}, {}, "not both"),
        (
            {"auth_tokens": [TOKEN]},
            {"endpoint": "127.0.0.1:1"},
            "exactly one of `endpoint` or `endpoints` (or `listen`)",
        ),
        ({"auth_tokens": [TOKEN]}, {"auth_token": TOKEN}, "listen.auth_tokens"),
    ],
)
def test_listen_config_errors_say_what_to_do(listen: dict, extra: dict, message: str) -> None:
    with pytest.raises(ValidationError) as error:
        JmxConfig.model_validate({"listen": listen, "target_system": "jvm", **extra})
    assert message in str(error.value)


def test_listen_beyond_loopback_is_allowed_with_tls_or_insecure() -> None:
    for security in ({"insecure": True}, {"tls": {"cert_file": "c.pem", "key_file": "k.pem"}}):
        config = JmxConfig.model_validate(
            {"listen": {"endpoint": "0.0.0.0:25334", "auth_tokens": [TOKEN], **security}, "target_system": "jvm"}
        )
        assert config.in_jvm and config.listen is not None


@pytest.mark.integration
def test_a_collector_the_worker_dials_can_read_mbeans_and_nothing_else(
    gateway_jar: injvm.GatewayJar, recipe: injvm.Recipe
) -> None:
    """The turned connection is the listening gateway's hardened one: a rogue listener that admits the worker
    (on loopback, where plaintext is allowed) can call `scrape` and nothing else."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(30)
        settings = {"connect": f"127.0.0.1:{server.getsockname()[1]}", "token_file": str(recipe.file("gateway.token"))}
        with injvm.agent_target(gateway_jar, settings):
            connection, _ = server.accept()
            with connection, connection.makefile("rwb") as stream:
                connection.settimeout(30)
                hello = [stream.readline() for _ in range(3)]
                assert hello[0] == b"jmxotel-dialout 1\n" and hello[1].strip().decode() == recipe.token
                stream.write(b"OK\n")

                def ask(command: bytes) -> bytes:
                    stream.write(command)
                    stream.flush()
                    return stream.readline()

                assert ask(b"c\nt\ngetClass\ne\n").startswith(b"!x")  # not even getClass()
                assert ask(b"r\nu\njava.lang.Runtime\nrj\ne\n").startswith(b"!x")  # no reflection
                assert ask(b"c\nt\nscrape\ns\ne\n") == b"!ysUP\\n\n"  # the one call: an empty scrape


@pytest.mark.integration
def test_shutdown_closes_a_tls_worker_that_never_answers_close_notify(recipe: injvm.Recipe) -> None:
    """A worker that keeps its socket open and never reads (so never answers the listener's TLS close_notify)
    must not outlive the receiver's shutdown: its connection is closed before `stop` returns, not left to the
    garbage collector once the event loop is gone."""
    port = free_port()
    receiver = dialing_receiver(port, recipe)
    client_tls = ssl.create_default_context(cafile=str(recipe.file("ca.pem")))
    connections: list[socket.socket] = []

    def connect() -> bytes:
        raw = socket.create_connection(("127.0.0.1", port), timeout=5)
        tls = client_tls.wrap_socket(raw, server_hostname="localhost")
        connections.append(tls)
        tls.sendall(b"jmxotel-dialout 1\n" + recipe.token.encode() + b"\nhost.name=mute\n")
        return tls.recv(3)

    async def scenario() -> None:
        await receiver.listener.start()
        try:
            assert await asyncio.to_thread(connect) == b"OK\n"
            await one_worker(receiver)
        finally:
            await receiver.listener.stop()

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            asyncio.run(scenario())
            gc.collect()
    finally:
        for each in connections:
            each.close()
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == [], leaks
