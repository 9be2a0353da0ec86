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
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.net.ServerSocketFactory;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import py4j.GatewayServer;

/**
 * The collector's gateway served inside the monitored JVM: the same hardened py4j server and the same
 * {@link JmxGateway.MBeanReader}, reading the platform MBean server directly (no RMI, no JMX port).
 *
 * <p>Started as a Java agent ({@code -javaagent:collector-gateway.jar=port=25333,bind=0.0.0.0,token_file=...})
 * or by a connector wrapper through {@link #acquire}/{@link #release}: one gateway per JVM, counted, stopped
 * when the last holder releases it.
 *
 * <p>Two ways to reach the collector, alone or together: listening ({@code port}, the default when
 * {@code connect} is not given) and dialing out ({@code connect=host:port[,host:port...]}, see
 * {@link GatewayDialer}): with {@code connect} and no {@code port}, nothing listens in this JVM.
 *
 * <p>Settings: {@code port} (25333), {@code bind} (127.0.0.1), {@code connect}, {@code token} or
 * {@code token_file}, {@code tls_keystore} (a file) or {@code tls_keystore_base64}, {@code tls_keystore_password}
 * or {@code tls_keystore_password_file}, {@code tls_keystore_type} (PKCS12), {@code tls_ca} (a PEM file) or
 * {@code tls_ca_base64} (the CA that signed the collectors' certificates, for {@code connect}),
 * {@code allow_plaintext} (false), {@code strict} (false: apply the beyond-loopback rules on loopback too).
 * Bound or dialing beyond loopback (or strict) it refuses to start without a token of at least
 * {@value #MIN_TOKEN_BYTES} bytes, and without TLS unless {@code allow_plaintext=true}; dialing out always
 * needs a token (the collector's listener asks every worker for one).
 */
public final class InProcessGateway {
  static final int MIN_TOKEN_BYTES = 32;
  static final int DEFAULT_PORT = 25333;
  static final String STATS_NAME = "jmxotel:type=Gateway";
  private static final Set<String> KEYS = Set.of("port", "bind", "token", "token_file", "tls_keystore",
      "tls_keystore_base64", "tls_keystore_password", "tls_keystore_password_file", "tls_keystore_type",
      "allow_plaintext", "strict", "connect", "tls_ca", "tls_ca_base64");

  private static JmxGateway.Server server; // null when not listening
  private static GatewayDialer dialer; // null when not dialing out
  private static Map<String, String> running;
  private static int holders;
  private static volatile GatewayDialer.Log log =
      (warning, message) -> System.err.println("collector gateway: " + message);

  /** Where state changes are logged (stderr by default; the connector wrapper gives the worker's log). */
  public static void setLog(GatewayDialer.Log sink) {
    log = sink;
  }

  private InProcessGateway() {}

  /** Counters of the in-JVM gateway, readable by the collector like any MBean. */
  public interface GatewayStatsMBean {
    long getRefusedConnections();

    int getPort();

    /** Connectors' tasks (or the agent) holding the gateway; it stops when this drops to 0. */
    int getHolders();

    /** Collectors this gateway is connected to (dialing out). */
    int getConnectedCollectors();
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

    @Override
    public int getConnectedCollectors() {
      GatewayDialer current = dialer;
      return current == null ? 0 : current.connected();
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
    for (String pair : agentPieces(args)) {
      int eq = pair.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("collector gateway: agent argument is not key=value: " + pair);
      }
      settings.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
    }
    return settings;
  }

  /** Agent arguments are comma-separated, and so is {@code connect}: a piece without {@code =} continues
   * the previous value ({@code connect=a:1,b:2,token_file=t}). */
  private static List<String> agentPieces(String args) {
    List<String> pieces = new ArrayList<>();
    for (String piece : args.split(",")) {
      if (!piece.contains("=") && !pieces.isEmpty()) {
        pieces.set(pieces.size() - 1, pieces.get(pieces.size() - 1) + "," + piece);
      } else {
        pieces.add(piece);
      }
    }
    return pieces;
  }

  /**
   * Starts the gateway once per JVM, or joins the running one (same port, bind and collectors expected).
   * Every call must be paired with one {@link #release}; the gateway stops when the last holder releases it.
   * Never waits on the network: connections to collectors are made by the gateway's own threads.
   *
   * @return the listening port, 0 when it only dials out
   */
  public static synchronized int acquire(Map<String, String> settings) {
    if (holders > 0) {
      if (!sameEndpoint(running, settings)) {
        throw new IllegalStateException("collector gateway: already serving as " + describe(running)
            + "; a second one as " + describe(settings) + " is refused (one gateway per JVM)");
      }
      holders++;
      return server == null ? 0 : server.getListeningPort();
    }
    start(settings);
    running = new HashMap<>(settings);
    holders = 1;
    registerStats();
    return server == null ? 0 : server.getListeningPort();
  }

  /** Drops one hold; the last one stops the gateway, frees its port and closes its collector connections. */
  public static synchronized void release() {
    if (holders == 0) {
      return;
    }
    holders--;
    if (holders == 0) {
      if (server != null) {
        server.shutdown();
        server = null;
      }
      if (dialer != null) {
        dialer.stop();
        dialer = null;
      }
      running = null;
      unregisterStats();
    }
  }

  /** How many holders the running gateway has (0: not running). */
  public static synchronized int holders() {
    return holders;
  }

  private static boolean sameEndpoint(Map<String, String> a, Map<String, String> b) {
    return describe(a).equals(describe(b));
  }

  private static String describe(Map<String, String> settings) {
    String listening = listens(settings) ? bind(settings) + ":" + port(settings) : "";
    List<String> collectors = collectors(settings);
    String dialing = collectors.isEmpty() ? "" : "connect=" + String.join(",", collectors);
    return listening.isEmpty() ? dialing : dialing.isEmpty() ? listening : listening + " " + dialing;
  }

  /** It listens when told a port, or when it has nowhere to connect (today's default). */
  private static boolean listens(Map<String, String> settings) {
    return !settings.getOrDefault("port", "").isEmpty() || collectors(settings).isEmpty();
  }

  private static List<String> collectors(Map<String, String> settings) {
    Set<String> distinct = new LinkedHashSet<>(); // one connection per collector, however often it is named
    for (String each : settings.getOrDefault("connect", "").split(",")) {
      if (!each.trim().isEmpty()) {
        distinct.add(each.trim());
      }
    }
    return new ArrayList<>(distinct);
  }

  private static int port(Map<String, String> settings) {
    String value = settings.getOrDefault("port", "");
    return value.isEmpty() ? DEFAULT_PORT : Integer.parseInt(value);
  }

  private static String bind(Map<String, String> settings) {
    String value = settings.getOrDefault("bind", "");
    return value.isEmpty() ? "127.0.0.1" : value;
  }

  /** Starts what the settings ask for (listening, dialing out, or both); nothing runs after a refusal. */
  private static void start(Map<String, String> settings) {
    for (String key : settings.keySet()) {
      if (!KEYS.contains(key)) {
        throw new IllegalArgumentException("collector gateway: unknown setting " + key + " (known: " + KEYS + ")");
      }
    }
    try {
      String token = secret(settings, "token");
      boolean strict = Boolean.parseBoolean(settings.get("strict"));
      boolean plaintextAllowed = Boolean.parseBoolean(settings.get("allow_plaintext"));
      GatewayDialer dialing = null;
      List<String> collectors = collectors(settings);
      if (!collectors.isEmpty()) {
        boolean exposed = strict;
        for (String collector : collectors) {
          exposed |= !GatewayDialer.isLoopback(GatewayDialer.parse(collector).getHostString());
        }
        if (token == null) {
          throw new IllegalArgumentException("collector gateway: connect needs a token (the collector's "
              + "listener admits workers by token): give token_file, or token in a connector config");
        }
        checkTokenLength(token);
        byte[] ca = bytes(settings, "tls_ca");
        SSLSocketFactory tls = ca == null ? null : trusting(ca);
        if (tls == null && exposed && !plaintextAllowed) {
          throw new IllegalArgumentException("collector gateway: refusing plaintext to " + String.join(",", collectors)
              + ": give tls_ca (the CA of the collector's certificate), or allow_plaintext=true on a network you trust");
        }
        GatewayServer.turnLoggingOff();
        JmxGateway.ReadOnlyGateway gateway = new JmxGateway.ReadOnlyGateway(new JmxGateway.EntryPoint(new LocalTarget()));
        gateway.startup();
        dialing = new GatewayDialer(collectors, tls, token, gateway, (warning, message) -> log.log(warning, message));
      }
      if (listens(settings)) {
        server = listen(settings, token, strict, plaintextAllowed);
      }
      if (dialing != null) {
        dialing.start();
        dialer = dialing;
      }
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("collector gateway: cannot start as " + describe(settings) + ": " + e, e);
    }
  }

  private static void checkTokenLength(String token) {
    if (token.getBytes(StandardCharsets.UTF_8).length < MIN_TOKEN_BYTES) {
      throw new IllegalArgumentException("collector gateway: the token is shorter than " + MIN_TOKEN_BYTES
          + " bytes; make one with: openssl rand -base64 32");
    }
  }

  private static JmxGateway.Server listen(Map<String, String> settings, String token, boolean strict,
      boolean plaintextAllowed) throws IOException, GeneralSecurityException {
    InetAddress address = InetAddress.getByName(bind(settings));
    boolean exposed = strict || !(address.isLoopbackAddress());
    if (token == null && exposed) {
      throw new IllegalArgumentException("collector gateway: refusing to listen on " + describe(settings)
          + " without a token (token_file, or token in a connector config)");
    }
    if (token != null) {
      checkTokenLength(token);
    }
    ServerSocketFactory sockets = ServerSocketFactory.getDefault();
    byte[] keystore = bytes(settings, "tls_keystore");
    if (keystore != null) {
      sockets = tls(keystore, secret(settings, "tls_keystore_password"),
          settings.getOrDefault("tls_keystore_type", "PKCS12"));
    } else if (exposed && !plaintextAllowed) {
      throw new IllegalArgumentException("collector gateway: refusing plaintext on " + describe(settings)
          + ": give tls_keystore (or allow_plaintext=true on a network you trust)");
    }
    GatewayServer.turnLoggingOff();
    JmxGateway.Server started = new JmxGateway.Server(
        new JmxGateway.ReadOnlyGateway(new JmxGateway.EntryPoint(new LocalTarget())), token, address,
        port(settings), sockets);
    started.listenInBackground();
    return started;
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
   * A keystore's or CA's bytes: from the file {@code key} ({@code tls_keystore}, {@code tls_ca}), or inline as
   * {@code key_base64} (for a Kafka Connect config provider such as a secrets manager, where no file can be
   * placed on the worker).
   */
  private static byte[] bytes(Map<String, String> settings, String key) throws IOException {
    String path = settings.getOrDefault(key, "");
    String inline = settings.getOrDefault(key + "_base64", "");
    if (!path.isEmpty() && !inline.isEmpty()) {
      throw new IllegalArgumentException("collector gateway: give " + key + " or " + key + "_base64, not both");
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

  /** TLS to the collectors, trusting only the CA certificate(s) of this PEM (or DER) text. */
  private static SSLSocketFactory trusting(byte[] ca) throws IOException, GeneralSecurityException {
    KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
    trusted.load(null, null);
    int count = 0;
    try (InputStream in = new ByteArrayInputStream(ca)) {
      for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        trusted.setCertificateEntry("ca-" + count++, certificate);
      }
    }
    if (count == 0) {
      throw new IllegalArgumentException("collector gateway: tls_ca holds no certificate");
    }
    TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(trusted);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, trust.getTrustManagers(), null);
    return context.getSocketFactory();
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
