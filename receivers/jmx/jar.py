"""`collector gateway-jar`: the in-JVM gateway as one jar (a Java agent, and optionally the Kafka Connect
connector wrapper for any source connector), built from the installed package's own Java sources next to the
py4j jar it needs."""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from collector.component import Command, ComponentError
from receivers.jmx import gateway

JAR_NAME = "collector-gateway.jar"
AGENT_CLASS = "jmxotel.InProcessGateway"
CONNECTOR_CLASS = "jmxotel.connect.GatewayConnector"  # wraps `collector.gateway.wrapped.class`
MYSQL_CONNECTOR_CLASS = "jmxotel.connect.GatewayMySqlConnector"  # the first releases' name: wraps MySQL
CONNECTOR_SOURCES = sorted((gateway.JAVA_DIR / "connect").glob("*.java"))
CONNECT_API_MARKER = "org/apache/kafka/connect/source/SourceConnector.class"
# Kafka Connect 3.6+ finds plugins through this ServiceLoader manifest (plugin.discovery=service_load).
SERVICES = "META-INF/services/org.apache.kafka.connect.source.SourceConnector"


def _expand(classpath: list[str]) -> list[str]:
    """Directories become every jar inside them (a plugin directory as Kafka Connect reads it)."""
    jars: list[str] = []
    for entry in classpath:
        path = Path(entry)
        jars += sorted(glob.glob(str(path / "**" / "*.jar"), recursive=True)) if path.is_dir() else [str(path)]
    return jars


def _require_connect_api(jars: list[str]) -> None:
    """The wrapper compiles against connect-api alone (and what it needs: kafka-clients, slf4j-api)."""
    for jar in jars:
        try:
            with zipfile.ZipFile(jar) as archive:
                if CONNECT_API_MARKER in archive.namelist():
                    return
        except (OSError, zipfile.BadZipFile):
            continue
    raise ComponentError(
        "no connect-api jar in the connector classpath: give your Kafka Connect's libs/ directory, or its "
        "connect-api, kafka-clients and slf4j-api jars"
    )


def _manifest(py4j_name: str) -> str:
    try:
        built_by = f"jmx-otel-collector {version('jmx-otel-collector')}"
    except PackageNotFoundError:
        built_by = "jmx-otel-collector"
    lines = [
        "Manifest-Version: 1.0",
        f"Premain-Class: {AGENT_CLASS}",
        f"Agent-Class: {AGENT_CLASS}",
        f"Class-Path: {py4j_name}",
        f"Created-By: {built_by}",
    ]
    return "\r\n".join(lines) + "\r\n\r\n"


def build(out: Path, connector_classpath: list[str] | None = None, java: str = "java") -> dict[str, object]:
    """Write collector-gateway.jar and the py4j jar into `out`; returns what a deployment needs to know."""
    out.mkdir(parents=True, exist_ok=True)
    py4j = gateway.py4j_jar()
    trees = [gateway.compiled_gateway(java)]
    with tempfile.TemporaryDirectory(prefix="gateway-jar-") as scratch:
        connector_class = None
        if connector_classpath:
            jars = _expand(connector_classpath)
            _require_connect_api(jars)
            connector_tree = Path(scratch) / "connect"
            # Java 11 bytecode whatever the connect-api: MSK Connect's 2.7.1 workers run Java 11.
            gateway.compile_java(CONNECTOR_SOURCES, [str(trees[0]), str(py4j), *jars], connector_tree, java)
            trees.append(connector_tree)
            connector_class = CONNECTOR_CLASS
        jar = out / JAR_NAME
        partial = out / f".{JAR_NAME}.partial"
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("META-INF/MANIFEST.MF", _manifest(py4j.name))
            if connector_class:
                archive.writestr(SERVICES, f"{CONNECTOR_CLASS}\n{MYSQL_CONNECTOR_CLASS}\n")
            for tree in trees:
                for path in sorted(tree.rglob("*.class")):
                    archive.write(path, path.relative_to(tree).as_posix())
        os.replace(partial, jar)
    shutil.copyfile(py4j, out / py4j.name)
    return {"jar": str(jar), "py4j_jar": str(out / py4j.name), "connector_class": connector_class, "agent": True}


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, type=Path, help="directory for the jar and the py4j jar")
    parser.add_argument(
        "--connector-classpath",
        action="append",
        metavar="PATH",
        help="jar or directory (repeatable): connect-api, kafka-clients and slf4j-api (a Kafka libs/ directory "
        "will do); with it the jar also holds the connector wrapper " + CONNECTOR_CLASS,
    )
    parser.add_argument("--java", default="java", help="java launcher whose JDK compiles (default: java on PATH)")


def report(program: str, make: Callable[[], dict[str, object]]) -> int:
    """Run a build: its result as one JSON line on stdout (exit 0), or the reason on stderr (exit 1)."""
    try:
        result = make()
    except ComponentError as exc:
        print(f"{program}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


def _run(args: argparse.Namespace) -> int:
    return report("collector gateway-jar", lambda: build(args.out, args.connector_classpath, args.java))


command = Command(
    help="build the in-JVM gateway jar (Java agent, Kafka Connect wrapper) for workers no sidecar can reach",
    add_arguments=_add_arguments,
    run=_run,
)
