"""scripts/build-msk-connect-plugin: the MSK Connect custom-plugin zip, built from a Debezium MySQL connector
plugin directory (assembled here from the test bed's real Debezium jars), and its layout."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.jmx import testbed

pytestmark = pytest.mark.integration
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build-msk-connect-plugin"
# What Debezium's MySQL connector plugin archive holds (the worker provides connect-api and kafka-clients).
PLUGIN_JARS = (
    "debezium-api-",
    "debezium-core-",
    "debezium-connector-binlog-",
    "debezium-connector-mysql-",
    "debezium-ddl-parser-",
    "debezium-storage-",
    "debezium-util-",
    "debezium-config-",
    "debezium-connector-common-",
    "mysql-binlog-connector-java-",
    "mysql-connector-j-",
)


def plugin_directory(directory: Path) -> Path:
    plugin = directory / "debezium-connector-mysql"
    plugin.mkdir()
    for jar in testbed.debezium_libs().glob("*.jar"):
        if jar.name.startswith(PLUGIN_JARS):
            shutil.copy(jar, plugin / jar.name)
    return plugin


def test_the_plugin_zip_holds_the_connector_and_the_gateway_in_one_folder(tmp_path: Path) -> None:
    plugin = plugin_directory(tmp_path)
    libs = testbed.debezium_libs()
    out = tmp_path / "dist" / "debezium-mysql-with-gateway.zip"
    provided = [str(next(libs.glob(f"{name}-*.jar"))) for name in ("connect-api", "kafka-clients")]
    result = subprocess.run(
        [str(SCRIPT), str(plugin), str(out), *(arg for jar in provided for arg in ("--connect-api", jar))],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["connector_class"] == "jmxotel.connect.GatewayMySqlConnector"

    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        inner = archive.read("debezium-connector-mysql/collector-gateway.jar")
    assert {n.split("/")[0] for n in names} == {"debezium-connector-mysql"}  # one folder: one class loader
    files = {n.split("/", 1)[1] for n in names}
    assert {p.name for p in plugin.iterdir()} | {"collector-gateway.jar"} <= files
    assert [n for n in files if n.startswith("py4j") and n.endswith(".jar")], files
    assert not [n for n in files if n.startswith(("connect-api", "kafka-clients"))]  # the worker provides them
    gateway_jar = tmp_path / "collector-gateway.jar"
    gateway_jar.write_bytes(inner)
    with zipfile.ZipFile(gateway_jar) as archive:
        classes = set(archive.namelist())
    assert {"jmxotel/connect/GatewayMySqlConnector.class", "jmxotel/InProcessGateway.class"} <= classes


def test_a_directory_without_the_connector_is_refused(tmp_path: Path) -> None:
    result = subprocess.run([str(SCRIPT), str(tmp_path), str(tmp_path / "out.zip")], capture_output=True, text=True)
    assert result.returncode == 1 and "debezium-connector-mysql" in result.stderr
    assert not (tmp_path / "out.zip").exists()
