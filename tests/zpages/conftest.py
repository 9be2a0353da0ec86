"""The Debezium test bed of tests/jmx (a real MariaDB and the real Debezium MySQL connector), shared."""

from tests.jmx.conftest import debezium, mariadb

__all__ = ["debezium", "mariadb"]
