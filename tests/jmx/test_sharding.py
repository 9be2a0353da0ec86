"""Sharding across replicas (issue 15 item 3): collector processes with one config file, the replica's index
from `${env:SHARD_INDEX}`, over the same endpoint file of RMI targets. Every endpoint is read by exactly one
replica; going from 3 replicas to 4 moves only the endpoints the new replica takes."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest

from receivers.jmx.discovery import shard_owner
from tests.jmx import testbed
from tests.support import read_points, run_collector, wait_for, write_config

pytestmark = pytest.mark.integration
TARGETS = 12
LAG_RULE = {
    "bean": "debezium.mysql:type=connector-metrics,context=streaming,server=*",
    "mapping": {"MilliSecondsBehindSource": {"metric": "debezium.streaming.MilliSecondsBehindSource"}},
}


def read_by(directory: Path, replicas: int, ports: list[int]) -> dict[int, set[int]]:
    """Run `replicas` collectors until every endpoint has been read; which replica read which port."""
    config = write_config(
        directory,
        {
            "receivers": {
                "jmx/fleet": {
                    "endpoints": {
                        "file": str(directory.parent / "endpoints.txt"),
                        "protocol": "rmi",
                        "shard": {"count": replicas, "index": "${env:SHARD_INDEX}"},
                    },
                    "rules": [LAG_RULE],
                    "collection_interval": "1s",
                    "initial_delay": "0s",
                }
            },
            "exporters": {"file": {"path": str(directory / "out-${env:SHARD_INDEX}.jsonl")}},
            "service": {"pipelines": {"metrics": {"receivers": ["jmx/fleet"], "exporters": ["file"]}}},
        },
    )
    outputs = [directory / f"out-{index}.jsonl" for index in range(replicas)]

    def seen() -> dict[int, set[int]]:
        return {
            index: {p.resource["server.port"] for p in read_points(out) if p.name == "jmx.up" and p.value == 1}
            for index, out in enumerate(outputs)
        }

    with ExitStack() as stack:
        for index in range(replicas):
            stack.enter_context(run_collector(config, env={"SHARD_INDEX": str(index)}))
        wait_for(lambda: set().union(*seen().values()) == set(ports), 90, "every endpoint read by some replica")
        # A replica may own no endpoint (12 endpoints over 4 replicas: about one run in eight); it writes nothing.
        owning = [outputs[index] for index in {shard_owner(f"127.0.0.1:{port}", replicas) for port in ports}]
        wait_for(lambda: all(len(p.read_text().splitlines()) >= 3 for p in owning), 30, "a few scrapes each")
    return seen()


def test_every_endpoint_is_read_by_exactly_one_replica_and_a_fourth_moves_only_its_share(tmp_path: Path) -> None:
    with testbed.fleet_target(TARGETS) as (_, ports):
        (tmp_path / "endpoints.txt").write_text("".join(f"127.0.0.1:{port}\n" for port in ports))
        (tmp_path / "three").mkdir()
        (tmp_path / "four").mkdir()
        three = read_by(tmp_path / "three", 3, ports)
        four = read_by(tmp_path / "four", 4, ports)

    for replicas in (three, four):
        everything = [port for read in replicas.values() for port in read]
        assert sorted(everything) == sorted(ports), f"each endpoint exactly once: {replicas}"
    owner_of_three = {port: index for index, read in three.items() for port in read}
    owner_of_four = {port: index for index, read in four.items() for port in read}
    moved = {port for port in ports if owner_of_three[port] != owner_of_four[port]}
    assert moved == four[3], "only the endpoints the new replica takes move"
    assert owner_of_four == {port: shard_owner(f"127.0.0.1:{port}", 4) for port in ports}
    print(f"{len(moved)} of {TARGETS} endpoints moved going from 3 to 4 replicas")
