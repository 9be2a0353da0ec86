"""`collector demo`: the shipped pipeline against a demo Debezium MySQL connector, for a first run with
nothing to connect to (`scripts/run` without JMX_ENDPOINT), and a demo target for `docker compose`.

The target is a small JVM (`demo/DemoConnector.java`, compiled on first use like the gateway) that
registers the connector's three MBeans with Debezium's attribute names and types and values that move.
It is never started unless asked: `collector run` knows nothing of it.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from collector import cli
from collector.component import Command, ComponentError
from collector.confignet import split_endpoint
from receivers.jmx import gateway

log = logging.getLogger("collector.demo")

DEMO_DIR = Path(__file__).parent / "demo"
SOURCES = sorted(DEMO_DIR.glob("*.java"))
MAIN_CLASS = "jmxoteldemo.DemoConnector"
SERVER_NAME = "demo"
SNAPSHOT_SECONDS = 30.0
DEMO_COLLECTION_INTERVAL = "10s"  # the shipped 60s would keep a newcomer waiting a minute between lines
JVM_OPTIONS = ["-Xmx32m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData"]
START_TIMEOUT_S = 60.0
# The demo JVM reads no secret and needs no more of our environment than this.
CHILD_ENVIRONMENT = ("PATH", "JAVA_HOME", "LANG", "TZ")


def compiled_demo(java: str = "java") -> Path:
    """The demo's classes, compiled once per source version into the gateway's cache."""
    digest = hashlib.sha256(b"".join(s.read_bytes() for s in SOURCES)).hexdigest()[:16]
    target = gateway.cache_dir() / f"demo-{digest}"
    if not (target / (MAIN_CLASS.replace(".", "/") + ".class")).is_file():
        gateway.compile_java(SOURCES, [], target, java)
    return target


def classpath(java: str = "java") -> str:
    return str(compiled_demo(java))


@dataclass
class DemoTarget:
    """The running demo JVM; it exits when its stdin closes, so it never outlives this process."""

    process: subprocess.Popen[bytes]
    port: int

    def stop(self) -> None:
        stop_jvm(self.process)
        for pipe in (self.process.stdout, self.process.stderr):  # read once at start, and on a failed start
            if pipe is not None:
                pipe.close()


def stop_jvm(process: subprocess.Popen[bytes], grace: float = 10) -> None:
    """Stop a JVM that exits when its stdin closes (this demo target, the test beds' targets): close it, wait
    up to `grace` seconds, then kill. Also for one that died already: its stdin is ours to close either way."""
    assert process.stdin is not None
    process.stdin.close()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def start_target(
    listen: str = "127.0.0.1:0", advertise: str = "", snapshot_seconds: float = SNAPSHOT_SECONDS, java: str = "java"
) -> DemoTarget:
    """Start the demo JVM serving JMX on `listen` (port 0: any free one); RMI stubs name `advertise`."""
    host, port = split_endpoint(listen)
    host = host or "0.0.0.0"
    executable = shutil.which(java)
    if not executable:
        raise ComponentError(f"the demo needs java ({java!r} not found): install {gateway.JDK_PACKAGE}")
    command = [executable, *JVM_OPTIONS, "-cp", classpath(java), MAIN_CLASS]
    advertised = advertise or ("127.0.0.1" if host == "0.0.0.0" else host)
    command += [host, str(port), advertised, SERVER_NAME, str(snapshot_seconds)]
    env = {name: os.environ[name] for name in CHILD_ENVIRONMENT if name in os.environ}
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    first: list[bytes] = []
    reader = threading.Thread(target=lambda: first.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(START_TIMEOUT_S)
    line = first[0].decode(errors="replace").strip() if first else ""
    if not line.startswith("JMX "):
        process.kill()
        _, stderr = process.communicate(timeout=10)
        raise ComponentError(f"the demo target JVM did not start: {stderr.decode(errors='replace').strip() or line}")
    return DemoTarget(process, int(line.split()[1]))


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        action="append",
        metavar="FILE",
        help=f"config file(s) as for `collector run` (default {cli.DEFAULT_CONFIG}); "
        "JMX_ENDPOINT is set to the demo target",
    )
    parser.add_argument(
        "--target-only",
        action="store_true",
        help="serve the demo target's JMX and run no pipeline (the demo service of deploy/docker-compose.yaml)",
    )
    parser.add_argument(
        "--listen", default="127.0.0.1:0", help="JMX address of the demo target (default 127.0.0.1, a free port)"
    )
    parser.add_argument("--advertise", default="", help="host name clients reach the target by (RMI stubs carry it)")
    parser.add_argument(
        "--snapshot-seconds",
        type=float,
        default=SNAPSHOT_SECONDS,
        help=f"how long the demo's initial snapshot runs before streaming starts (default {SNAPSHOT_SECONDS:g})",
    )


def _global_options(args: argparse.Namespace) -> list[str]:
    options = []
    if args.log_level:
        options += ["--log-level", args.log_level]
    if args.log_format:
        options += ["--log-format", args.log_format]
    return options


def _run(args: argparse.Namespace) -> int:
    if args.target_only:
        log.info("demo target: a stand-in Debezium MySQL connector, not real data", extra={"listen": args.listen})
    else:
        log.info(
            "demo: no JMX_ENDPOINT set, so this runs the shipped pipeline against a demo Debezium MySQL connector "
            "(moving values, not real data); point it at a real Connect worker with JMX_ENDPOINT=host:port "
            "scripts/run (container: docker run -e JMX_ENDPOINT=host:port IMAGE)",
        )
    try:
        target = start_target(args.listen, args.advertise, args.snapshot_seconds)
    except ComponentError as exc:
        log.error("demo target failed to start: %s", exc)
        return cli.EXIT_FAILED
    try:
        log.info("demo target serving JMX", extra={"port": target.port, "server": SERVER_NAME})
        if args.target_only:
            stop = threading.Event()
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: stop.set())
            while not stop.wait(1.0):
                if target.process.poll() is not None:
                    log.error("demo target exited", extra={"code": target.process.returncode})
                    return cli.EXIT_FAILED
            return cli.EXIT_OK
        os.environ["JMX_ENDPOINT"] = f"127.0.0.1:{target.port}"
        os.environ.setdefault("COLLECTION_INTERVAL", DEMO_COLLECTION_INTERVAL)
        configs = [arg for path in args.config or [cli.DEFAULT_CONFIG] for arg in ("--config", path)]
        return cli.main([*_global_options(args), "run", *configs])
    finally:
        target.stop()


command = Command(
    help="run the pipeline against a demo Debezium MySQL connector JVM (moving values, not real data)",
    add_arguments=_add_arguments,
    run=_run,
)
