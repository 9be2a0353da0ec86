import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * Prints "objectName TAB attribute TAB type" for every attribute of the MBeans matching a pattern, from
 * their MBeanInfo (not their values, so an empty map or a null still counts).
 * Usage: MBeanTypes SERVICE_URL PATTERN
 */
public final class MBeanTypes {
  private MBeanTypes() {}

  public static void main(String[] args) throws Exception {
    try (JMXConnector connector = JMXConnectorFactory.connect(new JMXServiceURL(args[0]))) {
      MBeanServerConnection conn = connector.getMBeanServerConnection();
      for (ObjectName name : conn.queryNames(new ObjectName(args[1]), null)) {
        for (MBeanAttributeInfo info : conn.getMBeanInfo(name).getAttributes()) {
          System.out.println(name.getCanonicalName() + "\t" + info.getName() + "\t" + info.getType());
        }
      }
    }
  }
}
