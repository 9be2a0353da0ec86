import io.debezium.engine.ChangeEvent;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.format.Json;
import java.io.FileReader;
import java.io.Reader;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Runs the real Debezium MySQL connector with the embedded engine (DebeziumEngine API), events discarded,
 * JMX on 127.0.0.1. Usage: DebeziumRunner <jmxPort|0> <engine.properties>
 */
public final class DebeziumRunner {
  public static void main(String[] args) throws Exception {
    int port = LoopbackJmx.start(Integer.parseInt(args[0]));
    Properties props = new Properties();
    try (Reader reader = new FileReader(args[1])) {
      props.load(reader);
    }
    DebeziumEngine<ChangeEvent<String, String>> engine = DebeziumEngine.create(Json.class)
        .using(props)
        .notifying(record -> {})
        .using((success, message, error) -> {
          if (!success) {
            System.err.println("engine stopped: " + message + (error == null ? "" : " " + error));
          }
        })
        .build();
    ExecutorService executor = Executors.newSingleThreadExecutor();
    executor.execute(engine);
    LoopbackJmx.serveUntilStdinCloses(port);
  }
}
