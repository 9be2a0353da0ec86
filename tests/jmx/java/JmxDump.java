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
 * Usage: JmxDump <service-url> <pattern> [repeat]  (with repeat it prints only the median bulk-read ms)
 */
public final class JmxDump {
  public static void main(String[] args) throws Exception {
    try (JMXConnector connector = JMXConnectorFactory.connect(new JMXServiceURL(args[0]))) {
      MBeanServerConnection conn = connector.getMBeanServerConnection();
      ObjectName pattern = new ObjectName(args[1]);
      if (args.length > 2) {
        int repeat = Integer.parseInt(args[2]);
        double[] ms = new double[repeat];
        for (int i = 0; i < repeat; i++) {
          long start = System.nanoTime();
          for (ObjectName name : conn.queryNames(pattern, null)) {
            conn.getAttributes(name, names(conn, name));
          }
          ms[i] = (System.nanoTime() - start) / 1e6;
        }
        java.util.Arrays.sort(ms);
        System.out.println(ms[repeat / 2]);
        return;
      }
      for (ObjectName name : conn.queryNames(pattern, null)) {
        for (Attribute attribute : conn.getAttributes(name, names(conn, name)).asList()) {
          print(name, attribute.getName(), attribute.getValue());
        }
      }
    }
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
