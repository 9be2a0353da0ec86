package jmxotel.connect;

import org.apache.kafka.connect.connector.Task;

/**
 * The Debezium MySQL connector, unchanged, whose tasks also serve the collector's in-JVM gateway (see
 * {@link GatewayMySqlConnectorTask}). Use it as {@code connector.class} where no sidecar or JVM flag can
 * reach the worker (Amazon MSK Connect); the gateway settings are {@code collector.gateway.*} connector keys.
 */
public class GatewayMySqlConnector extends io.debezium.connector.mysql.MySqlConnector {
  @Override
  public Class<? extends Task> taskClass() {
    return GatewayMySqlConnectorTask.class;
  }
}
