"""The gateway JVMs: compiled from java/*.java on first use, launched, supervised, stopped, and shared by
every RMI target of the collector whose JVM-global settings (`javax.net.ssl.*`, `jvm_options`, `java`) are
the same: one JVM, a connection and a timeout per target inside it.

Everything here blocks (process start, py4j socket calls): the receiver calls it from its own threads.
"""

from __future__ import annotations

import collections
import hashlib
import logging
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import py4j
from py4j.java_gateway import GatewayParameters
from py4j.protocol import Py4JJavaError

from collector.component import ComponentError
from receivers.jmx.py4jclient import ClosingJavaGateway

JAVA_DIR = Path(__file__).parent / "java"
SOURCES = sorted(JAVA_DIR.glob("*.java"))  # package jmxotel: the gateway and its in-JVM mode
MAIN_CLASS = "jmxotel.JmxGateway"
JAVA_RELEASE = "11"  # bytecode every supported runtime loads (MSK Connect's included)
JDK_PACKAGE = "openjdk-17-jdk-headless"
START_TIMEOUT_S = 30.0
# Always on, before the user's `jvm_options` (later flags win): a lean JVM (measured: RSS ~47 MiB instead of
# ~98 MiB with the defaults, same scrape latency, faster start), and RMI calls to a target that stops
# answering give up instead of holding a scrape forever. `connectionTimeout` is not a connect timeout: it is
# how long RMI keeps an idle pooled connection to a target open; longer than the shipped 60 s interval, so a
# scrape reuses the last one's connections instead of opening new ones (at 5 s, every scrape of a 10 s or
# slower interval did: a TCP connect and an RMI handshake per MBean read).
BASE_JVM_OPTIONS = [
    "-Xms8m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:CICompilerCount=1",
    "-XX:ReservedCodeCacheSize=8m",
    "-XX:MaxMetaspaceSize=32m",
    "-Xss256k",
    "-XX:-UsePerfData",
    "-Dsun.rmi.transport.tcp.responseTimeout=10000",
    "-Dsun.rmi.transport.connectionTimeout=120000",
]


class GatewayError(ComponentError):
    """The gateway JVM cannot be built, started or reached."""


def cache_dir() -> Path:
    """Where compiled gateways live: $JMX_GATEWAY_CACHE, else ~/.cache/jmx-otel-collector."""
    configured = os.environ.get("JMX_GATEWAY_CACHE")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "jmx-otel-collector"


def py4j_jar() -> Path:
    """The jar the py4j wheel installs under `<prefix>/share/py4j/`."""
    name = f"py4j{py4j.__version__}.jar"
    for prefix in (sys.prefix, sys.base_prefix, "/usr/local", "/usr"):
        candidate = Path(prefix) / "share" / "py4j" / name
        if candidate.is_file():
            return candidate
    raise GatewayError(f"cannot find {name} (installed by the py4j wheel under <prefix>/share/py4j/)")


def _tool(name: str, java: str) -> str:
    """A JDK tool next to the configured `java` if there is one, else on PATH."""
    java_path = shutil.which(java)
    if java_path:
        sibling = Path(os.path.realpath(java_path)).parent / name
        if sibling.is_file():
            return str(sibling)
    found = shutil.which(name)
    if not found:
        raise GatewayError(
            f"the JMX receiver needs a JDK ({name} not found): install {JDK_PACKAGE} "
            f"(apt-get install {JDK_PACKAGE}) or put a JDK's bin directory on PATH"
        )
    return found


def compile_java(
    sources: list[Path], classpath: list[str], target: Path, java: str = "java", release: str = JAVA_RELEASE
) -> None:
    """javac `sources` into `target` (built aside, then renamed: concurrent builds of the same target are fine)."""
    javac = _tool("javac", java)
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f"{target.name}-build-", dir=target.parent))
    command = [javac, "-nowarn", "--release", release, "-d", str(building), "-cp", os.pathsep.join(classpath)]
    result = subprocess.run([*command, *map(str, sources)], capture_output=True, text=True)
    if result.returncode != 0:
        shutil.rmtree(building, ignore_errors=True)
        raise GatewayError(f"cannot compile {', '.join(s.name for s in sources)}:\n{result.stderr.strip()}")
    try:
        building.rename(target)
    except OSError:  # built concurrently by another process: theirs is identical
        shutil.rmtree(building, ignore_errors=True)


def compiled_gateway(java: str = "java") -> Path:
    """The gateway's classes, compiled once per source version (keyed by a hash) into the cache."""
    jar = py4j_jar()
    digest = hashlib.sha256(b"".join(s.read_bytes() for s in SOURCES) + jar.name.encode()).hexdigest()[:16]
    target = cache_dir() / f"gateway-{digest}"
    if not shutil.which(java):
        raise GatewayError(f"the JMX receiver needs java ({java!r} not found): install {JDK_PACKAGE}")
    if not (target / (MAIN_CLASS.replace(".", "/") + ".class")).is_file():
        compile_java(SOURCES, [str(jar)], target, java)
    return target


def classpath(java: str = "java") -> str:
    """The classpath that runs the gateway JVM."""
    return os.pathsep.join([str(compiled_gateway(java)), str(py4j_jar())])


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


# What the gateway JVM is given of the collector's environment: what finds and runs java, and the locale.
# Never the rest (AWS keys, header tokens, anything a user exported for another component).
ENVIRONMENT_KEYS = ("PATH", "JAVA_HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "HOME")
# py4j's read timeout on calls to our gateway JVM: only a frozen JVM reaches it, since the JVM answers every
# scrape by its own deadline (at most TARGET_DEADLINE_MAX_S).
CALL_TIMEOUT_S = 60.0
TARGET_DEADLINE_MAX_S = 50.0


def split_replies(text: str, count: int) -> list[str]:
    """The `count` replies of a batch: each is its length in code points, a newline, then its text."""
    replies = []
    start = 0
    for _ in range(count):
        newline = text.index("\n", start)
        end = newline + 1 + int(text[start:newline])
        replies.append(text[newline + 1 : end])
        start = end
    if start != len(text):
        raise GatewayError(f"the gateway answered {count} targets with {len(text) - start} characters to spare")
    return replies


def minimal_environment() -> dict[str, str]:
    """The gateway JVM's environment: ENVIRONMENT_KEYS that are set, nothing else."""
    return {key: os.environ[key] for key in ENVIRONMENT_KEYS if key in os.environ}


def describe(exc: BaseException) -> str:
    """An exception's first line without asking the gateway for more: str() of a Py4JJavaError sends a
    follow-up command that the hardened gateway refuses ("refused command p")."""
    text = exc.errmsg if isinstance(exc, Py4JJavaError) else str(exc)
    return (text.strip().splitlines() or [type(exc).__name__])[0]


@dataclass(frozen=True)
class JvmSpec:
    """What makes gateway JVMs differ: JVM-global settings. Targets with equal specs share one JVM."""

    system_properties: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # TLS stores (secrets)
    jvm_options: tuple[str, ...] = ("-Xmx64m",)
    java: str = "java"


@dataclass(frozen=True)
class RmiTarget:
    """One RMI target of a gateway JVM; its credentials go to the gateway over its authenticated loopback
    connection, never a command line."""

    url: str
    username: str = ""
    password: str = field(default="", repr=False)
    owner: str = ""  # the receiver: two receivers of one target keep apart (neither waits on the other)

    @property
    def id(self) -> str:
        """Its name in the gateway JVM: one line (a batch names its targets one per line), the same for the
        same receiver, URL and credentials."""
        identity = f"{self.owner}\0{self.url}\0{self.username}\0{self.password}"
        return hashlib.sha256(identity.encode()).hexdigest()[:32]


class GatewayProcess:
    """One running gateway JVM and the py4j client talking to it."""

    def __init__(self, spec: JvmSpec) -> None:
        self.spec = spec
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.opened: set[str] = set()  # target ids registered in this JVM
        self.queries: dict[str, str] = {}  # query -> its handle, registered in this JVM
        self._client: ClosingJavaGateway | None = None
        self._stderr: collections.deque[str] = collections.deque(maxlen=20)

    def start(self) -> None:
        spec = self.spec
        java = shutil.which(spec.java)
        if not java:
            raise GatewayError(f"the JMX receiver needs java ({spec.java!r} not found): install {JDK_PACKAGE}")
        token = secrets.token_urlsafe(32)
        command = [java, *BASE_JVM_OPTIONS, *spec.jvm_options, "-cp", classpath(spec.java), MAIN_CLASS]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=minimal_environment(),
        )
        threading.Thread(target=self._drain_stderr, name="jmx-gateway-stderr", daemon=True).start()
        setup = [token, *(f"{_escape(k)}={_escape(v)}" for k, v in spec.system_properties)]
        assert self.process.stdin is not None
        self.process.stdin.write(("\n".join(setup) + "\n\n").encode())
        self.process.stdin.flush()  # stdin stays open: the JVM exits when it closes (our death included)
        self.port = self._read_port()
        self._client = ClosingJavaGateway(
            gateway_parameters=GatewayParameters(
                address="127.0.0.1",
                port=self.port,
                auth_token=token,
                auto_convert=False,
                eager_load=False,
                read_timeout=CALL_TIMEOUT_S,
            )
        )

    def _read_port(self) -> int:
        assert self.process is not None and self.process.stdout is not None
        stdout = self.process.stdout
        result: list[bytes] = []
        reader = threading.Thread(target=lambda: result.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(START_TIMEOUT_S)
        line = result[0].decode(errors="replace").strip() if result else ""
        if not line.startswith("LISTENING "):
            self.stop()
            time.sleep(0.05)  # let the stderr drain catch the JVM's last words
            detail = "\n".join(self._stderr) or (line or "no output")
            raise GatewayError(f"the JMX gateway JVM did not start: {detail}")
        return int(line.split()[1])

    def _drain_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        with self.process.stderr:  # this thread is the pipe's only reader: it closes it at the JVM's exit
            for raw in self.process.stderr:
                self._stderr.append(raw.decode(errors="replace").rstrip())

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int:
        return self.process.pid if self.process else 0

    def open(self, target: RmiTarget) -> None:
        assert self._client is not None, "open before start"
        self._client.entry_point.open(target.id, target.url, target.username, target.password)
        self.opened.add(target.id)

    def scrape(self, target_ids: Sequence[str], query: str, timeout: float) -> list[str]:
        """Each target's reply, in order, from one call; the JVM answers every target within `timeout` (capped
        at TARGET_DEADLINE_MAX_S). The query is sent once per JVM and named by its handle after that (it is
        kilobytes; the scrape's call is not)."""
        assert self._client is not None, "scrape before start"
        handle = self.queries.get(query)
        if handle is None:  # two threads may both register it: the same handle, the same text
            handle = hashlib.sha256(query.encode()).hexdigest()[:16]
            self._client.entry_point.query(handle, query)
            self.queries[query] = handle
        millis = int(min(timeout, TARGET_DEADLINE_MAX_S) * 1000)
        return split_replies(self._client.entry_point.scrape("\n".join(target_ids), handle, millis), len(target_ids))

    def close(self, target_id: str) -> None:
        if self._client is not None and target_id in self.opened:
            self.opened.discard(target_id)
            self._client.entry_point.close(target_id)

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self.process is None:
            return
        if self.process.stdin:
            self.process.stdin.close()  # the JVM's signal to exit
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        if self.process.stdout:
            self.process.stdout.close()  # the port line was its only use; stderr is closed by its drain


class GatewaySupervisor:
    """Keeps one gateway JVM running: starts it on first use, restarts it with backoff when it dies, logs
    each change once. Thread-safe; every method blocks."""

    def __init__(
        self,
        spec: JvmSpec,
        logger: logging.LoggerAdapter,
        max_backoff: float = 30.0,
        on_restart: Callable[[], None] = lambda: None,
    ) -> None:
        self.spec = spec
        self.logger = logger
        self.on_restart = on_restart
        self.max_backoff = max_backoff
        self.current: GatewayProcess | None = None
        self._lock = threading.Lock()
        self._backoff = 0.0
        self._next_start = 0.0
        self._stopped = False
        self._targets: dict[str, RmiTarget] = {}  # opened in every JVM this supervisor starts

    def open(self, target: RmiTarget) -> GatewayProcess:
        """Registers `target` (its connection starts at once) in the running JVM, and in every JVM started
        after a restart."""
        with self._lock:
            self._targets[target.id] = target
        process = self.ensure()
        if target.id not in process.opened:
            process.open(target)
        return process

    def scrape(self, targets: Sequence[RmiTarget], query: str, timeout: float) -> list[str]:
        """Each target's reply, in order, from one call; a target the gateway JVM does not know yet (new,
        restarted) is registered first."""
        process = self.ensure()
        try:
            for target in targets:
                if target.id not in process.opened:
                    process = self.open(target)
            replies = process.scrape([target.id for target in targets], query, timeout)
        except Exception as exc:
            if process.alive:
                raise GatewayError(f"gateway call failed: {describe(exc)}") from exc
            raise GatewayError("the gateway JVM exited during a scrape") from exc
        self._backoff = 0.0
        return replies

    def close(self, target: RmiTarget) -> None:
        """Forget `target` in the running JVM (its connection and threads); a dead JVM forgot it already."""
        with self._lock:
            self._targets.pop(target.id, None)
            process = self.current
        if process is not None and process.alive:
            try:
                process.close(target.id)
            except Exception as exc:  # the JVM died meanwhile: nothing left to close
                self.logger.debug("closing %s in the gateway failed: %s", target.url, describe(exc))

    def ensure(self) -> GatewayProcess:
        with self._lock:
            if self._stopped:
                raise GatewayError("the receiver is shutting down")
            if self.current is not None and self.current.alive:
                return self.current
            if self.current is not None:
                code = self.current.process.poll() if self.current.process else None
                self.logger.warning("gateway JVM exited (code %s); restarting", code)
                self.on_restart()
                self.current.stop()
                self.current = None
            wait = self._next_start - time.monotonic()
            if wait > 0:
                raise GatewayError(f"gateway JVM restart in {wait:.1f}s")
            process = GatewayProcess(self.spec)
            try:
                process.start()
            except Exception:
                self._backoff = min(self.max_backoff, max(1.0, self._backoff * 2))
                self._next_start = time.monotonic() + self._backoff
                raise
            self.logger.info("gateway JVM started", extra={"pid": process.pid, "port": process.port})
            for target in self._targets.values():  # after a restart: every target reconnects at once
                try:
                    process.open(target)
                except Exception as exc:  # left to its next scrape
                    self.logger.debug("reopening %s failed: %s", target.url, describe(exc))
            self.current = process
            threading.Thread(target=self._watch, args=(process,), name="jmx-gateway-watch", daemon=True).start()
            return process

    def _watch(self, process: GatewayProcess) -> None:
        """Restart a JVM that died as soon as it does (its targets reconnecting before the next scrape needs
        them); a start that fails is left to the next scrape, with its backoff."""
        assert process.process is not None
        process.process.wait()
        if not self._stopped and self.current is process:
            try:
                self.ensure()
            except Exception as exc:
                self.logger.debug("gateway restart failed, the next scrape retries: %s", describe(exc))

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            if self.current is not None:
                self.current.stop()
                self.current = None


class GatewayPool:
    """The collector's gateway JVMs, one per JvmSpec, shared by every jmx receiver of the process: a JVM
    starts with its first target and stops with its last. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._gateways: dict[JvmSpec, tuple[GatewaySupervisor, int]] = {}

    def acquire(
        self, spec: JvmSpec, logger: logging.LoggerAdapter, on_restart: Callable[[], None] = lambda: None
    ) -> GatewaySupervisor:
        """The supervisor of `spec`'s JVM (the first acquirer's logger and restart counter are its)."""
        with self._lock:
            supervisor, users = self._gateways.get(spec) or (GatewaySupervisor(spec, logger, on_restart=on_restart), 0)
            self._gateways[spec] = (supervisor, users + 1)
            return supervisor

    def release(self, spec: JvmSpec) -> None:
        """One user less; the last one stops the JVM."""
        with self._lock:
            supervisor, users = self._gateways[spec]
            if users > 1:
                self._gateways[spec] = (supervisor, users - 1)
                return
            del self._gateways[spec]
        supervisor.stop()

    def running(self) -> list[GatewaySupervisor]:
        with self._lock:
            return [supervisor for supervisor, _ in self._gateways.values()]


POOL = GatewayPool()


class SharedGatewayTarget:
    """One RMI target read through the pool's gateway JVM for its spec; `scrape`/`stop` like NetworkGateway.
    Blocking: called from the receiver's own threads."""

    def __init__(
        self,
        spec: JvmSpec,
        target: RmiTarget,
        timeout: float,
        logger: logging.LoggerAdapter,
        on_restart: Callable[[], None] = lambda: None,
        pool: GatewayPool = POOL,
    ) -> None:
        self.spec, self.target, self.timeout, self.pool = spec, target, timeout, pool
        self.supervisor = pool.acquire(spec, logger, on_restart)
        self._stopped = False

    def scrape(self, query: str) -> str:
        return self.supervisor.scrape([self.target], query, self.timeout)[0]

    @staticmethod
    def scrape_together(readers: Sequence[SharedGatewayTarget], query: str) -> list[str]:
        """Each reader's reply, in order, from one call. The readers are one receiver's RMI targets: one
        JvmSpec, so one gateway JVM and one timeout."""
        supervisor, timeout = readers[0].supervisor, readers[0].timeout
        assert all(r.supervisor is supervisor and r.timeout == timeout for r in readers), "one receiver's targets"
        return supervisor.scrape([reader.target for reader in readers], query, timeout)

    def prepare(self, wait: float) -> None:
        """Start the gateway JVM and the target's connection now rather than in the first scrape's time,
        waiting up to `wait` seconds for it (a failure is the scrape's to report, with its backoff)."""
        try:
            self.supervisor.open(self.target).scrape([self.target.id], "", wait)  # an empty query: connect only
        except Exception as exc:
            self.supervisor.logger.debug("gateway not ready at start: %s", describe(exc))

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.supervisor.close(self.target)
        self.pool.release(self.spec)
