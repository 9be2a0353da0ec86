"""Discovery of components through entry points: built-in and third-party alike."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from collector.component import Factory, Kind

log = logging.getLogger(__name__)

ENTRY_POINT_GROUPS = {
    Kind.RECEIVER: "collector.receivers",
    Kind.PROCESSOR: "collector.processors",
    Kind.EXPORTER: "collector.exporters",
    Kind.EXTENSION: "collector.extensions",
}


@dataclass(frozen=True)
class Registered:
    factory: Factory[Any]
    distribution: str


class Registry:
    """Factories by kind and type. Two distributions claiming one type is an error, not a silent pick."""

    def __init__(self, entries: Iterable[Registered] = ()) -> None:
        self._by_kind: dict[Kind, dict[str, Registered]] = {kind: {} for kind in Kind}
        self.load_errors: list[str] = []
        for entry in entries:
            self.add(entry.factory, entry.distribution)

    def add(self, factory: Factory[Any], distribution: str = "") -> None:
        existing = self._by_kind[factory.kind].get(factory.type)
        if existing and existing.distribution != distribution:
            self.load_errors.append(
                f"{factory.kind} type {factory.type!r} is provided by both {existing.distribution!r} "
                f"and {distribution!r}; uninstall one"
            )
            return
        self._by_kind[factory.kind][factory.type] = Registered(factory, distribution)

    def get(self, kind: Kind, type_: str) -> Factory[Any] | None:
        entry = self._by_kind[kind].get(type_)
        return entry.factory if entry else None

    def types(self, kind: Kind) -> list[str]:
        return sorted(self._by_kind[kind])

    def all(self) -> list[Registered]:
        return [entry for kind in Kind for _, entry in sorted(self._by_kind[kind].items())]

    @classmethod
    def discover(cls) -> Registry:
        """Load every factory published under the `collector.*` entry-point groups."""
        registry = cls()
        for kind, group in ENTRY_POINT_GROUPS.items():
            for ep in entry_points(group=group):
                distribution = ep.dist.name if ep.dist else "unknown"
                try:
                    factory = ep.load()
                except Exception as exc:  # a broken plugin must not take the others down
                    registry.load_errors.append(f"cannot load {group} entry point {ep.name!r}: {exc}")
                    continue
                if not isinstance(factory, Factory) or factory.kind is not kind or factory.type != ep.name:
                    registry.load_errors.append(
                        f"{group} entry point {ep.name!r} from {distribution} is not a {kind} Factory "
                        f"with type {ep.name!r}"
                    )
                    continue
                registry.add(factory, distribution)
        return registry
