package jmxotel;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.Instrumentation;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.net.ServerSocketFactory;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import py4j.GatewayServer;

/**
 * The collector's gateway served inside the monitored JVM: the same hardened py4j server and the same
 * {@link JmxGateway.MBeanReader}, reading the platform MBean server directly (no RMI, no JMX port).
 *
 * <p>Started as a Java agent ({@code -javaagent:collector-gateway.jar=port=25333,bind=0.0.0.0,token_file=...})
 * or by a connector wrapper through {@link #acquire}/{@link #release}: one server per JVM, counted, stopped
 * when the last holder releases it.
 *
 * <p>Settings: {@code port} (25333), {@code bind} (127.0.0.1), {@code token} or {@code token_file},
 * {@code tls_keystore} (a file) or {@code tls_keystore_base64}, {@code tls_keystore_password} or {@code tls_keystore_password_file},
 * {@code tls_keystore_type} (PKCS12), {@code allow_plaintext} (false), {@code strict} (false: apply the
 * beyond-loopback rules on loopback too). Bound beyond loopback (or strict) it refuses to start without a
 * token of at least {@value #MIN_TOKEN_BYTES} bytes, and without TLS unless {@code allow_plaintext=true}.
 */
public final class InProcessGateway {
  static final int MIN_TOKEN_BYTES = 32;
  static final int DEFAULT_PORT = 25333;
  static final String STATS_NAME = "jmxotel:type=Gateway";
  private static final Set<String> KEYS = Set.of("port", "bind", "token", "token_file", "tls_keystore",
      "tls_keystore_base64", "tls_keystore_password", "tls_keystore_password_file", "tls_keystore_type", "allow_plaintext", "strict");

  private static JmxGateway.Server server;
  private static Map<String, String> running;
  private static int holders;

  private InProcessGateway() {}

  /** Counters of the in-JVM gateway, readable by the collector like any MBean. */
  public interface GatewayStatsMBean {
    long getRefusedConnections();

    int getPort();

    /** Connectors' tasks (or the agent) holding the gateway; it stops when this drops to 0. */
    int getHolders();
  }

  static final class GatewayStats implements GatewayStatsMBean {
    @Override
    public long getRefusedConnections() {
      return JmxGateway.ReadOnlyConnection.REFUSED.get();
    }

    @Override
    public int getPort() {
      JmxGateway.Server current = server;
      return current == null ? 0 : current.getListeningPort();
    }

    @Override
    public int getHolders() {
      return holders();
    }
  }

  /** Reads this JVM's own MBeans; the same reply format as a remote read. */
  static final class LocalTarget implements JmxGateway.Target {
    private final MBeanServer mbeans = ManagementFactory.getPlatformMBeanServer();

    @Override
    public String scrape(String query) {
      try {
        return JmxGateway.MBeanReader.read(mbeans, query);
      } catch (JMException e) {
        return JmxGateway.RemoteTarget.error("ERROR", e);
      } catch (IOException | RuntimeException e) {
        return JmxGateway.RemoteTarget.error("DOWN", e);
      }
    }
  }

  /** {@code -javaagent:jar=key=value,key=value}: refuses to start the JVM on a bad setting. */
  public static void premain(String args, Instrumentation instrumentation) {
    Map<String, String> settings = parseAgentArgs(args);
    if (settings.containsKey("token")) {
      throw new IllegalArgumentException(
          "collector gateway: give token_file, not token (agent arguments are visible in the process list)");
    }
    acquire(settings);
  }

  /** Attached to a running JVM (jcmd / Attach API). */
  public static void agentmain(String args, Instrumentation instrumentation) {
    premain(args, instrumentation);
  }

  static Map<String, String> parseAgentArgs(String args) {
    Map<String, String> settings = new HashMap<>();
    if (args == null || args.isEmpty()) {
      return settings;
    }
    for (String pair : args.split(",")) {
      int eq = pair.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("collector gateway: agent argument is not key=value: " + pair);
      }
      settings.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
    }
    return settings;
  }

  /**
   * Starts the gateway once per JVM, or joins the running one (same port and bind expected). Every call
   * must be paired with one {@link #release}; the server stops when the last holder releases it.
   *
   * @return the listening port
   */
  public static synchronized int acquire(Map<String, String> settings) {
    if (server != null) {
      if (!sameEndpoint(running, settings)) {
        throw new IllegalStateException("collector gateway: already serving on " + describe(running)
            + "; a second one on " + describe(settings) + " is refused (one gateway per JVM)");
      }
      holders++;
      return server.getListeningPort();
    }
    JmxGateway.Server started = start(settings);
    server = started;
    running = new HashMap<>(settings);
    holders = 1;
    registerStats();
    return started.getListeningPort();
  }

  /** Drops one hold; the last one stops the server and frees its port. */
  public static synchronized void release() {
    if (holders == 0) {
      return;
    }
    holders--;
    if (holders == 0) {
      server.shutdown();
      server = null;
      running = null;
      unregisterStats();
    }
  }

  /** How many holders the running gateway has (0: not running). */
  public static synchronized int holders() {
    return holders;
  }

  private static boolean sameEndpoint(Map<String, String> a, Map<String, String> b) {
    return port(a) == port(b) && bind(a).equals(bind(b));
  }

  private static String describe(Map<String, String> settings) {
    return bind(settings) + ":" + port(settings);
  }

  private static int port(Map<String, String> settings) {
    String value = settings.getOrDefault("port", "");
    return value.isEmpty() ? DEFAULT_PORT : Integer.parseInt(value);
  }

  private static String bind(Map<String, String> settings) {
    String value = settings.getOrDefault("bind", "");
    return value.isEmpty() ? "127.0.0.1" : value;
  }

  private static JmxGateway.Server start(Map<String, String> settings) {
    for (String key : settings.keySet()) {
      if (!KEYS.contains(key)) {
        throw new IllegalArgumentException("collector gateway: unknown setting " + key + " (known: " + KEYS + ")");
      }
    }
    try {
      InetAddress address = InetAddress.getByName(bind(settings));
      boolean exposed = Boolean.parseBoolean(settings.get("strict"))
          || !(address.isLoopbackAddress());
      String token = secret(settings, "token");
      if (token == null && exposed) {
        throw new IllegalArgumentException("collector gateway: refusing to listen on " + describe(settings)
            + " without a token (token_file, or token in a connector config)");
      }
      if (token != null && token.getBytes(StandardCharsets.UTF_8).length < MIN_TOKEN_BYTES) {
        throw new IllegalArgumentException("collector gateway: the token is shorter than " + MIN_TOKEN_BYTES
            + " bytes; make one with: openssl rand -base64 32");
      }
      ServerSocketFactory sockets = ServerSocketFactory.getDefault();
      byte[] keystore = keystore(settings);
      if (keystore != null) {
        sockets = tls(keystore, secret(settings, "tls_keystore_password"),
            settings.getOrDefault("tls_keystore_type", "PKCS12"));
      } else if (exposed && !Boolean.parseBoolean(settings.get("allow_plaintext"))) {
        throw new IllegalArgumentException("collector gateway: refusing plaintext on " + describe(settings)
            + ": give tls_keystore (or allow_plaintext=true on a network you trust)");
      }
      GatewayServer.turnLoggingOff();
      JmxGateway.Server started = new JmxGateway.Server(
          new JmxGateway.ReadOnlyGateway(new JmxGateway.EntryPoint(new LocalTarget())), token, address,
          port(settings), sockets);
      started.listenInBackground();
      return started;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("collector gateway: cannot start on " + describe(settings) + ": " + e, e);
    }
  }

  /** {@code key} itself, or the trimmed content of the file named by {@code key_file}; null when neither. */
  private static String secret(Map<String, String> settings, String key) throws IOException {
    String value = settings.getOrDefault(key, "");
    String file = settings.getOrDefault(key + "_file", "");
    if (!file.isEmpty()) {
      value = new String(Files.readAllBytes(Paths.get(file)), StandardCharsets.UTF_8).trim();
    }
    return value.isEmpty() ? null : value;
  }

  /**
   * The keystore's bytes: from the file {@code tls_keystore}, or inline as {@code tls_keystore_base64} (for a
   * Kafka Connect config provider such as a secrets manager, where no file can be placed on the worker).
   */
  private static byte[] keystore(Map<String, String> settings) throws IOException {
    String path = settings.getOrDefault("tls_keystore", "");
    String inline = settings.getOrDefault("tls_keystore_base64", "");
    if (!path.isEmpty() && !inline.isEmpty()) {
      throw new IllegalArgumentException("collector gateway: give tls_keystore or tls_keystore_base64, not both");
    }
    if (!inline.isEmpty()) {
      return Base64.getMimeDecoder().decode(inline);
    }
    return path.isEmpty() ? null : Files.readAllBytes(Paths.get(path));
  }

  private static ServerSocketFactory tls(byte[] keystore, String password, String type)
      throws IOException, GeneralSecurityException {
    char[] secret = password == null ? new char[0] : password.toCharArray();
    KeyStore store = KeyStore.getInstance(type);
    try (InputStream in = new ByteArrayInputStream(keystore)) {
      store.load(in, secret);
    }
    KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keys.init(store, secret);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keys.getKeyManagers(), null, null);
    return context.getServerSocketFactory();
  }

  private static void registerStats() {
    try {
      MBeanServer mbeans = ManagementFactory.getPlatformMBeanServer();
      ObjectName name = new ObjectName(STATS_NAME);
      if (!mbeans.isRegistered(name)) {
        mbeans.registerMBean(new GatewayStats(), name);
      }
    } catch (JMException e) {
      // the counters are a convenience: the gateway serves without them
    }
  }

  private static void unregisterStats() {
    try {
      ManagementFactory.getPlatformMBeanServer().unregisterMBean(new ObjectName(STATS_NAME));
    } catch (JMException e) {
      // already gone
    }
  }
}
