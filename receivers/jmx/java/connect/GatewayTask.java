package jmxotel.connect;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jmxotel.InProcessGateway;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The wrapped connector's task, run unchanged, holding the JVM's in-process gateway while it runs: the
 * gateway starts in the worker that runs the task (where the connector registers its MBeans), once per JVM
 * however many tasks and restarts there are, and stops with the last task of the JVM.
 *
 * <p>Settings: every {@code collector.gateway.<a>.<b>} connector key becomes the gateway setting
 * {@code <a>_<b>} ({@code collector.gateway.tls.keystore.password} is {@code tls_keystore_password}); see
 * {@link InProcessGateway}. A bad setting fails the task with the reason, never silently. The gateway's
 * state changes go to the worker's log (logger {@code jmxotel.connect.GatewayTask}).
 */
public class GatewayTask extends SourceTask {
  static final String PREFIX = "collector.gateway.";
  private static final Logger LOG = LoggerFactory.getLogger(GatewayTask.class);
  private SourceTask wrapped;
  private boolean holding;

  static Object instantiate(String className, ClassLoader loader) {
    try {
      return Class.forName(className, true, loader).getDeclaredConstructor().newInstance();
    } catch (ReflectiveOperationException | LinkageError e) {
      throw new ConnectException("cannot create " + className + " (is its plugin in the same folder as the "
          + "collector gateway jar?): " + e, e);
    }
  }

  @Override
  public String version() {
    return wrapped == null ? GatewayConnector.VERSION : wrapped.version();
  }

  @Override
  public void start(Map<String, String> props) {
    String taskClass = props.get(GatewayConnector.WRAPPED_TASK_CLASS);
    if (taskClass == null) {
      throw new ConnectException(GatewayConnector.WRAPPED_TASK_CLASS + " missing: run this task through "
          + "jmxotel.connect.GatewayConnector");
    }
    wrapped = (SourceTask) instantiate(taskClass, getClass().getClassLoader());
    wrapped.initialize(context);
    if (!holding) {
      InProcessGateway.setLog((warning, message) -> {
        if (warning) {
          LOG.warn("collector gateway: {}", message);
        } else {
          LOG.info("collector gateway: {}", message);
        }
      });
      try {
        InProcessGateway.acquire(gatewaySettings(props));
      } catch (RuntimeException e) {
        throw new ConnectException(e.getMessage(), e);
      }
      holding = true;
    }
    try {
      wrapped.start(props);
    } catch (RuntimeException e) {
      release();
      throw e;
    }
  }

  @Override
  public List<SourceRecord> poll() throws InterruptedException {
    return wrapped.poll();
  }

  @Override
  public void commit() throws InterruptedException {
    wrapped.commit();
  }

  /** The only commitRecord Kafka Connect 4 has; on 2.7/3.x the wrapped task's default calls its older one. */
  @Override
  public void commitRecord(SourceRecord record, RecordMetadata metadata) throws InterruptedException {
    wrapped.commitRecord(record, metadata);
  }

  @Override
  public void stop() {
    try {
      if (wrapped != null) {
        wrapped.stop();
      }
    } finally {
      release();
    }
  }

  private synchronized void release() {
    if (holding) {
      holding = false;
      InProcessGateway.release();
    }
  }

  static Map<String, String> gatewaySettings(Map<String, String> connectorConfig) {
    Map<String, String> settings = new HashMap<>();
    for (Map.Entry<String, String> entry : connectorConfig.entrySet()) {
      String key = entry.getKey();
      if (key.startsWith(PREFIX) && !key.startsWith(PREFIX + "wrapped.")) { // the wrapper's own keys
        settings.put(key.substring(PREFIX.length()).replace('.', '_'), entry.getValue());
      }
    }
    return settings;
  }
}
