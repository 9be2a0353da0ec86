"""The Amazon MSK Connect custom plugin: the user's Debezium MySQL connector plugin directory plus the
in-JVM gateway jar (with the connector wrapper) and the py4j jar, zipped under one top folder so all of
them share the connector's plugin class loader.

Usage: python -m receivers.jmx.mskplugin DEBEZIUM_PLUGIN_DIR OUT.zip [--connect-api JAR]
(scripts/build-msk-connect-plugin runs it with the project's virtualenv).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import zipfile
from pathlib import Path

from collector.component import ComponentError
from receivers.jmx import jar


def build_plugin_zip(
    plugin_dir: Path, out: Path, compile_classpath: list[str], java: str = "java"
) -> dict[str, object]:
    """Zip `plugin_dir`'s files and the gateway jars as `<plugin_dir name>/...`; returns what was written."""
    if not any(plugin_dir.rglob("debezium-connector-mysql*.jar")):
        raise ComponentError(
            f"{plugin_dir} has no debezium-connector-mysql*.jar: give the connector's plugin directory"
        )
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
    return {"zip": str(out), "connector_class": built["connector_class"], "folder": folder}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="build-msk-connect-plugin", description=__doc__.splitlines()[0])
    parser.add_argument("plugin_dir", type=Path, help="the Debezium MySQL connector plugin directory (unpacked)")
    parser.add_argument("out", type=Path, help="the zip to write (upload it to S3 as the custom plugin)")
    parser.add_argument(
        "--connect-api",
        action="append",
        default=[],
        metavar="JAR",
        help="compile-time jars the plugin does not ship (connect-api and kafka-clients of your Kafka version)",
    )
    args = parser.parse_args(argv)
    return jar.report("build-msk-connect-plugin", lambda: build_plugin_zip(args.plugin_dir, args.out, args.connect_api))


if __name__ == "__main__":
    sys.exit(main())
