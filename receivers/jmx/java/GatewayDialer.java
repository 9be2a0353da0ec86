package jmxotel;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import py4j.Gateway;

/**
 * The in-JVM gateway dialing out: one connection per named collector, so the worker needs no inbound port.
 *
 * <p>Wire: the worker connects (TLS verified against the collector's CA, hostname checked, unless plaintext
 * is allowed), sends three lines — {@value #HELLO}, its token, its identity ({@code key=value} fields
 * separated by tabs, escaped as in {@link JmxGateway.MBeanReader}) — and reads one line: {@code OK}, or
 * {@code REFUSED<TAB>reason}. After {@code OK} the roles turn: the collector is the client and sends the
 * py4j call command over this socket, which the worker serves with the same hardened
 * {@link JmxGateway.ReadOnlyConnection} as a listening gateway (only {@code scrape} on the entry point).
 * The collector pings (an empty scrape) when idle, so a connection silent for {@value #IDLE_TIMEOUT_MS} ms is
 * dead (a collector gone without a FIN, a dropped NAT entry) and is replaced.
 *
 * <p>Each link is one daemon thread that connects, serves until the connection ends, then waits
 * (exponential backoff from {@value #MIN_BACKOFF_MS} ms to {@value #MAX_BACKOFF_MS} ms, jittered) and
 * connects again; nothing queues up meanwhile. It logs one line per state change (connected, closed,
 * unreachable, refused), never per attempt.
 */
final class GatewayDialer {
  static final String HELLO = "jmxotel-dialout 1";
  static final int CONNECT_TIMEOUT_MS = 10_000;
  /** Above the collector's longest keepalive interval (60 s). */
  static final int IDLE_TIMEOUT_MS = 90_000;
  static final long MIN_BACKOFF_MS = 1_000;
  static final long MAX_BACKOFF_MS = 60_000;
  private static final int MAX_REPLY_BYTES = 1024;
  /** This JVM's identity towards every collector: the same across reconnections, new with a new JVM. */
  static final String INSTANCE_ID = UUID.randomUUID().toString();

  /** Where the worker's log lines go: stderr for the agent, the worker's slf4j log for the wrapper. */
  public interface Log {
    void log(boolean warning, String message);
  }

  private final List<Link> links = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private final SSLSocketFactory tls;
  private final String token;
  private final Gateway gateway;
  private final Log log;
  private volatile boolean stopped;

  /**
   * @param collectors distinct {@code host:port} addresses
   * @param tls null for plaintext
   */
  GatewayDialer(List<String> collectors, SSLSocketFactory tls, String token, Gateway gateway, Log log) {
    this.tls = tls;
    this.token = token;
    this.gateway = gateway;
    this.log = log;
    for (String collector : collectors) {
      links.add(new Link(collector));
    }
  }

  /** {@code host:port} (IPv6 in brackets) into its parts; a bad one is a setting error. */
  static InetSocketAddress parse(String collector) {
    int colon = collector.lastIndexOf(':');
    String host = colon > 0 ? collector.substring(0, colon) : "";
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port = -1;
    try {
      port = colon > 0 ? Integer.parseInt(collector.substring(colon + 1)) : -1;
    } catch (NumberFormatException e) {
      // reported below
    }
    if (host.isEmpty() || port <= 0 || port > 65535) {
      throw new IllegalArgumentException("collector gateway: connect: " + collector + " is not host:port");
    }
    return InetSocketAddress.createUnresolved(host, port);
  }

  /** A loopback host judged without a DNS lookup (the task thread never waits on DNS). */
  static boolean isLoopback(String host) {
    if (host.equalsIgnoreCase("localhost")) {
      return true;
    }
    if (!host.matches("[0-9.]+|[0-9a-fA-F:]+")) {
      return false; // a name: not loopback as far as the plaintext rules go
    }
    try {
      return InetAddress.getByName(host).isLoopbackAddress(); // a literal: no lookup
    } catch (UnknownHostException e) {
      return false;
    }
  }

  void start() {
    for (Link link : links) {
      Thread thread = new Thread(link, "collector-gateway-dial-" + link.name);
      thread.setDaemon(true); // never keeps a worker JVM alive
      threads.add(thread);
      thread.start();
    }
  }

  /** Closes every connection and ends the threads (they may still be finishing when this returns). */
  void stop() {
    stopped = true;
    for (Link link : links) {
      link.close();
    }
    for (Thread thread : threads) {
      thread.interrupt();
    }
    gateway.shutdown();
  }

  /** Collectors currently connected. */
  int connected() {
    int count = 0;
    for (Link link : links) {
      count += link.connected ? 1 : 0;
    }
    return count;
  }

  /** The collector refused the hello (a wrong token): not worth a fast retry. */
  static final class RefusedException extends IOException {
    RefusedException(String reason) {
      super(reason);
    }
  }

  /** One collector: connect, serve, back off, again. */
  private final class Link implements Runnable {
    final String name;
    final InetSocketAddress address;
    volatile boolean connected;
    private Socket socket;
    private String state = "";

    Link(String name) {
      this.name = name;
      this.address = parse(name);
    }

    @Override
    public void run() {
      long backoff = MIN_BACKOFF_MS;
      while (!stopped) {
        try {
          Socket open = open();
          if (!hold(open)) {
            break;
          }
          hello(open);
          connected = true;
          change("connected", false, "connected to collector " + name);
          backoff = MIN_BACKOFF_MS;
          new JmxGateway.ReadOnlyConnection(gateway, open, null, new ArrayList<>()).run(); // until it ends
          if (!stopped) {
            change("closed", false, "connection to collector " + name + " closed; reconnecting");
          }
        } catch (RefusedException e) {
          change("refused", true, "collector " + name + " refused this worker: " + e.getMessage()
              + " (check collector.gateway.token against the collector's listen.auth_tokens)");
          backoff = MAX_BACKOFF_MS;
        } catch (IOException | RuntimeException e) {
          if (!stopped) {
            change("unreachable", true, "collector " + name + " unreachable (" + describe(e)
                + "); retrying with backoff up to " + MAX_BACKOFF_MS / 1000 + " s");
          }
        } finally {
          connected = false;
          close();
        }
        try {
          Thread.sleep(ThreadLocalRandom.current().nextLong(backoff / 2, backoff + 1)); // jitter: no herd
        } catch (InterruptedException e) {
          break; // stopped
        }
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
      }
    }

    private void change(String newState, boolean warning, String message) {
      if (!newState.equals(state)) {
        state = newState;
        log.log(warning, message);
      }
    }

    private Socket open() throws IOException {
      Socket plain = new Socket();
      try {
        plain.connect(new InetSocketAddress(address.getHostString(), address.getPort()), CONNECT_TIMEOUT_MS);
        plain.setSoTimeout(CONNECT_TIMEOUT_MS); // the handshake's limit
        plain.setKeepAlive(true);
        plain.setTcpNoDelay(true);
        if (tls == null) {
          return plain;
        }
        SSLSocket secure = (SSLSocket) tls.createSocket(plain, address.getHostString(), address.getPort(), true);
        SSLParameters parameters = secure.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name the host dialed
        secure.setSSLParameters(parameters);
        secure.startHandshake();
        return secure;
      } catch (IOException | RuntimeException e) {
        plain.close();
        throw e;
      }
    }

    private synchronized boolean hold(Socket open) throws IOException {
      if (stopped) {
        open.close();
        return false;
      }
      socket = open;
      return true;
    }

    synchronized void close() {
      if (socket != null) {
        try {
          socket.close();
        } catch (IOException e) {
          // closed already
        }
        socket = null;
      }
    }

    private void hello(Socket open) throws IOException {
      StringBuilder identity = new StringBuilder();
      field(identity, "host.name", hostName());
      field(identity, "process.pid", Long.toString(ProcessHandle.current().pid()));
      field(identity, "service.instance.id", INSTANCE_ID);
      OutputStream out = open.getOutputStream();
      out.write((HELLO + "\n" + token + "\n" + identity + "\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      String reply = readLine(open.getInputStream());
      if (reply.startsWith("REFUSED")) {
        throw new RefusedException(reply.substring("REFUSED".length()).trim());
      }
      if (!reply.equals("OK")) {
        throw new IOException("not a collector's listener (answered " + reply.length() + " bytes)");
      }
      open.setSoTimeout(IDLE_TIMEOUT_MS);
    }
  }

  private static void field(StringBuilder out, String key, String value) {
    if (out.length() > 0) {
      out.append('\t');
    }
    JmxGateway.MBeanReader.escape(key + "=" + value, out);
  }

  /** One line, read byte by byte: what follows it belongs to the py4j connection's own reader. */
  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b = in.read(); b != '\n'; b = in.read()) {
      if (b < 0) {
        throw new IOException("the collector closed the connection during the handshake");
      }
      if (line.size() >= MAX_REPLY_BYTES) {
        throw new IOException("the collector's handshake reply is too long");
      }
      line.write(b);
    }
    return line.toString(StandardCharsets.UTF_8);
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "unknown";
    }
  }

  private static String describe(Throwable e) {
    Throwable root = JmxGateway.MBeanReader.rootCause(e);
    return root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
  }
}
