import io.debezium.engine.ChangeEvent;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.format.Json;
import java.io.BufferedReader;
import java.io.FileReader;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Runs a real Debezium connector (the one named by {@code connector.class}) with the embedded engine (DebeziumEngine API), events discarded,
 * JMX on 127.0.0.1. Usage: DebeziumRunner <jmxPort|0> <engine.properties>. A {@code restart} line on stdin
 * stops the connector and starts it again in the same JVM (prints {@code RESTARTED}), as a worker does.
 */
public final class DebeziumRunner {
  private DebeziumEngine<ChangeEvent<String, String>> engine;
  private ExecutorService executor;

  private void start(Properties props) {
    engine = DebeziumEngine.create(Json.class)
        .using(props)
        .notifying(record -> {})
        .using((success, message, error) -> {
          if (!success) {
            System.err.println("engine stopped: " + message + (error == null ? "" : " " + error));
          }
        })
        .build();
    executor = Executors.newSingleThreadExecutor();
    executor.execute(engine);
  }

  private void stop() throws Exception {
    engine.close();
    executor.shutdown();
    executor.awaitTermination(60, TimeUnit.SECONDS);
  }

  public static void main(String[] args) throws Exception {
    int port = LoopbackJmx.start(Integer.parseInt(args[0]));
    Properties props = new Properties();
    try (Reader reader = new FileReader(args[1])) {
      props.load(reader);
    }
    DebeziumRunner runner = new DebeziumRunner();
    runner.start(props);
    System.out.println("JMX " + port);
    System.out.flush();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      if (line.equals("restart")) {
        runner.stop();
        runner.start(props);
        System.out.println("RESTARTED");
        System.out.flush();
      }
    }
    System.exit(0);
  }
}
