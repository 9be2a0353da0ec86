"""The py4j client both gateway kinds are read through (the collector's own gateway JVM and in-JVM gateways).

py4j 0.10.9 leaves the socket of a connection that failed to start (connection refused, a TLS handshake or
a read timeout during the auth exchange) open until the garbage collector finds it: one unclosed socket per
failed connect to a worker that is down, reported as a ResourceWarning. This client closes it at once.
"""

from __future__ import annotations

from py4j.java_gateway import GatewayClient, GatewayConnection, JavaGateway


class _ClosingGatewayClient(GatewayClient):
    def _create_connection(self) -> GatewayConnection:
        connection = GatewayConnection(self.gateway_parameters, self.gateway_property)
        connection.stream = None  # start() sets it once connected
        try:
            connection.start()
        except BaseException:
            # Both closes are idempotent: py4j has closed them itself when the gateway refused the token.
            if connection.stream is not None:
                connection.stream.close()
            connection.socket.close()
            raise
        return connection


class ClosingJavaGateway(JavaGateway):
    """A JavaGateway whose failed connection attempts release their socket at once."""

    def _create_gateway_client(self) -> GatewayClient:
        return _ClosingGatewayClient(gateway_parameters=self.gateway_parameters)
