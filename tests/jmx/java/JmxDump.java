import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.management.Attribute;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.TabularData;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * A plain JDK JMX client, independent of the gateway: the test's "read it directly" oracle and the
 * benchmark's limit. Prints "objectName TAB attribute TAB value" for every readable attribute of the
 * MBeans matching the pattern (TabularData rows as "attribute[key]").
 * Usage: JmxDump <service-url> <pattern>
 *        JmxDump <service-url> <query-file> <repeat>: median ms of one bulk read of what a gateway query
 *        file asks for (lines: group TAB pattern TAB attr...), with the gateway's round trips and no more
 */
public final class JmxDump {
  public static void main(String[] args) throws Exception {
    try (JMXConnector connector = JMXConnectorFactory.connect(new JMXServiceURL(args[0]))) {
      MBeanServerConnection conn = connector.getMBeanServerConnection();
      if (args.length > 2) {
        System.out.println(benchmark(conn, args[1], Integer.parseInt(args[2])));
        return;
      }
      ObjectName pattern = new ObjectName(args[1]);
      for (ObjectName name : conn.queryNames(pattern, null)) {
        Set<String> unread = new LinkedHashSet<>(Arrays.asList(names(conn, name)));
        for (Attribute attribute : conn.getAttributes(name, unread.toArray(new String[0])).asList()) {
          unread.remove(attribute.getName());
          print(name, attribute.getName(), attribute.getValue());
        }
        for (String attribute : unread) {
          System.out.println(name.getCanonicalName() + "\t" + attribute + "\tunreadable");
        }
      }
    }
  }

  private static double benchmark(MBeanServerConnection conn, String queryFile, int repeat) throws Exception {
    List<String[]> lines = new ArrayList<>();
    for (String line : Files.readAllLines(Paths.get(queryFile))) {
      if (!line.isEmpty()) {
        lines.add(line.split("\t"));
      }
    }
    // The fewest round trips a JDK client needs, as the gateway does it: one query per domain, then one
    // getAttributes per MBean with everything wanted from it.
    double[] ms = new double[repeat];
    for (int round = 0; round < 2; round++) { // the first round warms the JIT up
      for (int i = 0; i < repeat; i++) {
        long start = System.nanoTime();
        Map<String, Set<ObjectName>> domains = new HashMap<>();
        Map<ObjectName, Set<String>> wanted = new LinkedHashMap<>();
        for (String[] parts : lines) {
          ObjectName pattern = new ObjectName(parts[1]);
          Set<ObjectName> inDomain = domains.get(pattern.getDomain());
          if (inDomain == null) {
            inDomain = conn.queryNames(new ObjectName(pattern.getDomain() + ":*"), null);
            domains.put(pattern.getDomain(), inDomain);
          }
          for (ObjectName name : inDomain) {
            if (pattern.apply(name)) {
              Set<String> attributes = wanted.computeIfAbsent(name, n -> new LinkedHashSet<>());
              for (int a = 2; a < parts.length; a++) {
                attributes.add(parts[a].replace("$", ""));
              }
            }
          }
        }
        for (Map.Entry<ObjectName, Set<String>> bean : wanted.entrySet()) {
          conn.getAttributes(bean.getKey(), bean.getValue().toArray(new String[0]));
        }
        ms[i] = (System.nanoTime() - start) / 1e6;
      }
    }
    Arrays.sort(ms);
    return ms[repeat / 2];
  }

  private static String[] names(MBeanServerConnection conn, ObjectName name) throws Exception {
    MBeanAttributeInfo[] infos = conn.getMBeanInfo(name).getAttributes();
    String[] names = new String[infos.length];
    for (int i = 0; i < infos.length; i++) {
      names[i] = infos[i].getName();
    }
    return names;
  }

  private static void print(ObjectName name, String attribute, Object value) {
    if (value instanceof TabularData) {
      for (Object row : ((TabularData) value).values()) {
        CompositeData data = (CompositeData) row;
        Set<String> keys = data.getCompositeType().keySet();
        if (keys.contains("key") && keys.contains("value")) {
          print(name, attribute + "[" + data.get("key") + "]", data.get("value"));
        }
      }
      return;
    }
    String text = value == null ? "null" : value.getClass().isArray() ? "array" : String.valueOf(value);
    System.out.println(name.getCanonicalName() + "\t" + attribute + "\t" + text.replace("\n", " ").replace("\t", " "));
  }
}
