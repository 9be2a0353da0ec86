"""The MSK Connect custom-plugin zip, built by scripts/build-msk-connect-plugin (which runs `collector
msk-connect-plugin`, the one entry point) from a Debezium connector plugin directory (assembled here from the
test bed's real Debezium jars), and its layout; docs/msk-connect.md's keystore commands, run as written, and
their result served by the in-JVM gateway (the dial-out recipe is used in test_injvm_dialout.py)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from collector.configtls import TLSClientConfig
from receivers.jmx.network import NetworkGateway
from tests.jmx import injvm, testbed
from tests.support import free_port, listening, wait_for

pytestmark = pytest.mark.integration
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build-msk-connect-plugin"
# What Debezium's PostgreSQL connector plugin archive holds (the worker provides connect-api, kafka-clients
# and slf4j-api): no MySQL class anywhere, so the wrapper cannot be tied to one connector.
PLUGIN_JARS = (
    "debezium-api-",
    "debezium-core-",
    "debezium-connector-postgres-",
    "debezium-storage-",
    "debezium-util-",
    "debezium-config-",
    "debezium-connector-common-",
    "postgresql-",
    "protobuf-java-",
)


def plugin_directory(directory: Path) -> Path:
    plugin = directory / "debezium-connector-postgres"
    plugin.mkdir()
    for jar in testbed.debezium_libs().glob("*.jar"):
        if jar.name.startswith(PLUGIN_JARS):
            shutil.copy(jar, plugin / jar.name)
    return plugin


def test_the_plugin_zip_holds_the_connector_and_the_gateway_in_one_folder(tmp_path: Path) -> None:
    plugin = plugin_directory(tmp_path)
    libs = testbed.debezium_libs()
    out = tmp_path / "dist" / "debezium-postgres-with-gateway.zip"
    provided = [str(next(libs.glob(f"{name}-*.jar"))) for name in ("connect-api", "kafka-clients", "slf4j-api")]
    result = subprocess.run(
        [str(SCRIPT), str(plugin), str(out), *(arg for jar in provided for arg in ("--connect-api", jar))],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    built = json.loads(result.stdout)
    assert built["connector_class"] == "jmxotel.connect.GatewayConnector"
    assert built["folder"] == "debezium-connector-postgres"

    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        inner = archive.read("debezium-connector-postgres/collector-gateway.jar")
    assert {n.split("/")[0] for n in names} == {"debezium-connector-postgres"}  # one folder: one class loader
    files = {n.split("/", 1)[1] for n in names}
    assert {p.name for p in plugin.iterdir()} | {"collector-gateway.jar"} <= files
    assert [n for n in files if n.startswith("py4j") and n.endswith(".jar")], files
    assert not [n for n in files if n.startswith(("connect-api", "kafka-clients", "slf4j"))]  # the worker's own
    gateway_jar = tmp_path / "collector-gateway.jar"
    gateway_jar.write_bytes(inner)
    with zipfile.ZipFile(gateway_jar) as archive:
        classes = set(archive.namelist())
    assert {"jmxotel/connect/GatewayConnector.class", "jmxotel/InProcessGateway.class"} <= classes


def test_a_directory_without_a_connector_or_connect_api_is_refused(tmp_path: Path) -> None:
    result = subprocess.run([str(SCRIPT), str(tmp_path), str(tmp_path / "out.zip")], capture_output=True, text=True)
    assert result.returncode == 1 and "holds no jar" in result.stderr
    assert not (tmp_path / "out.zip").exists()
    plugin = plugin_directory(tmp_path)  # connect-api not given: the compile classpath lacks it
    result = subprocess.run([str(SCRIPT), str(plugin), str(tmp_path / "out.zip")], capture_output=True, text=True)
    assert result.returncode == 1 and "no connect-api jar" in result.stderr
    assert not (tmp_path / "out.zip").exists()


def test_the_docs_keystore_recipe_is_served_by_the_listening_gateway(
    gateway_jar: injvm.GatewayJar, recipe: injvm.Recipe
) -> None:
    """docs/msk-connect.md's keytool/openssl commands (run by the `recipe` fixture exactly as written): the
    PKCS12 keystore they make serves TLS in the worker, verified by the collector against their CA."""
    port = free_port()
    settings = {
        "port": str(port),
        "strict": "true",  # token and TLS required, as beyond loopback
        "token_file": str(recipe.file("gateway.token")),
        "tls_keystore": str(recipe.file("gateway.p12")),
        "tls_keystore_password_file": str(recipe.file("keystore.password")),
    }
    with injvm.agent_target(gateway_jar, settings) as target:
        wait_for(lambda: listening(port), 30, "the gateway to listen")
        client = NetworkGateway("localhost", port, recipe.token, TLSClientConfig(ca_file=str(recipe.file("ca.pem"))))
        try:
            assert client.scrape("").startswith("UP")
        finally:
            client.stop()
        assert target.process.poll() is None
    assert base64.b64decode(recipe.file("gateway.p12.base64").read_text()) == recipe.file("gateway.p12").read_bytes()
