package jmxotel.connect;

/**
 * {@link GatewayConnector} wrapping the Debezium MySQL connector unless {@code collector.gateway.wrapped.class}
 * says otherwise: the class name of the first releases, kept so existing connector configs keep working.
 */
public class GatewayMySqlConnector extends GatewayConnector {
  @Override
  protected String defaultWrappedClass() {
    return "io.debezium.connector.mysql.MySqlConnector";
  }
}
