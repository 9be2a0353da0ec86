package jmxoteldemo;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.rmi.registry.LocateRegistry;
import java.rmi.server.RMIServerSocketFactory;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.remote.JMXConnectorServer;
import javax.management.remote.JMXConnectorServerFactory;
import javax.management.remote.JMXServiceURL;
import javax.management.remote.rmi.RMIConnectorServer;

/**
 * A stand-in for a Debezium MySQL connector, for `collector demo`: the connector's three MBeans
 * (debezium.mysql:type=connector-metrics,context=snapshot|streaming|schema-history,server=NAME) with the
 * attribute names and types of Debezium 3.x's MXBean interfaces, and values that move with the clock
 * (started by the first read):
 * a snapshot of five tables that completes after SNAPSHOT_SECONDS (30 by default), then streaming with events counting up and a lag
 * that rises and falls over a 90 s wave. Nothing is read from a database.
 *
 * <p>Usage: DemoConnector BIND_ADDRESS PORT ADVERTISED_HOST SERVER_NAME SNAPSHOT_SECONDS. Serves JMX (registry and connector
 * on one port) on BIND_ADDRESS, prints "JMX port", and exits when its stdin closes, so it never outlives
 * the collector that started it.
 */
public final class DemoConnector {
  /** The demo's clock starts at the first read, so a collector that starts slowly still sees the snapshot. */
  static volatile long started;
  static final String[] TABLES = {"inventory.customers", "inventory.orders", "inventory.products",
      "inventory.addresses", "inventory.geom"};
  static final long[] TABLE_ROWS = {4_000, 12_000, 900, 5_500, 300};
  static double snapshotSeconds = 30.0;
  static final double LAG_PERIOD_SECONDS = 90.0;
  static final int QUEUE_CAPACITY = 8192;

  private DemoConnector() {}

  static double seconds() {
    if (started == 0) {
      started = System.nanoTime();
    }
    return (System.nanoTime() - started) / 1e9;
  }

  static double snapshotProgress() {
    return Math.min(1.0, seconds() / snapshotSeconds);
  }

  static boolean streaming() {
    return seconds() >= snapshotSeconds;
  }

  /** Seconds since streaming began (0 during the snapshot). */
  static double streamingSeconds() {
    return Math.max(0.0, seconds() - snapshotSeconds);
  }

  /** Events streamed so far: ~40 a second with a slow swell, never decreasing. */
  static long streamedEvents() {
    double t = streamingSeconds();
    return (long) (40 * t + 140 * (1 - Math.cos(t / 7)));
  }

  /** Lag in ms: a 90 s wave between ~200 ms and ~6 s, so a dashboard shows it rise and fall. */
  static long lagMillis() {
    double phase = 2 * Math.PI * streamingSeconds() / LAG_PERIOD_SECONDS;
    return (long) (200 + 5800 * (1 - Math.cos(phase)) / 2);
  }

  static long snapshotRows() {
    long rows = 0;
    for (long r : TABLE_ROWS) {
      rows += r;
    }
    return (long) (rows * snapshotProgress());
  }

  // ---------------------------------------------------------------------------------------------
  // Debezium's MXBean interfaces (io.debezium.pipeline.metrics.*, io.debezium.connector.binlog.metrics.*,
  // io.debezium.relational.history.SchemaHistoryMXBean): same attribute names and types.

  /** CommonEventMetricsMXBean + QueueMetricsMXBean + SchemaMetricsMXBean. */
  public interface CommonMetrics {
    String getLastEvent();
    long getMilliSecondsSinceLastEvent();
    long getTotalNumberOfEventsSeen();
    long getTotalNumberOfCreateEventsSeen();
    long getTotalNumberOfUpdateEventsSeen();
    long getTotalNumberOfDeleteEventsSeen();
    long getNumberOfEventsFiltered();
    long getNumberOfErroneousEvents();
    int getQueueTotalCapacity();
    int getQueueRemainingCapacity();
    long getMaxQueueSizeInBytes();
    long getCurrentQueueSizeInBytes();
    String[] getCapturedTables();
  }

  /** BinlogSnapshotChangeEventSourceMetricsMXBean. */
  public interface SnapshotMetricsMXBean extends CommonMetrics {
    int getTotalTableCount();
    int getRemainingTableCount();
    boolean getSnapshotRunning();
    boolean getSnapshotPaused();
    boolean getSnapshotCompleted();
    boolean getSnapshotAborted();
    boolean getSnapshotSkipped();
    long getSnapshotDurationInSeconds();
    long getSnapshotPausedDurationInSeconds();
    Map<String, Long> getRowsScanned();
    String getChunkId();
    String getChunkFrom();
    String getChunkTo();
    String getTableFrom();
    String getTableTo();
    Map<String, Long> getTableChunkCounts();
    Map<String, Long> getTableChunksCompletedCounts();
    boolean getHoldingGlobalLock();
  }

  /** BinlogStreamingChangeEventSourceMetricsMXBean (with StreamingStatistics and ActivityMonitoring). */
  public interface StreamingMetricsMXBean extends CommonMetrics {
    boolean isConnected();
    Map<String, String> getSourceEventPosition();
    long getMilliSecondsBehindSource();
    long getNumberOfCommittedTransactions();
    String getLastTransactionId();
    long getNumberOfUnchangedEventsSkipped();
    Long getMilliSecondsBehindSourceMinValue();
    Long getMilliSecondsBehindSourceMaxValue();
    Double getMilliSecondsBehindSourceAverageValue();
    Double getMilliSecondsBehindSourceP50();
    Double getMilliSecondsBehindSourceP95();
    Double getMilliSecondsBehindSourceP99();
    Map<String, Long> getNumberOfCreateEventsSeen();
    Map<String, Long> getNumberOfDeleteEventsSeen();
    Map<String, Long> getNumberOfUpdateEventsSeen();
    Map<String, Long> getNumberOfTruncateEventsSeen();
    String getBinlogFilename();
    long getBinlogPosition();
    String getGtidSet();
    long getNumberOfSkippedEvents();
    long getNumberOfDisconnects();
    long getNumberOfRolledBackTransactions();
    long getNumberOfNotWellFormedTransactions();
    long getNumberOfLargeTransactions();
    boolean getIsGtidModeEnabled();
  }

  /** SchemaHistoryMXBean. */
  public interface SchemaHistoryMXBean {
    String getStatus();
    long getRecoveryStartTime();
    long getChangesRecovered();
    long getChangesApplied();
    long getMilliSecondsSinceLastAppliedChange();
    long getMilliSecondsSinceLastRecoveredChange();
    String getLastAppliedChange();
    String getLastRecoveredChange();
  }

  /** What both phases report alike; `events()` is the phase's own count. */
  abstract static class Common implements CommonMetrics {
    abstract long events();

    public String getLastEvent() {
      return events() == 0 ? null : "demo event " + events();
    }

    public long getMilliSecondsSinceLastEvent() {
      return events() == 0 ? -1 : 25;
    }

    public long getTotalNumberOfEventsSeen() {
      return events();
    }

    public long getTotalNumberOfCreateEventsSeen() {
      return events() * 6 / 10;
    }

    public long getTotalNumberOfUpdateEventsSeen() {
      return events() * 3 / 10;
    }

    public long getTotalNumberOfDeleteEventsSeen() {
      return events() - getTotalNumberOfCreateEventsSeen() - getTotalNumberOfUpdateEventsSeen();
    }

    public long getNumberOfEventsFiltered() {
      return events() / 50;
    }

    public long getNumberOfErroneousEvents() {
      return 0;
    }

    public int getQueueTotalCapacity() {
      return QUEUE_CAPACITY;
    }

    /** Back-pressure follows the lag: the queue fills as the connector falls behind. */
    public int getQueueRemainingCapacity() {
      return QUEUE_CAPACITY - (int) Math.min(QUEUE_CAPACITY, lagMillis() / 2);
    }

    public long getMaxQueueSizeInBytes() {
      return 0;
    }

    public long getCurrentQueueSizeInBytes() {
      return 0;
    }

    public String[] getCapturedTables() {
      return TABLES.clone();
    }
  }

  static final class Snapshot extends Common implements SnapshotMetricsMXBean {
    long events() {
      return snapshotRows();
    }

    public int getTotalTableCount() {
      return TABLES.length;
    }

    public int getRemainingTableCount() {
      return (int) Math.ceil(TABLES.length * (1 - snapshotProgress()));
    }

    public boolean getSnapshotRunning() {
      return !streaming();
    }

    public boolean getSnapshotPaused() {
      return false;
    }

    public boolean getSnapshotCompleted() {
      return streaming();
    }

    public boolean getSnapshotAborted() {
      return false;
    }

    public boolean getSnapshotSkipped() {
      return false;
    }

    public long getSnapshotDurationInSeconds() {
      return (long) Math.min(seconds(), snapshotSeconds);
    }

    public long getSnapshotPausedDurationInSeconds() {
      return 0;
    }

    /** Tables are read one after the other, each in its fifth of the snapshot. */
    public Map<String, Long> getRowsScanned() {
      Map<String, Long> rows = new LinkedHashMap<>();
      double progress = snapshotProgress() * TABLES.length;
      for (int i = 0; i < TABLES.length; i++) {
        double done = Math.max(0.0, Math.min(1.0, progress - i));
        if (done > 0) {
          rows.put(TABLES[i], (long) (TABLE_ROWS[i] * done));
        }
      }
      return rows;
    }

    public String getChunkId() {
      return null;
    }

    public String getChunkFrom() {
      return null;
    }

    public String getChunkTo() {
      return null;
    }

    public String getTableFrom() {
      return null;
    }

    public String getTableTo() {
      return null;
    }

    public Map<String, Long> getTableChunkCounts() {
      return new LinkedHashMap<>();
    }

    public Map<String, Long> getTableChunksCompletedCounts() {
      return new LinkedHashMap<>();
    }

    public boolean getHoldingGlobalLock() {
      return false;
    }
  }

  static final class Streaming extends Common implements StreamingMetricsMXBean {
    long events() {
      return streamedEvents();
    }

    public boolean isConnected() {
      return streaming();
    }

    public Map<String, String> getSourceEventPosition() {
      Map<String, String> position = new LinkedHashMap<>();
      position.put("file", getBinlogFilename());
      position.put("pos", Long.toString(getBinlogPosition()));
      return position;
    }

    public long getMilliSecondsBehindSource() {
      return streaming() ? lagMillis() : -1;
    }

    public long getNumberOfCommittedTransactions() {
      return events() / 3;
    }

    public String getLastTransactionId() {
      return null;
    }

    public long getNumberOfUnchangedEventsSkipped() {
      return 0;
    }

    public Long getMilliSecondsBehindSourceMinValue() {
      return streaming() ? 200L : null;
    }

    public Long getMilliSecondsBehindSourceMaxValue() {
      return streaming() ? Math.max(lagMillis(), streamingSeconds() > LAG_PERIOD_SECONDS / 2 ? 6000L : 0L) : null;
    }

    public Double getMilliSecondsBehindSourceAverageValue() {
      return streaming() ? 3100.0 : null;
    }

    public Double getMilliSecondsBehindSourceP50() {
      return streaming() ? 3100.0 : null;
    }

    public Double getMilliSecondsBehindSourceP95() {
      return streaming() ? 5900.0 : null;
    }

    public Double getMilliSecondsBehindSourceP99() {
      return streaming() ? 6000.0 : null;
    }

    /** Per-table counts of one operation: the operation's total spread over the tables. */
    private Map<String, Long> perTable(long total) {
      Map<String, Long> counts = new LinkedHashMap<>();
      for (int i = 0; i < TABLES.length; i++) {
        counts.put(TABLES[i], total * (i + 1) / 15);
      }
      return counts;
    }

    public Map<String, Long> getNumberOfCreateEventsSeen() {
      return perTable(getTotalNumberOfCreateEventsSeen());
    }

    public Map<String, Long> getNumberOfDeleteEventsSeen() {
      return perTable(getTotalNumberOfDeleteEventsSeen());
    }

    public Map<String, Long> getNumberOfUpdateEventsSeen() {
      return perTable(getTotalNumberOfUpdateEventsSeen());
    }

    public Map<String, Long> getNumberOfTruncateEventsSeen() {
      return perTable(0);
    }

    public String getBinlogFilename() {
      return "mysql-bin.000003";
    }

    public long getBinlogPosition() {
      return 154 + events() * 310;
    }

    public String getGtidSet() {
      return null;
    }

    public long getNumberOfSkippedEvents() {
      return 0;
    }

    public long getNumberOfDisconnects() {
      return 0;
    }

    public long getNumberOfRolledBackTransactions() {
      return 0;
    }

    public long getNumberOfNotWellFormedTransactions() {
      return 0;
    }

    public long getNumberOfLargeTransactions() {
      return 0;
    }

    public boolean getIsGtidModeEnabled() {
      return false;
    }
  }

  /** The schema history recovers during the first five seconds, then applies a DDL change now and then. */
  static final class SchemaHistory implements SchemaHistoryMXBean {
    static final double RECOVERY_SECONDS = 5.0;
    final long startMillis = System.currentTimeMillis();

    public String getStatus() {
      return seconds() < RECOVERY_SECONDS ? "RECOVERING" : "RUNNING";
    }

    public long getRecoveryStartTime() {
      return startMillis;
    }

    public long getChangesRecovered() {
      return (long) (42 * Math.min(1.0, seconds() / RECOVERY_SECONDS));
    }

    public long getChangesApplied() {
      return (long) (streamingSeconds() / 45);
    }

    public long getMilliSecondsSinceLastAppliedChange() {
      return getChangesApplied() == 0 ? -1 : (long) (streamingSeconds() % 45 * 1000);
    }

    public long getMilliSecondsSinceLastRecoveredChange() {
      return (long) (Math.max(0.0, seconds() - RECOVERY_SECONDS) * 1000);
    }

    public String getLastAppliedChange() {
      return getChangesApplied() == 0 ? null : "ALTER TABLE inventory.orders ADD COLUMN note VARCHAR(64)";
    }

    public String getLastRecoveredChange() {
      return "CREATE TABLE inventory.geom (id INT PRIMARY KEY, g GEOMETRY)";
    }
  }

  /** One socket factory for the registry and the connector, bound to one address: they share one port. */
  static final class BoundFactory implements RMIServerSocketFactory {
    final InetAddress address;
    int lastPort;

    BoundFactory(InetAddress address) {
      this.address = address;
    }

    @Override
    public ServerSocket createServerSocket(int port) throws IOException {
      ServerSocket socket = new ServerSocket(port, 50, address);
      lastPort = socket.getLocalPort();
      return socket;
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof BoundFactory && ((BoundFactory) other).address.equals(address);
    }

    @Override
    public int hashCode() {
      return address.hashCode();
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 5) {
      System.err.println("usage: DemoConnector BIND_ADDRESS PORT ADVERTISED_HOST SERVER_NAME SNAPSHOT_SECONDS");
      System.exit(2);
    }
    snapshotSeconds = Double.parseDouble(args[4]);
    InetAddress bind = InetAddress.getByName(args[0]);
    int port = Integer.parseInt(args[1]);
    String server = args[3];
    MBeanServer mbeans = ManagementFactory.getPlatformMBeanServer();
    String prefix = "debezium.mysql:type=connector-metrics,context=";
    mbeans.registerMBean(new Snapshot(), new ObjectName(prefix + "snapshot,server=" + server));
    mbeans.registerMBean(new Streaming(), new ObjectName(prefix + "streaming,server=" + server));
    mbeans.registerMBean(new SchemaHistory(), new ObjectName(prefix + "schema-history,server=" + server));

    System.setProperty("java.rmi.server.hostname", args[2]);
    BoundFactory factory = new BoundFactory(bind);
    LocateRegistry.createRegistry(port, null, factory);
    int bound = factory.lastPort;
    Map<String, Object> env = new HashMap<>();
    env.put(RMIConnectorServer.RMI_SERVER_SOCKET_FACTORY_ATTRIBUTE, factory);
    JMXServiceURL url = new JMXServiceURL(
        "service:jmx:rmi://" + args[2] + ":" + bound + "/jndi/rmi://" + args[2] + ":" + bound + "/jmxrmi");
    JMXConnectorServer connector = JMXConnectorServerFactory.newJMXConnectorServer(url, env, mbeans);
    connector.start();
    System.out.println("JMX " + bound);
    System.out.flush();
    while (System.in.read() != -1) {
      // serve until the collector that started us closes our stdin (or dies)
    }
    System.exit(0);
  }
}
