package jmxotel.connect;

import io.debezium.config.Configuration;
import io.debezium.connector.mysql.MySqlConnectorTask;
import io.debezium.connector.mysql.MySqlOffsetContext;
import io.debezium.connector.mysql.MySqlPartition;
import io.debezium.pipeline.ChangeEventSourceCoordinator;
import java.util.HashMap;
import java.util.Map;
import jmxotel.InProcessGateway;
import org.apache.kafka.connect.errors.ConnectException;

/**
 * A Debezium MySQL task that holds the JVM's in-process gateway while it runs: the gateway starts in the
 * worker that runs the task (where Debezium registers its MBeans), once per JVM however many tasks and
 * restarts there are, and stops with the last task of the JVM (its port is free for the next start).
 *
 * <p>Settings: every {@code collector.gateway.<a>.<b>} connector key becomes the gateway setting
 * {@code <a>_<b>} ({@code collector.gateway.tls.keystore.password} is {@code tls_keystore_password}); see
 * {@link InProcessGateway}. A bad setting fails the task with the reason, never silently.
 */
public class GatewayMySqlConnectorTask extends MySqlConnectorTask {
  static final String PREFIX = "collector.gateway.";
  private boolean holding;

  @Override
  public ChangeEventSourceCoordinator<MySqlPartition, MySqlOffsetContext> start(Configuration config) {
    if (!holding) { // Debezium calls start again after a retriable error without a stop in between
      try {
        InProcessGateway.acquire(gatewaySettings(config.asMap()));
      } catch (RuntimeException e) {
        throw new ConnectException(e.getMessage(), e);
      }
      holding = true;
    }
    return super.start(config);
  }

  @Override
  protected void doStop() {
    try {
      super.doStop();
    } finally {
      if (holding) {
        holding = false;
        InProcessGateway.release();
      }
    }
  }

  static Map<String, String> gatewaySettings(Map<String, String> connectorConfig) {
    Map<String, String> settings = new HashMap<>();
    for (Map.Entry<String, String> entry : connectorConfig.entrySet()) {
      if (entry.getKey().startsWith(PREFIX)) {
        settings.put(entry.getKey().substring(PREFIX.length()).replace('.', '_'), entry.getValue());
      }
    }
    return settings;
  }
}
