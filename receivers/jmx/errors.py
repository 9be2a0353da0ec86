"""Why a target gave no reply: raised by the readers of in-JVM gateways (py4j:// and dialed-in), and by the
receiver for a gateway JVM it cannot use for one of many targets; the receiver reports the target down
(`jmx.up` 0, the reason logged once). The gateway's own `DOWN` reply (a JMX connection it cannot make)
stays what the gateway said."""


class TargetDown(Exception):
    """The target cannot be read now; the message says why."""
