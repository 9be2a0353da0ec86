package jmxotel.connect;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.connect.connector.ConnectorContext;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.SourceConnector;

/**
 * Any source connector, unchanged, whose tasks also serve the collector's in-JVM gateway (see
 * {@link GatewayTask}): {@code connector.class=jmxotel.connect.GatewayConnector} with
 * {@code collector.gateway.wrapped.class=io.debezium.connector.postgresql.PostgresConnector} (or any other).
 * Use it where no sidecar or JVM flag can reach the worker (Amazon MSK Connect).
 *
 * <p>It delegates rather than extends, so it is compiled against connect-api alone, to Java 11 bytecode:
 * one jar serves every connector, on Kafka Connect 2.7 (Java 11) as on 3.x (Java 17). The connector keys
 * pass to the wrapped connector unchanged; the gateway reads the {@code collector.gateway.*} ones. Methods
 * Kafka Connect added after 2.7 (exactly-once support, offset alteration) keep their defaults.
 */
public class GatewayConnector extends SourceConnector {
  public static final String WRAPPED_CLASS = "collector.gateway.wrapped.class";
  /** Set by the connector in each task's config: the wrapped connector's task class. */
  static final String WRAPPED_TASK_CLASS = "collector.gateway.wrapped.task.class";
  static final String VERSION = "collector-gateway";
  private SourceConnector wrapped;
  private Map<String, String> gatewayKeys = new HashMap<>();

  /** The class wrapped when the config names none (none here; the MySQL wrapper's is MySqlConnector). */
  protected String defaultWrappedClass() {
    return null;
  }

  private SourceConnector wrappedFor(Map<String, String> config) {
    String name = config.getOrDefault(WRAPPED_CLASS, defaultWrappedClass());
    if (name == null || name.trim().isEmpty()) {
      throw new ConnectException(WRAPPED_CLASS + " is required: the connector class to wrap, e.g. "
          + "io.debezium.connector.postgresql.PostgresConnector");
    }
    Object instance = GatewayTask.instantiate(name.trim(), getClass().getClassLoader());
    if (!(instance instanceof SourceConnector)) {
      throw new ConnectException(WRAPPED_CLASS + ": " + name + " is not a source connector");
    }
    return (SourceConnector) instance;
  }

  @Override
  public void initialize(ConnectorContext ctx) {
    super.initialize(ctx); // the wrapped connector gets it in start(), once its class is known
  }

  @Override
  public void start(Map<String, String> props) {
    wrapped = wrappedFor(props);
    wrapped.initialize(context);
    gatewayKeys = new HashMap<>();
    for (Map.Entry<String, String> entry : props.entrySet()) {
      if (entry.getKey().startsWith(GatewayTask.PREFIX)) {
        gatewayKeys.put(entry.getKey(), entry.getValue());
      }
    }
    wrapped.start(props);
  }

  @Override
  public void reconfigure(Map<String, String> props) {
    wrapped.reconfigure(props);
  }

  @Override
  public Class<? extends Task> taskClass() {
    return GatewayTask.class;
  }

  /** The wrapped connector's task configs, each told the task class to run and the gateway keys. */
  @Override
  public List<Map<String, String>> taskConfigs(int maxTasks) {
    List<Map<String, String>> configs = new ArrayList<>();
    for (Map<String, String> config : wrapped.taskConfigs(maxTasks)) {
      Map<String, String> task = new HashMap<>(gatewayKeys);
      task.putAll(config);
      task.put(WRAPPED_TASK_CLASS, wrapped.taskClass().getName());
      configs.add(task);
    }
    return configs;
  }

  @Override
  public void stop() {
    if (wrapped != null) {
      wrapped.stop();
    }
  }

  /** Validation runs on a fresh instance before start: the wrapped class comes from the config itself. */
  @Override
  public Config validate(Map<String, String> connectorConfigs) {
    List<ConfigValue> values = new ArrayList<>();
    ConfigValue ours = new ConfigValue(WRAPPED_CLASS);
    ours.value(connectorConfigs.getOrDefault(WRAPPED_CLASS, defaultWrappedClass()));
    try {
      values.addAll(wrappedFor(connectorConfigs).validate(connectorConfigs).configValues());
    } catch (ConnectException e) {
      ours.addErrorMessage(e.getMessage());
    }
    values.add(ours);
    return new Config(values);
  }

  @Override
  public ConfigDef config() {
    ConfigDef def = wrapped == null ? new ConfigDef() : new ConfigDef(wrapped.config());
    if (!def.names().contains(WRAPPED_CLASS)) {
      def.define(WRAPPED_CLASS, ConfigDef.Type.STRING, defaultWrappedClass(), ConfigDef.Importance.HIGH,
          "The source connector class this wrapper runs (the collector's in-JVM gateway rides along).");
    }
    return def;
  }

  @Override
  public String version() {
    return wrapped == null ? VERSION : wrapped.version();
  }
}
