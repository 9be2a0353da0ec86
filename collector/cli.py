"""`collector run | validate | components | schema`, and subcommands plugins add (`collector.commands`).

Exit codes: 0 done, 1 failed while running (a component could not start), 2 the config is invalid.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import signal
import sys
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from importlib.metadata import PackageNotFoundError, entry_points, version

from collector import logs
from collector.component import Command, ComponentError, Kind
from collector.config import load
from collector.configerrors import ConfigError
from collector.configfile import DEFAULT_MAX_BYTES
from collector.costhints import cost_lines
from collector.httpserver import raise_nofile_limit
from collector.pipeline import Service
from collector.registry import Registry
from collector.schema import config_schema
from collector.serviceconfig import CollectorConfig

log = logging.getLogger("collector")

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2
DEFAULT_CONFIG = "otel-config.yaml"
# The cyclic GC's youngest generation is collected after this many new container objects (CPython's default:
# 700). A scrape of 50 JMX targets makes ~15,000 that live until its batch is exported (every point, metric
# and their lists), so the default collected ~19 times per scrape, each time promoting that whole batch a
# generation older only to see it freed by reference counting once exported: 0.17 ms of GC per target scrape,
# 0.09 ms at this threshold (measured in-process against 50 RMI targets). Garbage without cycles is freed by
# reference counting regardless; only cyclic garbage waits a little longer.
GC_YOUNG_THRESHOLD = 10_000

# SIGHUP reads the new config off the event loop, on a thread of its own: never the loop's default executor.
_RELOAD_READER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="config-reload")


def _version() -> str:
    try:
        return version("jmx-otel-collector")
    except PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="collector", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument(
        "--log-level",
        choices=["debug", "info", "warn", "error"],
        default=None,
        help="overrides service.telemetry.logs.level",
    )
    parser.add_argument(
        "--log-format", choices=["console", "json"], default=None, help="overrides service.telemetry.logs.encoding"
    )
    parser.set_defaults(plugin=None)  # the Command of a plugin's subcommand, set by that subcommand
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("run", "run the pipelines until SIGTERM/SIGINT"),
        ("validate", "check the config and print the resolved pipelines"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument(
            "--config",
            action="append",
            metavar="FILE",
            help=f"config file; repeat to merge several in order (default {DEFAULT_CONFIG})",
        )
        command.add_argument(
            "--max-config-bytes",
            type=int,
            default=DEFAULT_MAX_BYTES,
            metavar="N",
            help=f"refuse a config file larger than N bytes (default {DEFAULT_MAX_BYTES})",
        )
    commands.add_parser("components", help="list every installed component type")
    commands.add_parser("schema", help="print the JSON Schema of otel-config.yaml for editors")
    for name, plugin in _plugin_commands().items():
        command = commands.add_parser(name, help=plugin.help)
        plugin.add_arguments(command)
        command.set_defaults(plugin=plugin)
    return parser


def _plugin_commands() -> dict[str, Command]:
    """Subcommands published under the `collector.commands` entry-point group; a broken one is skipped."""
    found: dict[str, Command] = {}
    for ep in entry_points(group="collector.commands"):
        try:
            plugin = ep.load()
        except Exception as exc:  # a broken plugin must not take the whole CLI down
            log.warning("cannot load collector.commands entry point %r: %s", ep.name, exc)
            continue
        if isinstance(plugin, Command):
            found[ep.name] = plugin
        else:
            log.warning("collector.commands entry point %r is not a collector.component.Command", ep.name)
    return found


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.configure(args.log_level or "info", args.log_format or "console")
    if isinstance(args.plugin, Command):
        return args.plugin.run(args)
    registry = Registry.discover()
    if args.command in ("components", "schema"):
        registry.all()  # these list every component: each entry point is loaded, what cannot be is said below
    for load_error in registry.load_errors:
        log.warning(load_error)
    if args.command == "components":
        return _components(registry)
    if args.command == "schema":
        print(json.dumps(config_schema(registry), indent=2))
        return EXIT_OK
    try:
        config = load(args.config or [DEFAULT_CONFIG], registry, max_bytes=args.max_config_bytes)
    except ConfigError as exc:
        print(f"invalid configuration ({len(exc.problems)} problem{'s' * (len(exc.problems) != 1)}):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_CONFIG
    if args.command == "validate":
        _print_summary(config)
        return EXIT_OK
    telemetry_logs = config.service.telemetry.logs
    logs.configure(args.log_level or telemetry_logs.level, args.log_format or telemetry_logs.encoding)
    for warning in config.warnings:
        log.warning(warning)
    soft, hard = raise_nofile_limit()  # as the Go runtime does: listeners budget their connections from it
    log.debug("file descriptor limit", extra={"soft": soft, "hard": hard})
    return asyncio.run(run(config, args.config, args.max_config_bytes))


async def run(config: CollectorConfig, paths: list[str] | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> int:
    """Run until SIGTERM/SIGINT. SIGHUP re-reads `paths`: an invalid config keeps the running pipelines;
    a valid one replaces them after the old ones drained (a graceful in-process restart)."""
    service = Service(config)
    stop, reload = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, reload.set)
    try:
        await service.start()
    except ComponentError as exc:
        log.error("collector failed to start: %s", exc)
        return EXIT_FAILED
    _settle_heap()
    while True:
        await _first(stop.wait(), reload.wait())
        if stop.is_set():
            break
        reload.clear()
        service = await _reload(service, paths or [DEFAULT_CONFIG], max_bytes)
        _settle_heap()
    log.info("shutting down", extra={"grace_period_s": service.config.service.shutdown_grace_period})
    await service.shutdown()
    return EXIT_OK


def _settle_heap() -> None:
    """Take what start-up built (modules, config models, components) out of the cyclic GC's full
    collections, which then scan only what the pipelines make: measured on a collector reading 50 JMX
    targets, a full collection of everything took ~0.25 s, most of the collector's CPU between scrapes.
    Unfrozen first, so that a reload's replaced components can still be collected. Then the young
    generation's threshold: see GC_YOUNG_THRESHOLD."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


async def _first(*waits: Awaitable[object]) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        task.cancel()


async def _reload(current: Service, paths: list[str], max_bytes: int) -> Service:
    """Never kills the running collector: whatever goes wrong reading the new config, the old one stays."""
    try:
        reading = partial(load, paths, Registry.discover(), max_bytes=max_bytes)
        config = await asyncio.get_running_loop().run_in_executor(_RELOAD_READER, reading)
    except ConfigError as exc:
        log.error("reload refused, keeping the running configuration: %s", "; ".join(map(str, exc.problems)))
        return current
    except Exception as exc:  # a bug in a component's validator must not end a running collector either
        log.error("reload refused, keeping the running configuration: %s: %s", type(exc).__name__, exc)
        return current
    log.info("reloading configuration")
    await current.shutdown()
    replacement = Service(config, current.telemetry)
    try:
        await replacement.start()
        return replacement
    except Exception as exc:  # ComponentError, or anything a new component raised while starting
        log.error("new configuration failed to start, restoring the previous one: %s", exc)
    previous = Service(current.config, current.telemetry)
    await previous.start()
    return previous


def _print_summary(config: CollectorConfig) -> None:
    print("configuration is valid")
    for pipeline_id, pipeline in config.service.pipelines.items():
        print(f"pipeline {pipeline_id}:")
        for kind, ids in (
            (Kind.RECEIVER, pipeline.receivers),
            (Kind.PROCESSOR, pipeline.processors),
            (Kind.EXPORTER, pipeline.exporters),
        ):
            print(f"  {kind.section:<11} {', '.join(ids) or '-'}")
    if config.service.extensions:
        print(f"extensions: {', '.join(config.service.extensions)}")
    costs = cost_lines(config)
    if costs:
        print("cost (CloudWatch custom metrics):")
        for line in costs:
            print(f"  {line}")
    for warning in config.warnings:
        print(f"warning: {warning}")


def _components(registry: Registry) -> int:
    rows = [("TYPE", "KIND", "STABILITY", "DISTRIBUTION")]
    rows += [(e.factory.type, str(e.factory.kind), str(e.factory.stability), e.distribution) for e in registry.all()]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return EXIT_OK
