"""`collector msk-connect-plugin`: the Amazon MSK Connect custom plugin — the user's connector plugin directory
(any Debezium connector, or any other source connector) plus the in-JVM gateway jar with the connector wrapper
and the py4j jar, zipped under one top folder so all of them share the connector's plugin class loader.

The one build entry point: `scripts/build-msk-connect-plugin` runs this command with the project's virtualenv.
"""

from __future__ import annotations

import argparse
import tempfile
import zipfile
from pathlib import Path

from collector.component import Command, ComponentError
from receivers.jmx import jar


def build_plugin_zip(
    plugin_dir: Path, out: Path, compile_classpath: list[str], java: str = "java"
) -> dict[str, object]:
    """Zip `plugin_dir`'s files and the gateway jars as `<plugin_dir name>/...`; returns what was written."""
    if not plugin_dir.is_dir() or not any(plugin_dir.rglob("*.jar")):
        raise ComponentError(f"{plugin_dir} holds no jar: give the connector's unpacked plugin directory")
    folder = plugin_dir.name
    with tempfile.TemporaryDirectory(prefix="msk-plugin-") as scratch:
        built = jar.build(Path(scratch), [str(plugin_dir), *compile_classpath], java)
        ours = [Path(str(built["jar"])), Path(str(built["py4j_jar"]))]
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(f".{out.name}.partial")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            names = set()
            for path in sorted(p for p in plugin_dir.rglob("*") if p.is_file()):
                name = f"{folder}/{path.relative_to(plugin_dir).as_posix()}"
                archive.write(path, name)
                names.add(name)
            for path in ours:
                name = f"{folder}/{path.name}"
                if name not in names:  # a plugin that already ships this py4j jar keeps its own copy
                    archive.write(path, name)
        partial.replace(out)
    return {
        "zip": str(out),
        "connector_class": built["connector_class"],
        "mysql_connector_class": jar.MYSQL_CONNECTOR_CLASS,
        "folder": folder,
    }


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("plugin_dir", type=Path, help="the connector's plugin directory (unpacked)")
    parser.add_argument("out", type=Path, help="the zip to write (upload it to S3 as the custom plugin)")
    parser.add_argument(
        "--connect-api",
        action="append",
        default=[],
        metavar="PATH",
        help="compile-time jars the plugin does not ship: connect-api, kafka-clients and slf4j-api of your "
        "Kafka Connect (a Kafka libs/ directory will do); only compiled against, never zipped",
    )
    parser.add_argument("--java", default="java", help="java launcher whose JDK compiles (default: java on PATH)")


def _run(args: argparse.Namespace) -> int:
    return jar.report(
        "collector msk-connect-plugin",
        lambda: build_plugin_zip(args.plugin_dir, args.out, args.connect_api, args.java),
    )


command = Command(
    help="build the Amazon MSK Connect custom-plugin zip: a connector plugin plus the in-JVM gateway wrapper",
    add_arguments=_add_arguments,
    run=_run,
)
