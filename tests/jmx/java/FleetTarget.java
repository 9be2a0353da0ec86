import javax.management.MBeanServer;
import javax.management.MBeanServerFactory;
import javax.management.ObjectName;

/**
 * Many JMX targets in one JVM: N MBean servers, each with the Debezium-shaped MBeans of a spec (as
 * EdgeCaseTarget's --beans, {@code SERVER} in an ObjectName replaced by the target's number) and its own
 * RMI port on 127.0.0.1. Prints {@code PORT p} per target, then {@code JMX <first port>}; runs until stdin
 * closes. What a fleet of Connect workers looks like to the collector, at the cost of one JVM.
 * Usage: FleetTarget 0 <count> <spec> (the 0: the test bed passes a JMX port first; each target picks its own)
 */
public final class FleetTarget {
  private FleetTarget() {}

  public static void main(String[] args) throws Exception {
    int count = Integer.parseInt(args[1]);
    int first = 0;
    for (int i = 0; i < count; i++) {
      MBeanServer mbeans = MBeanServerFactory.newMBeanServer();
      for (String bean : args[2].split(";")) {
        String[] parts = bean.split("\\|", 2);
        String name = parts[0].replace("SERVER", "target" + i);
        mbeans.registerMBean(new EdgeCaseTarget.Synthetic(parts[1]), new ObjectName(name));
      }
      int port = LoopbackJmx.start(0, mbeans);
      first = i == 0 ? port : first;
      System.out.println("PORT " + port);
    }
    LoopbackJmx.serveUntilStdinCloses(first);
  }
}
