import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.rmi.registry.LocateRegistry;
import java.rmi.server.RMIServerSocketFactory;
import java.util.HashMap;
import java.util.Map;
import javax.management.MBeanServer;
import javax.management.remote.JMXConnectorServer;
import javax.management.remote.JMXConnectorServerFactory;
import javax.management.remote.JMXServiceURL;
import javax.management.remote.rmi.RMIConnectorServer;

/**
 * Test-bed helper: a JMX connector server on 127.0.0.1 only, started from code (the JDK's
 * -Dcom.sun.management.jmxremote flags also listen on 0.0.0.0). Registry and connector share one port.
 * Prints "JMX port" and then keeps the JVM alive until stdin closes (so a dying test never leaks it).
 */
public final class LoopbackJmx {
  private static final java.util.concurrent.atomic.AtomicInteger GROUPS = new java.util.concurrent.atomic.AtomicInteger();
  private LoopbackJmx() {}

  /** Binds loopback only; equal instances (same group) let the registry and the connector share one port. */
  static final class LoopbackFactory implements RMIServerSocketFactory {
    final int group; // one per served MBean server: RMI keeps one registry per port
    int lastPort;

    LoopbackFactory(int group) {
      this.group = group;
    }

    @Override
    public ServerSocket createServerSocket(int port) throws IOException {
      ServerSocket socket = new ServerSocket(port, 50, InetAddress.getLoopbackAddress());
      lastPort = socket.getLocalPort();
      return socket;
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof LoopbackFactory && ((LoopbackFactory) other).group == group;
    }

    @Override
    public int hashCode() {
      return group;
    }
  }

  public static int start(int port) throws IOException {
    return start(port, ManagementFactory.getPlatformMBeanServer());
  }

  /** Serves {@code mbeans} (one JVM can serve several MBean servers, each on its own port). */
  public static int start(int port, MBeanServer mbeans) throws IOException {
    System.setProperty("java.rmi.server.hostname", "127.0.0.1");
    LoopbackFactory factory = new LoopbackFactory(GROUPS.incrementAndGet());
    LocateRegistry.createRegistry(port, null, factory);
    int bound = factory.lastPort;
    Map<String, Object> env = new HashMap<>();
    env.put(RMIConnectorServer.RMI_SERVER_SOCKET_FACTORY_ATTRIBUTE, factory);
    JMXServiceURL url = new JMXServiceURL(
        "service:jmx:rmi://127.0.0.1:" + bound + "/jndi/rmi://127.0.0.1:" + bound + "/jmxrmi");
    JMXConnectorServer server =
        JMXConnectorServerFactory.newJMXConnectorServer(url, env, mbeans);
    server.start();
    return bound;
  }

  /** Announce the port, then block until the parent closes stdin. */
  public static void serveUntilStdinCloses(int port) throws IOException {
    System.out.println("JMX " + port);
    System.out.flush();
    while (System.in.read() != -1) {
      // keep running
    }
    System.exit(0);
  }
}
