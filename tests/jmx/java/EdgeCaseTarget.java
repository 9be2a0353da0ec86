import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.AttributeNotFoundException;
import javax.management.DynamicMBean;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Test target with the awkward values the gateway must map: null boxed numbers, NaN, booleans, strings,
 * String[], a throwing getter, Map (standard MBean), CompositeData and TabularData (MXBean).
 * With "--beans 'objectName|Attr,Attr=text;objectName|...'" it also registers read-only MBeans of those
 * attributes (a long that grows on each read, or the constant string after '='), plus a 6 KB
 * `LastAppliedChange` string: Debezium- or Kafka-Connect-shaped MBeans for the benchmark and preset tests.
 * With "--hostile" it also registers MBeans an attacker would: {@code test.hostile:type=Hung} (a getter
 * that never returns), {@code type=Huge} (a 64 MB string where a number is expected) and {@code type=Fine}
 * (an ordinary counter beside them).
 * Usage: EdgeCaseTarget <jmxPort|0> [--beans spec] [--hostile]
 */
public final class EdgeCaseTarget {
  public interface EdgeMBean {
    Long getNullLong();
    double getNanDouble();
    long getCount();
    boolean getActive();
    String getStatus();
    String[] getTables();
    long getBroken();
    Map<String, Long> getPerTable();
  }

  public static final class Edge implements EdgeMBean {
    private volatile long count = 42;
    public Long getNullLong() { return null; }
    public double getNanDouble() { return Double.NaN; }
    public long getCount() { return count++; }
    public boolean getActive() { return true; }
    public String getStatus() { return "RUNNING"; }
    public String[] getTables() { return new String[] {"db.a", "db.b", "db.c"}; }
    public long getBroken() { throw new IllegalStateException("broken getter"); }
    public Map<String, Long> getPerTable() {
      Map<String, Long> m = new LinkedHashMap<>();
      m.put("db.t1", 5L);
      m.put("db.t2", 7L);
      return m;
    }
  }

  public interface EdgeMXMXBean {
    MemoryUsage getUsage();
    Map<String, Long> getRows();
    Double getMaybe();
    long getMissingSentinel();
  }

  public static final class EdgeMX implements EdgeMXMXBean {
    public MemoryUsage getUsage() { return new MemoryUsage(1, 2, 3, 4); }
    public Map<String, Long> getRows() {
      Map<String, Long> m = new LinkedHashMap<>();
      m.put("inventory.customers", 11L);
      m.put("inventory.orders", 13L);
      return m;
    }
    public Double getMaybe() { return null; }
    public long getMissingSentinel() { return -1; }
  }

  public interface HungMBean {
    long getStuck() throws InterruptedException;
  }

  public static final class Hung implements HungMBean {
    public long getStuck() throws InterruptedException {
      Thread.sleep(600_000); // a getter blocked on a lock or a dead socket
      return 0;
    }
  }

  public interface HugeMBean {
    String getBlob();
    long getSize();
  }

  public static final class Huge implements HugeMBean {
    private static final String BLOB = "x".repeat(64 << 20);
    public String getBlob() { return BLOB; }
    public long getSize() { return BLOB.length(); }
  }

  public interface FineMBean {
    long getValue();
  }

  public static final class Fine implements FineMBean {
    private long value;
    public synchronized long getValue() { return ++value; }
  }

  /** Read-only MBean: long attributes (position * 1000 + reads so far), constant strings, one big string. */
  static final class Synthetic implements DynamicMBean {
    private final List<String> names = new ArrayList<>();
    private final Map<String, String> strings = new LinkedHashMap<>();
    private long reads;
    private final String big = "x".repeat(6000);

    Synthetic(String spec) {
      for (String attribute : spec.split(",")) {
        String[] parts = attribute.split("=", 2);
        names.add(parts[0]);
        if (parts.length == 2) {
          strings.put(parts[0], parts[1]);
        }
      }
    }

    public synchronized Object getAttribute(String name) throws AttributeNotFoundException {
      if (name.equals("LastAppliedChange")) {
        return big;
      }
      if (strings.containsKey(name)) {
        return strings.get(name);
      }
      int i = names.indexOf(name);
      if (i < 0) {
        throw new AttributeNotFoundException(name);
      }
      return (long) i * 1000 + reads++;
    }

    public void setAttribute(Attribute attribute) { throw new UnsupportedOperationException(); }

    public AttributeList getAttributes(String[] wanted) {
      AttributeList list = new AttributeList();
      for (String name : wanted) {
        try {
          list.add(new Attribute(name, getAttribute(name)));
        } catch (AttributeNotFoundException e) {
          // left out, as getAttributes does
        }
      }
      return list;
    }

    public AttributeList setAttributes(AttributeList attributes) { return new AttributeList(); }

    public Object invoke(String action, Object[] params, String[] signature) { throw new UnsupportedOperationException(); }

    public MBeanInfo getMBeanInfo() {
      List<MBeanAttributeInfo> infos = new ArrayList<>();
      for (String name : names) {
        String type = strings.containsKey(name) ? "java.lang.String" : "long";
        infos.add(new MBeanAttributeInfo(name, type, name, true, false, false));
      }
      infos.add(new MBeanAttributeInfo("LastAppliedChange", "java.lang.String", "big", true, false, false));
      return new MBeanInfo(Synthetic.class.getName(), "synthetic", infos.toArray(new MBeanAttributeInfo[0]), null, null, null);
    }
  }

  public static void main(String[] args) throws Exception {
    MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    server.registerMBean(new Edge(), new ObjectName("test.edge:type=Edge,name=first"));
    server.registerMBean(new EdgeMX(), new ObjectName("test.edge:type=EdgeMX"));
    for (int i = 1; i < args.length; i++) {
      if (args[i].equals("--beans")) {
        for (String bean : args[++i].split(";")) {
          String[] parts = bean.split("\\|", 2);
          server.registerMBean(new Synthetic(parts[1]), new ObjectName(parts[0]));
        }
      } else if (args[i].equals("--hostile")) {
        server.registerMBean(new Hung(), new ObjectName("test.hostile:type=Hung"));
        server.registerMBean(new Huge(), new ObjectName("test.hostile:type=Huge"));
        server.registerMBean(new Fine(), new ObjectName("test.hostile:type=Fine"));
      }
    }
    LoopbackJmx.serveUntilStdinCloses(LoopbackJmx.start(Integer.parseInt(args[0])));
  }
}
