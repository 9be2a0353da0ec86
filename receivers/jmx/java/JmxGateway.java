package jmxotel;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.reflect.Array;
import java.net.InetAddress;
import java.security.MessageDigest;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.InstanceNotFoundException;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServerConnection;
import javax.management.MBeanServerDelegate;
import javax.management.MBeanServerNotification;
import javax.management.MalformedObjectNameException;
import javax.management.NotificationFilterSupport;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.TabularData;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import javax.net.ServerSocketFactory;
import py4j.CallbackClient;
import py4j.Gateway;
import py4j.GatewayConnection;
import py4j.GatewayServer;
import py4j.GatewayServerListener;
import py4j.Protocol;
import py4j.Py4JException;
import py4j.Py4JServerConnection;
import py4j.ReturnObject;
import py4j.commands.CallCommand;
import py4j.commands.Command;

/**
 * The collector's bridge to JMX: a py4j server on 127.0.0.1 whose only callables are those of {@link
 * FleetEntryPoint} (open a target, register a
 * query, scrape, close a target), one JVM for every RMI target that shares its JVM-global
 * settings.
 *
 * <p>Started by the Python receiver, which writes on stdin the auth token, then {@code key=value} Java
 * system properties (TLS stores) and an empty line. Nothing secret is on the command line. The process
 * prints {@code LISTENING <port>} and exits when stdin reaches end of file, i.e. when its parent dies.
 *
 * <p>{@link MBeanReader} holds the MBean reading and flattening and knows nothing of py4j; {@link
 * InProcessGateway} serves the same reader inside a target JVM against its platform MBean server.
 */
public final class JmxGateway {

  private JmxGateway() {}

  /**
   * Reads every requested attribute of every MBean matching a query and renders a flat, line-oriented
   * reply that is cheap to parse.
   *
   * <p>Query: one line per ObjectName pattern, {@code group TAB pattern TAB attr TAB attr ...}; an attribute
   * prefixed with {@code $} is also wanted as a string (strings are never sent otherwise); {@code *} asks for
   * every readable attribute of the MBean (its MBeanInfo), a named one then only where it exists. Several lines
   * may share a group: an MBean matched by more than one of them is reported once.
   *
   * <p>Reply: {@code UP}, then per MBean {@code B TAB groups TAB objectName TAB key=value ...} followed by
   * {@code N TAB path TAB number}, {@code S TAB path TAB string}, {@code T TAB path TAB key TAB number}
   * (one row of a table or map), {@code X TAB path TAB reason} (a value that was read but cannot be a
   * point: NaN, a string, an array) and {@code E TAB attr TAB reason} (an attribute that could not be read:
   * its getter threw, or its MBean did not answer within the scrape's deadline). Composite items are
   * {@code attr.item}; an array or collection reports {@code attr.length}. A null value produces nothing.
   * Text fields escape backslash, tab, CR and LF.
   */
  public static final class MBeanReader {
    /** Longer strings are not sent (a state or an attribute value never needs them): {@code X too_long}. */
    static final int MAX_STRING = 4096;

    private MBeanReader() {}

    static final class BeanRequest {
      final Set<String> groups = new LinkedHashSet<>();
      final Set<String> attributes = new LinkedHashSet<>();
      final Set<String> wantedAsString = new LinkedHashSet<>();
      boolean all; // `*`: every readable attribute (the MBean's own list), the named ones only where they exist
      volatile String header; // its `B` line, rendered by the first read of this resolution (groups are final then)
      private volatile Wanted wanted; // what a read asks for, worked out by the first read of this resolution

      /** What a read of the named attributes asks for, given the strings the MBean declares (same set, same answer). */
      Wanted wanted(Set<String> declaredStrings) {
        Wanted known = wanted;
        if (known == null || known.declaredStrings != declaredStrings) {
          known = new Wanted(attributes, this, declaredStrings);
          wanted = known;
        }
        return known;
      }
    }

    /**
     * The attributes one read of an MBean asks for, in order, with whether each is wanted as a string, and the
     * {@code X} lines of the declared strings nobody wants (never transferred: they may be huge). Worked out
     * once per resolution, not per scrape: a scrape only matches the reply against it.
     */
    static final class Wanted {
      final Set<String> declaredStrings;
      final String[] names;
      final boolean[] asString;
      final String skipped;

      Wanted(Collection<String> attributes, BeanRequest request, Set<String> declaredStrings) {
        this.declaredStrings = declaredStrings;
        StringBuilder skipLines = new StringBuilder();
        List<String> reading = new ArrayList<>();
        for (String attribute : attributes) {
          if (declaredStrings.contains(attribute) && !request.wantedAsString.contains(attribute)) {
            skip(attribute, "string", skipLines);
          } else {
            reading.add(attribute);
          }
        }
        names = reading.toArray(new String[0]);
        asString = new boolean[names.length];
        for (int i = 0; i < names.length; i++) {
          asString[i] = request.wantedAsString.contains(names[i]);
        }
        skipped = skipLines.toString();
      }

      /** The usual reply: every attribute asked, in the order asked (no set of the missing ones to build). */
      boolean answeredInOrder(List<Attribute> values) {
        if (values.size() != names.length) {
          return false;
        }
        for (int i = 0; i < names.length; i++) {
          if (!names[i].equals(values.get(i).getName())) {
            return false;
          }
        }
        return true;
      }
    }

    /** Resolves and reads one MBean after the other (the in-JVM gateway's plain path). */
    public static String read(MBeanServerConnection connection, String query)
        throws IOException, MalformedObjectNameException {
      StringBuilder out = new StringBuilder(4096).append("UP\n");
      for (Map.Entry<ObjectName, BeanRequest> entry : resolve(connection, query).entrySet()) {
        try {
          out.append(readBean(connection, entry.getKey(), entry.getValue(), Set.of()));
        } catch (InstanceNotFoundException e) {
          // unregistered between the query and the read: it is simply gone
        }
      }
      return out.toString();
    }

    /** Every MBean the query's patterns match, with what is wanted of it: one remote query per domain. */
    static Map<ObjectName, BeanRequest> resolve(MBeanServerConnection connection, String query)
        throws IOException, MalformedObjectNameException {
      Map<ObjectName, BeanRequest> beans = new LinkedHashMap<>();
      Map<String, Set<ObjectName>> domains = new HashMap<>(); // one remote query per domain per resolution
      for (String line : query.split("\n")) {
        if (line.isEmpty()) {
          continue;
        }
        String[] parts = line.split("\t");
        if (parts.length < 2) {
          throw new MalformedObjectNameException("query line needs a group and a pattern: " + line);
        }
        ObjectName pattern = new ObjectName(parts[1]);
        for (ObjectName name : matching(connection, pattern, domains)) {
          BeanRequest request = beans.computeIfAbsent(name, n -> new BeanRequest());
          request.groups.add(parts[0]);
          for (int i = 2; i < parts.length; i++) {
            String attribute = parts[i];
            if (attribute.equals("*")) {
              request.all = true;
              continue;
            }
            if (attribute.startsWith("$")) {
              attribute = attribute.substring(1);
              request.wantedAsString.add(attribute);
            }
            request.attributes.add(attribute);
          }
        }
      }
      return beans;
    }

    /** Whether resolving {@code query} asks the target (a pattern), rather than only parsing exact names. */
    static boolean queriesNames(String query) {
      for (String line : query.split("\n")) {
        String[] parts = line.split("\t");
        try {
          if (parts.length >= 2 && new ObjectName(parts[1]).isPattern()) {
            return true;
          }
        } catch (MalformedObjectNameException e) {
          return false; // resolving it fails at once, with the error the reply must carry
        }
      }
      return false;
    }

    /**
     * The MBeans a pattern matches. An exact name needs no round trip (a missing MBean shows up as
     * InstanceNotFound when read); patterns of one literal domain share a single query of that domain.
     */
    private static Set<ObjectName> matching(MBeanServerConnection connection, ObjectName pattern,
        Map<String, Set<ObjectName>> domains) throws IOException, MalformedObjectNameException {
      if (!pattern.isPattern()) {
        return Set.of(pattern);
      }
      if (pattern.isDomainPattern()) {
        return connection.queryNames(pattern, null);
      }
      Set<ObjectName> inDomain = domains.get(pattern.getDomain());
      if (inDomain == null) {
        inDomain = connection.queryNames(new ObjectName(pattern.getDomain() + ":*"), null);
        domains.put(pattern.getDomain(), inDomain);
      }
      Set<ObjectName> matching = new LinkedHashSet<>();
      for (ObjectName name : inDomain) {
        if (pattern.apply(name)) {
          matching.add(name);
        }
      }
      return matching;
    }

    /**
     * One MBean's reply lines. An attribute that fails (its getter throws, even an Error such as an
     * OutOfMemoryError while a huge value is received) costs its own {@code E} line, never the others.
     * IOException (the connection is gone) and InstanceNotFoundException (the MBean is) are the caller's.
     */
    static String readBean(MBeanServerConnection connection, ObjectName name, BeanRequest request,
        Set<String> declaredStrings) throws IOException, InstanceNotFoundException {
      StringBuilder out = beanLine(name, request);
      Wanted wanted = request.all
          ? new Wanted(readable(connection, name), request, declaredStrings)
          : request.wanted(declaredStrings);
      out.append(wanted.skipped);
      if (wanted.names.length == 0) {
        return out.toString(); // nothing asked (the receiver counting a domain's MBeans): no round trip
      }
      AttributeList values;
      try {
        values = connection.getAttributes(name, wanted.names);
      } catch (IOException | InstanceNotFoundException e) {
        throw e;
      } catch (Exception | Error e) {
        values = new AttributeList(); // the whole read failed: each attribute is retried below for its reason
      }
      List<Attribute> read = values.asList();
      if (wanted.answeredInOrder(read)) {
        for (int i = 0; i < wanted.names.length; i++) {
          flatten(wanted.names[i], read.get(i).getValue(), wanted.asString[i], out);
        }
        return out.toString();
      }
      Set<String> missing = new LinkedHashSet<>(Arrays.asList(wanted.names));
      for (Attribute attribute : read) {
        missing.remove(attribute.getName());
        flatten(attribute.getName(), attribute.getValue(), request.wantedAsString.contains(attribute.getName()), out);
      }
      for (String attribute : missing) {
        // getAttributes leaves out what it could not read; one more call tells why (or finds the value).
        try {
          flatten(attribute, connection.getAttribute(name, attribute), request.wantedAsString.contains(attribute), out);
        } catch (IOException | InstanceNotFoundException e) {
          throw e;
        } catch (Exception | Error e) {
          errored(attribute, reason(e), out);
        }
      }
      return out.toString();
    }

    /** `*`: every readable attribute the MBean declares (its MBeanInfo), one more round trip. */
    static Set<String> readable(MBeanServerConnection connection, ObjectName name)
        throws IOException, InstanceNotFoundException {
      Set<String> attributes = new LinkedHashSet<>();
      try {
        for (MBeanAttributeInfo info : connection.getMBeanInfo(name).getAttributes()) {
          if (info.isReadable()) {
            attributes.add(info.getName());
          }
        }
      } catch (IOException | InstanceNotFoundException e) {
        throw e;
      } catch (Exception e) {
        // no usable MBeanInfo: nothing to read under `*`
      }
      return attributes;
    }

    /** The attributes an MBean declares as strings (its MBeanInfo); none if it cannot tell. */
    static Set<String> declaredStrings(MBeanServerConnection connection, ObjectName name) throws IOException {
      Set<String> strings = new HashSet<>();
      try {
        for (MBeanAttributeInfo attribute : connection.getMBeanInfo(name).getAttributes()) {
          if (String.class.getName().equals(attribute.getType())) {
            strings.add(attribute.getName());
          }
        }
      } catch (IOException e) {
        throw e;
      } catch (Exception e) {
        // no usable MBeanInfo: every wanted attribute is read
      }
      return strings;
    }

    /** The MBean's {@code B} line and an {@code E} line for each wanted attribute: it was not read. */
    static String erroredBean(ObjectName name, BeanRequest request, String reason) {
      StringBuilder out = beanLine(name, request);
      for (String attribute : request.attributes) {
        errored(attribute, reason, out);
      }
      return out.toString();
    }

    /** A reply for one MBean, started with its {@code B} line (rendered once per resolution, not per scrape). */
    private static StringBuilder beanLine(ObjectName name, BeanRequest request) {
      String header = request.header;
      if (header == null) {
        StringBuilder line = new StringBuilder(256);
        line.append("B\t").append(String.join(",", request.groups)).append('\t');
        escape(name.getCanonicalName(), line);
        for (Map.Entry<String, String> key : name.getKeyPropertyList().entrySet()) {
          line.append('\t');
          escape(key.getKey() + "=" + key.getValue(), line);
        }
        header = line.append('\n').toString();
        request.header = header;
      }
      return new StringBuilder(header.length() + 1024).append(header);
    }

    private static void errored(String attribute, String reason, StringBuilder out) {
      out.append("E\t");
      escape(attribute, out);
      out.append('\t').append(reason).append('\n');
    }

    private static String reason(Throwable e) {
      return rootCause(e).getClass().getSimpleName();
    }

    /** What actually went wrong: RMI and reflection wrap it in several layers. */
    static Throwable rootCause(Throwable e) {
      Throwable root = e;
      while (root.getCause() != null && root.getCause() != root) {
        root = root.getCause();
      }
      return root;
    }

    static void flatten(String path, Object value, boolean wantString, StringBuilder out) {
      if (value == null) {
        return;
      }
      if (value instanceof Boolean) {
        number(path, ((Boolean) value) ? "1" : "0", out);
      } else if (value instanceof Number) {
        String text = numberText((Number) value);
        if (text.startsWith("!")) {
          skip(path, text.substring(1), out);
        } else {
          number(path, text, out);
        }
      } else if (value instanceof String || value instanceof Character || value instanceof Enum) {
        String text = value instanceof Enum ? ((Enum<?>) value).name() : value.toString();
        if (wantString && text.length() > MAX_STRING) {
          skip(path, "too_long", out);
        } else if (wantString) {
          out.append("S\t");
          escape(path, out);
          out.append('\t');
          escape(text, out);
          out.append('\n');
        } else {
          skip(path, "string", out);
        }
      } else if (value instanceof CompositeData) {
        CompositeData data = (CompositeData) value;
        for (String item : data.getCompositeType().keySet()) {
          flatten(path + "." + item, data.get(item), wantString, out);
        }
      } else if (value instanceof TabularData) {
        flattenTable(path, (TabularData) value, out);
      } else if (value instanceof Map) {
        for (Map.Entry<?, ?> row : ((Map<?, ?>) value).entrySet()) {
          tableRow(path, String.valueOf(row.getKey()), row.getValue(), out);
        }
      } else if (value.getClass().isArray() || value instanceof Collection) {
        int length = value instanceof Collection ? ((Collection<?>) value).size() : Array.getLength(value);
        number(path + ".length", Integer.toString(length), out);
        skip(path, "array", out);
      } else {
        skip(path, value.getClass().getSimpleName(), out);
      }
    }

    /** A map as an MXBean renders it (rows of key, value) gives one row per key; any other table one row
     * per index (its key columns joined by commas) and numeric column ({@code attr.column}). */
    private static void flattenTable(String path, TabularData table, StringBuilder out) {
      List<String> index = table.getTabularType().getIndexNames();
      Set<String> columns = table.getTabularType().getRowType().keySet();
      boolean isMap = columns.size() == 2 && columns.contains("key") && columns.contains("value");
      for (Object rowObject : table.values()) {
        CompositeData row = (CompositeData) rowObject;
        if (isMap) {
          tableRow(path, String.valueOf(row.get("key")), row.get("value"), out);
          continue;
        }
        List<String> keyParts = new ArrayList<>();
        for (String column : index) {
          keyParts.add(String.valueOf(row.get(column)));
        }
        String key = String.join(",", keyParts);
        for (String column : columns) {
          if (!index.contains(column)) {
            tableRow(path + "." + column, key, row.get(column), out);
          }
        }
      }
    }

    private static void tableRow(String path, String key, Object value, StringBuilder out) {
      if (value == null) {
        return;
      }
      String text;
      if (value instanceof Boolean) {
        text = ((Boolean) value) ? "1" : "0";
      } else if (value instanceof Number) {
        text = numberText((Number) value);
      } else {
        text = "!" + value.getClass().getSimpleName();
      }
      if (text.startsWith("!")) {
        skip(path, text.substring(1), out);
        return;
      }
      out.append("T\t");
      escape(path, out);
      out.append('\t');
      escape(key, out);
      out.append('\t').append(text).append('\n');
    }

    /** Decimal text of a number, or {@code !reason} when it is not a finite value. */
    private static String numberText(Number value) {
      if (value instanceof Double || value instanceof Float) {
        double d = value.doubleValue();
        if (Double.isNaN(d)) {
          return "!nan";
        }
        if (Double.isInfinite(d)) {
          return "!infinite";
        }
        return Double.toString(d);
      }
      if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte
          || value instanceof java.util.concurrent.atomic.AtomicLong
          || value instanceof java.util.concurrent.atomic.AtomicInteger) {
        return Long.toString(value.longValue());
      }
      if (value instanceof java.math.BigInteger) {
        return value.toString();
      }
      double d = value.doubleValue();
      return Double.isFinite(d) ? Double.toString(d) : "!infinite";
    }

    private static void number(String path, String text, StringBuilder out) {
      out.append("N\t");
      escape(path, out);
      out.append('\t').append(text).append('\n');
    }

    private static void skip(String path, String reason, StringBuilder out) {
      out.append("X\t");
      escape(path, out);
      out.append('\t').append(reason).append('\n');
    }

    static void escape(String text, StringBuilder out) {
      if (text.indexOf('\\') < 0 && text.indexOf('\t') < 0 && text.indexOf('\n') < 0 && text.indexOf('\r') < 0) {
        out.append(text); // the usual case: one copy, not an append per character
        return;
      }
      for (int i = 0; i < text.length(); i++) {
        char c = text.charAt(i);
        switch (c) {
          case '\\': out.append("\\\\"); break;
          case '\t': out.append("\\t"); break;
          case '\n': out.append("\\n"); break;
          case '\r': out.append("\\r"); break;
          default: out.append(c);
        }
      }
    }

    static String unescape(String text) {
      StringBuilder out = new StringBuilder(text.length());
      for (int i = 0; i < text.length(); i++) {
        char c = text.charAt(i);
        if (c == '\\' && i + 1 < text.length()) {
          char next = text.charAt(++i);
          out.append(next == 't' ? '\t' : next == 'n' ? '\n' : next == 'r' ? '\r' : next);
        } else {
          out.append(c);
        }
      }
      return out.toString();
    }
  }

  /** Where a scrape reads from: a remote JMX connection, or the platform MBean server of this JVM. */
  interface Target {
    String scrape(String query);
  }

  /** A scrape that got no answer from any MBean in time: the target is not answering (down). */
  static final class NoAnswer extends IOException {
    NoAnswer(String message) {
      super(message);
    }
  }

  /**
   * One connection's reading: MBeans read concurrently on the target's own bounded pool, each within the
   * scrape's deadline, and the names a query resolved to cached between scrapes.
   *
   * <p>An MBean whose read is still running from an earlier scrape (a getter that hangs) is not read again
   * until it returns: it holds one thread, never all of them, and costs only its own points.
   *
   * <p>With a warm cache a scrape is one round trip in time: one {@code getAttributes} per MBean, all at
   * once, no {@code queryNames}. The cache is dropped when the target registers or unregisters an MBean
   * (a notification from its MBeanServerDelegate), when a cached MBean is gone, and every
   * {@value #RESOLVE_EVERY} scrapes in case notifications are lost.
   */
  static final class Session {
    static final int RESOLVE_EVERY = 30;
    private static final int MAX_CACHED_QUERIES = 8;
    final JMXConnector connector;
    private final MBeanServerConnection connection;
    private final ExecutorService pool;
    private final Map<String, Map<ObjectName, MBeanReader.BeanRequest>> plans = new HashMap<>();
    private final Map<String, Integer> uses = new HashMap<>();
    private final Map<ObjectName, Future<String>> hung = new HashMap<>(); // reads past their deadline
    private final Map<ObjectName, Set<String>> declaredStrings = new ConcurrentHashMap<>(); // until MBeans change
    private volatile boolean changed;

    Session(JMXConnector connector, ExecutorService pool) throws IOException {
      this.connector = connector;
      this.connection = connector.getMBeanServerConnection();
      this.pool = pool;
      NotificationFilterSupport registrations = new NotificationFilterSupport();
      registrations.enableType(MBeanServerNotification.REGISTRATION_NOTIFICATION);
      registrations.enableType(MBeanServerNotification.UNREGISTRATION_NOTIFICATION);
      try {
        connection.addNotificationListener(MBeanServerDelegate.DELEGATE_NAME, (n, h) -> changed = true,
            registrations, null);
      } catch (Exception e) {
        // no notifications from this server: the periodic re-resolution still finds new MBeans
      }
    }

    static void closeQuietly(JMXConnector connector) {
      try {
        connector.close();
      } catch (IOException | RuntimeException ignored) {
        // the target is gone already
      }
    }

    /** One scrape's MBean reads, submitted to the target's pool; {@link #collect} waits for them. */
    static final class Reads {
      final Map<ObjectName, MBeanReader.BeanRequest> plan;
      final Map<ObjectName, Future<String>> futures;

      Reads(Map<ObjectName, MBeanReader.BeanRequest> plan, Map<ObjectName, Future<String>> futures) {
        this.plan = plan;
        this.futures = futures;
      }
    }

    /** Resolves (when it must), reads and collects within the deadline: the scrape of one caller. */
    String read(String query, long deadline) throws IOException, MalformedObjectNameException {
      return collect(begin(query, true), deadline);
    }

    /**
     * Submits the reads of the query's MBeans, resolving the names first when they are not cached (or are
     * stale). Without {@code mayResolve}, a query whose resolution asks the target (an ObjectName pattern)
     * returns null at once instead: a remote call, which a caller that must not wait on this target leaves
     * to a thread of its own.
     */
    synchronized Reads begin(String query, boolean mayResolve) throws IOException, MalformedObjectNameException {
      Map<ObjectName, MBeanReader.BeanRequest> plan = plans.get(query);
      int used = uses.getOrDefault(query, 0);
      boolean stale = changed || used >= RESOLVE_EVERY;
      if (plan == null || stale) {
        if (!mayResolve && MBeanReader.queriesNames(query)) {
          return null;
        }
        if (changed) { // an MBean registered again under its name may declare other types; the periodic
          declaredStrings.clear(); // resolution keeps them (a getMBeanInfo per MBean, the costliest call)
        }
        changed = false; // before resolving: a registration during it marks the new plan stale again
        plan = MBeanReader.resolve(connection, query);
        if (plans.size() >= MAX_CACHED_QUERIES && !plans.containsKey(query)) {
          plans.clear();
          uses.clear();
        }
        plans.put(query, plan);
        used = 0;
      }
      uses.put(query, used + 1);
      Map<ObjectName, Future<String>> reads = new LinkedHashMap<>();
      for (Map.Entry<ObjectName, MBeanReader.BeanRequest> bean : plan.entrySet()) {
        Future<String> previous = hung.get(bean.getKey());
        if (previous != null && !previous.isDone()) {
          reads.put(bean.getKey(), previous); // still stuck in its getter: no second thread for it
        } else {
          reads.put(bean.getKey(), pool.submit(() -> readBean(bean.getKey(), bean.getValue())));
        }
      }
      hung.clear();
      return new Reads(plan, reads);
    }

    /** The reply of {@code reads}: each MBean's part, or its error if it did not answer by the deadline. */
    synchronized String collect(Reads reads, long deadline) throws IOException {
      StringBuilder out = new StringBuilder(4096).append("UP\n");
      int answered = 0;
      int late = 0;
      for (Map.Entry<ObjectName, Future<String>> read : reads.futures.entrySet()) {
        MBeanReader.BeanRequest request = reads.plan.get(read.getKey());
        try {
          out.append(read.getValue().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
          answered++;
        } catch (TimeoutException e) {
          hung.put(read.getKey(), read.getValue()); // queued or stuck: the next scrape waits on this one read
          late++;
          out.append(MBeanReader.erroredBean(read.getKey(), request, "timeout"));
        } catch (ExecutionException e) {
          Throwable cause = e.getCause();
          if (cause instanceof InstanceNotFoundException) {
            changed = true; // gone since it was resolved: resolve again next scrape
            answered++;
          } else if (MBeanReader.rootCause(cause) instanceof SocketTimeoutException) {
            late++; // the RMI response timeout ended a getter that hung: that MBean's problem, not the target's
            out.append(MBeanReader.erroredBean(read.getKey(), request, "timeout"));
          } else if (cause instanceof IOException) {
            throw (IOException) cause;
          } else {
            answered++;
            out.append(MBeanReader.erroredBean(read.getKey(), request, MBeanReader.reason(cause)));
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new NoAnswer("interrupted");
        }
      }
      if (answered == 0 && late > 0) {
        throw new NoAnswer("no MBean answered within the scrape timeout");
      }
      return out.toString();
    }

    /**
     * One MBean, on a pool thread; its MBeanInfo (which strings not to transfer) is asked once, and again
     * only after the target registered or unregistered MBeans.
     */
    private String readBean(ObjectName name, MBeanReader.BeanRequest request)
        throws IOException, InstanceNotFoundException {
      Set<String> strings = declaredStrings.get(name);
      if (strings == null) {
        strings = MBeanReader.declaredStrings(connection, name);
        declaredStrings.put(name, strings);
      }
      return MBeanReader.readBean(connection, name, request, strings);
    }
  }

  /**
   * One remote JMX target: connects on first use, forgets the connection on any I/O error. Its connect
   * and its MBean reads run on its own pool of {@value #THREADS} threads: a getter or a connect that hangs
   * holds one of them (until the RMI response timeout frees it), never another target's.
   */
  static final class RemoteTarget {
    static final int THREADS = 4;
    /**
     * How long the target holds a notification fetch open when it has nothing to send: just under the RMI
     * response timeout (10 s, gateway.py). JMX's default (60 s) outlasts that timeout, so every fetch ended in
     * a SocketTimeoutException, a dropped connection, a ping and a new connection, every 10 s per target.
     */
    static final long NOTIFICATION_FETCH_MILLIS = Long.getLong("sun.rmi.transport.tcp.responseTimeout", 0) * 9 / 10;
    private final String url;
    private final Map<String, Object> environment = new HashMap<>();
    private final ThreadPoolExecutor pool;
    private Session session;
    private Future<Session> connecting;
    private volatile Future<String> slow; // a whole scrape on a batch's slow lane (connecting, resolving)

    RemoteTarget(String url, String username, String password) {
      this.url = url;
      if (!username.isEmpty()) {
        environment.put(JMXConnector.CREDENTIALS, new String[] {username, password});
      }
      if (NOTIFICATION_FETCH_MILLIS > 0) { // without a response timeout, JMX's own fetch timeout is fine
        environment.put("jmx.remote.x.notification.fetch.timeout", NOTIFICATION_FETCH_MILLIS);
      }
      // No heartbeat thread per target (JMX's checks the connection every minute): a scrape finds a broken
      // connection itself, on time, and reconnects.
      environment.put("jmx.remote.x.client.connection.check.period", 0L);
      pool = new ThreadPoolExecutor(THREADS, THREADS, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), runnable -> {
        Thread thread = new Thread(runnable, "jmx-target");
        thread.setDaemon(true);
        return thread;
      });
      pool.allowCoreThreadTimeOut(true); // an idle target holds no thread
      connecting = pool.submit(this::connect); // from the moment it is opened, not within a scrape's time
    }

    /** Connects and subscribes to registrations: all on the pool, so a slow target costs only the deadline. */
    private Session connect() throws IOException {
      JMXConnector connector = JMXConnectorFactory.connect(new JMXServiceURL(url), environment);
      try {
        return new Session(connector, pool);
      } catch (IOException | RuntimeException e) {
        Session.closeQuietly(connector);
        throw e;
      }
    }

    /** The reply for one scrape, within {@code timeoutMillis}; never throws (py4j would ask for the trace). */
    synchronized String scrape(String query, long timeoutMillis) {
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
      try {
        if (session == null) {
          if (connecting == null) {
            connecting = pool.submit(this::connect);
          }
          try {
            session = connecting.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
          } catch (TimeoutException e) {
            return "DOWN\tconnect timed out (still trying)\n"; // the next scrape waits on the same attempt
          } finally {
            if (connecting.isDone()) {
              connecting = null;
            }
          }
        }
        return session.read(query, deadline);
      } catch (Exception | Error e) {
        return failure(e);
      }
    }

    /**
     * Starts this target's part of a batch without waiting on it. Connected, with the query's names
     * cached (the steady state), its MBean reads are submitted now and the caller collects them; otherwise
     * (connecting, resolving: remote calls that may hang) the whole {@link #scrape} runs on {@code
     * slowLane}, and while it runs this target's next scrapes answer at once that it is still busy.
     */
    Scrape begin(String query, long timeoutMillis, ExecutorService slowLane) {
      Future<String> previous = slow;
      if (previous != null && !previous.isDone()) {
        return new Scrape("DOWN\tthe previous scrape of this target has not returned yet\n");
      }
      synchronized (this) {
        if (session != null) {
          try {
            Session.Reads reads = session.begin(query, false);
            if (reads != null) {
              return new Scrape(this, session, reads);
            }
          } catch (Exception | Error e) {
            return new Scrape(failure(e));
          }
        }
        slow = slowLane.submit(() -> scrape(query, timeoutMillis));
        return new Scrape(slow);
      }
    }

    /** What a scrape that threw answers: the target DOWN (reconnecting next time), a bad query an ERROR. */
    private synchronized String failure(Throwable e) {
      if (e instanceof ExecutionException) {
        return error("DOWN", e); // the connect failed: the next scrape tries again
      }
      if (e instanceof MalformedObjectNameException) {
        return error("ERROR", e);
      }
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
        return error("DOWN", e);
      }
      disconnect(); // I/O, security, anything else: reconnect next time
      return error("DOWN", e);
    }

    /** One line: the root cause and the first line of its message. */
    static String error(String status, Throwable e) {
      Throwable root = MBeanReader.rootCause(e);
      String message = root.getMessage() == null ? "" : ": " + root.getMessage().split("\n")[0];
      StringBuilder out = new StringBuilder(status).append('\t');
      MBeanReader.escape(root.getClass().getSimpleName() + message, out);
      return out.append('\n').toString();
    }

    private void disconnect() {
      Session closing = session;
      session = null;
      if (closing != null) { // closing a connection to a hung target can block: not on the caller's thread
        pool.execute(() -> Session.closeQuietly(closing.connector));
      }
    }

    synchronized void close() {
      disconnect();
      if (connecting != null) {
        connecting.cancel(true);
      }
      pool.shutdown();
    }
  }

  /** One target's part of a batch: a reply already known, a whole scrape running, or MBean reads to collect. */
  static final class Scrape {
    private final String known;
    private final Future<String> running;
    private final RemoteTarget target;
    private final Session session;
    private final Session.Reads reads;

    Scrape(String known) {
      this(known, null, null, null, null);
    }

    Scrape(Future<String> running) {
      this(null, running, null, null, null);
    }

    Scrape(RemoteTarget target, Session session, Session.Reads reads) {
      this(null, null, target, session, reads);
    }

    private Scrape(String known, Future<String> running, RemoteTarget target, Session session, Session.Reads reads) {
      this.known = known;
      this.running = running;
      this.target = target;
      this.session = session;
      this.reads = reads;
    }

    /** The reply, by {@code deadline} (System.nanoTime()); never throws. */
    String reply(long deadline) {
      if (known != null) {
        return known;
      }
      long left = Math.max(0, deadline - System.nanoTime());
      try {
        if (running != null) {
          return running.get(left, TimeUnit.NANOSECONDS);
        }
        return session.collect(reads, deadline);
      } catch (TimeoutException e) {
        return "DOWN\tno reply within the scrape timeout (still trying)\n";
      } catch (Exception | Error e) {
        return running != null ? RemoteTarget.error("DOWN", e) : target.failure(e);
      }
    }
  }

  /** What a py4j client may call on the in-JVM gateway, and all it may call. */
  public static final class EntryPoint {
    static final Set<String> METHODS = Set.of("scrape");
    private final Target target;

    EntryPoint(Target target) {
      this.target = target;
    }

    public String scrape(String query) {
      return target.scrape(query);
    }
  }

  /**
   * What the collector may call on its own gateway JVM: many RMI targets, each registered once by an id the
   * collector chooses (its credentials travel on this authenticated loopback connection, never the command
   * line), then scraped: all the targets of a receiver in one call, each within its own timeout.
   */
  public static final class FleetEntryPoint {
    static final Set<String> METHODS = Set.of("open", "query", "scrape", "close");
    // A slow-lane scrape answers by its own deadline, measured from a moment after the batch's start.
    static final int SLOW_LANE_GRACE_MILLIS = 100;
    private final Map<String, RemoteTarget> targets = new ConcurrentHashMap<>();
    private final Map<String, String> queries = new ConcurrentHashMap<>();
    // Scrapes that may wait on a target (connecting, resolving names): a thread each while they run, none idle.
    private final ExecutorService slowLane = Executors.newCachedThreadPool(runnable -> {
      Thread thread = new Thread(runnable, "jmx-slow-scrape");
      thread.setDaemon(true);
      return thread;
    });

    /**
     * Registers a query under a handle the collector chose, so that a scrape names it instead of sending it:
     * a query is kilobytes that py4j would escape and unescape character by character on every scrape.
     */
    public void query(String handle, String query) {
      queries.put(handle, query);
    }

    public void open(String id, String url, String username, String password) {
      RemoteTarget previous = targets.put(id, new RemoteTarget(url, username, password));
      if (previous != null) {
        previous.close();
      }
    }

    /**
     * The replies of the targets {@code ids} (one per line) to a registered query ({@link #query}), in their
     * order, each as its length in code points, a newline and the reply: one call per scrape for all of a
     * receiver's targets. Every target's MBean reads are started first, then collected, each target within
     * {@code timeoutMillis} of the call; a target that is connecting or resolving does that on a thread of
     * its own, so a target that hangs costs its own reply, never another's.
     */
    public String scrape(String ids, String queryHandle, int timeoutMillis) {
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis + SLOW_LANE_GRACE_MILLIS);
      String query = queries.get(queryHandle);
      List<Scrape> scrapes = new ArrayList<>();
      for (String id : ids.split("\n")) {
        RemoteTarget target = targets.get(id);
        if (query == null) {
          scrapes.add(new Scrape("ERROR\tno query registered as " + queryHandle + "\n"));
        } else if (target == null) {
          scrapes.add(new Scrape("DOWN\tnot opened in this gateway\n"));
        } else {
          scrapes.add(target.begin(query, timeoutMillis, slowLane));
        }
      }
      StringBuilder out = new StringBuilder(scrapes.size() * 3072);
      for (Scrape scrape : scrapes) {
        String reply = scrape.reply(deadline);
        out.append(reply.codePointCount(0, reply.length())).append('\n').append(reply);
      }
      return out.toString();
    }

    public void close(String id) {
      RemoteTarget target = targets.remove(id);
      if (target != null) {
        target.close();
      }
    }
  }

  /** Refuses every call but the entry point's own methods: no getClass(), no other objects. */
  static final class ReadOnlyGateway extends Gateway {
    private final Set<String> methods;

    ReadOnlyGateway(EntryPoint entryPoint) {
      this(entryPoint, EntryPoint.METHODS);
    }

    ReadOnlyGateway(Object entryPoint, Set<String> methods) {
      // GatewayServer insists on a callback client; this one is never used (no Python objects are accepted).
      super(entryPoint, new CallbackClient(GatewayServer.DEFAULT_PYTHON_PORT, InetAddress.getLoopbackAddress()));
      this.methods = methods;
    }

    @Override
    public ReturnObject invoke(String methodName, String targetObjectId, List<Object> args) {
      if (!Protocol.ENTRY_POINT_OBJECT_ID.equals(targetObjectId) || !methods.contains(methodName)) {
        return ReturnObject.getErrorReturnObject(new Py4JException("refused: " + methodName));
      }
      return super.invoke(methodName, targetObjectId, args);
    }

    @Override
    public ReturnObject invoke(String fqn, List<Object> args) {
      return ReturnObject.getErrorReturnObject(new Py4JException("refused: " + fqn));
    }
  }

  /** Answers any py4j command other than a call with an error (silence would leave the client hanging). */
  public static final class RefusedCommand implements Command {
    private final String name;

    RefusedCommand(String name) {
      this.name = name;
    }

    @Override
    public void execute(String commandName, BufferedReader reader, BufferedWriter writer) throws IOException {
      String line;
      do {
        line = reader.readLine();
      } while (line != null && !line.equals(String.valueOf(Protocol.END)));
      writer.write(Protocol.getOutputErrorCommand("refused command " + commandName));
      writer.flush();
    }

    @Override
    public String getCommandName() {
      return name;
    }

    @Override
    public void init(Gateway gateway, Py4JServerConnection connection) {}
  }

  /**
   * A connection that only knows the call command; every other base command is refused. It checks the
   * token itself (constant-time, counted in {@link #REFUSED}) instead of py4j's plain string comparison.
   */
  static final class ReadOnlyConnection extends GatewayConnection {
    /** Connections refused for a missing or wrong token, since this JVM started. */
    static final AtomicLong REFUSED = new AtomicLong();
    private final byte[] expectedToken;

    ReadOnlyConnection(Gateway gateway, Socket socket, String authToken, List<GatewayServerListener> listeners)
        throws IOException {
      super(gateway, socket, null, null, listeners);
      this.expectedToken = authToken == null ? null : authToken.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    protected void initCommands(Gateway gateway, List<Class<? extends Command>> classes) {
      super.initCommands(gateway, Arrays.asList(CallCommand.class));
      for (Class<? extends Command> clazz : classes) {
        if (clazz == CallCommand.class) {
          continue;
        }
        try {
          String name = clazz.getDeclaredConstructor().newInstance().getCommandName();
          commands.put(name, new RefusedCommand(name));
        } catch (ReflectiveOperationException e) {
          throw new IllegalStateException("cannot list py4j command " + clazz.getName(), e);
        }
      }
    }

    @Override
    public void startConnection() {
      Thread thread = new Thread(this, "collector-gateway-connection");
      thread.setDaemon(true); // never keeps a target JVM alive
      thread.start();
    }

    @Override
    public void run() {
      if (expectedToken != null && !authenticated()) {
        shutdown(true);
        return;
      }
      super.run();
    }

    /**
     * py4j's auth exchange: the client sends the auth command and the token, one line each. A refusal is
     * counted before it is answered, so a client that saw it also sees it counted.
     */
    private boolean authenticated() {
      try {
        String command = reader.readLine();
        String token = reader.readLine();
        boolean ok = "A".equals(command) && token != null
            && MessageDigest.isEqual(expectedToken, token.getBytes(StandardCharsets.UTF_8));
        if (!ok) {
          REFUSED.incrementAndGet();
        }
        writer.write(ok ? Protocol.getOutputVoidCommand() : Protocol.getOutputErrorCommand("authentication refused"));
        writer.flush();
        return ok;
      } catch (IOException e) {
        REFUSED.incrementAndGet(); // no auth exchange at all (a plaintext client of a TLS gateway, a probe)
        return false;
      }
    }
  }

  /** TCP_NODELAY on every connection (replies over ~8 KiB would otherwise stall ~40 ms). */
  static final class Server extends GatewayServer {
    private final String token;

    /** Loopback, an ephemeral port, plain sockets: the collector's own gateway JVM. */
    Server(Gateway gateway, String token) {
      this(gateway, token, InetAddress.getLoopbackAddress(), 0, ServerSocketFactory.getDefault());
    }

    Server(Gateway gateway, String token, InetAddress address, int port, ServerSocketFactory sockets) {
      super(gateway, port, address, GatewayServer.DEFAULT_CONNECT_TIMEOUT, GatewayServer.DEFAULT_READ_TIMEOUT, null,
          sockets);
      this.token = token;
    }

    @Override
    protected Py4JServerConnection createConnection(Gateway gateway, Socket socket) throws IOException {
      socket.setTcpNoDelay(true);
      ReadOnlyConnection connection = new ReadOnlyConnection(gateway, socket, token, getListeners());
      connection.startConnection();
      return connection;
    }

    /** Binds now (a bind error is thrown here), then accepts on a daemon thread that never keeps the JVM up. */
    void listenInBackground() {
      startSocket();
      Thread thread = new Thread(this, "collector-gateway");
      thread.setDaemon(true);
      thread.start();
    }
  }

  /**
   * Reads from stdin the auth token, then {@code key=value} Java system properties (the JVM-global TLS
   * stores of this gateway's group of targets) and an empty line; prints {@code LISTENING <port>}; exits
   * when stdin reaches end of file, i.e. when the collector is gone.
   */
  public static void main(String[] args) throws IOException {
    GatewayServer.turnLoggingOff();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String token = in.readLine();
    if (token == null || token.isEmpty()) {
      System.err.println("jmx gateway: no auth token on stdin");
      System.exit(2);
    }
    for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
      int eq = line.indexOf('=');
      System.setProperty(MBeanReader.unescape(line.substring(0, eq)), MBeanReader.unescape(line.substring(eq + 1)));
    }
    Server server = new Server(new ReadOnlyGateway(new FleetEntryPoint(), FleetEntryPoint.METHODS), token);
    server.start(true);
    System.out.println("LISTENING " + server.getListeningPort());
    System.out.flush();
    while (in.read() != -1) {
      // nothing else comes on stdin: end of file means the collector is gone
    }
    System.exit(0);
  }
}
