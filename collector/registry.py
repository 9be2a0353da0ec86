"""Discovery of components through entry points: built-in and third-party alike.

An entry point is loaded when a configuration names its type (or when every component is listed), not at
discovery: importing a component imports its dependencies (boto3, gRPC, protobuf: tens of MiB), which a
collector that does not use it should not pay for in memory and start-up time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
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
        self._unloaded: dict[Kind, dict[str, EntryPoint]] = {kind: {} for kind in Kind}
        self._distributions: dict[tuple[Kind, str], str] = {}
        self._failed: dict[tuple[Kind, str], str] = {}
        self.load_errors: list[str] = []
        for entry in entries:
            self.add(entry.factory, entry.distribution)

    def add(self, factory: Factory[Any], distribution: str = "") -> None:
        if self._claim(factory.kind, factory.type, distribution):
            self._by_kind[factory.kind][factory.type] = Registered(factory, distribution)

    def add_entry_point(self, kind: Kind, entry_point: EntryPoint) -> None:
        """Registers `entry_point` under its name, to be loaded when first asked for."""
        distribution = entry_point.dist.name if entry_point.dist else "unknown"
        if self._claim(kind, entry_point.name, distribution):
            self._unloaded[kind][entry_point.name] = entry_point

    def _claim(self, kind: Kind, type_: str, distribution: str) -> bool:
        existing = self._distributions.setdefault((kind, type_), distribution)
        if existing != distribution:
            self.load_errors.append(
                f"{kind} type {type_!r} is provided by both {existing!r} and {distribution!r}; uninstall one"
            )
            return False
        return True

    def get(self, kind: Kind, type_: str) -> Factory[Any] | None:
        """The factory of `type_`, loading its entry point now if it has not been; None if there is no such
        type or it cannot be loaded (`load_error` says why)."""
        entry_point = self._unloaded[kind].pop(type_, None)
        if entry_point is not None:
            self._load(kind, entry_point)
        entry = self._by_kind[kind].get(type_)
        return entry.factory if entry else None

    def load_error(self, kind: Kind, type_: str) -> str | None:
        """Why `type_`'s entry point could not be loaded, if it could not."""
        return self._failed.get((kind, type_))

    def _load(self, kind: Kind, entry_point: EntryPoint) -> None:
        group, distribution = ENTRY_POINT_GROUPS[kind], self._distributions[(kind, entry_point.name)]
        try:
            factory = entry_point.load()
        except Exception as exc:  # a broken plugin must not take the others down
            problem = f"cannot load {group} entry point {entry_point.name!r} from {distribution}: {exc}"
        else:
            if isinstance(factory, Factory) and factory.kind is kind and factory.type == entry_point.name:
                self._by_kind[kind][entry_point.name] = Registered(factory, distribution)
                return
            problem = (
                f"{group} entry point {entry_point.name!r} from {distribution} is not a {kind} Factory "
                f"with type {entry_point.name!r}"
            )
        self._failed[(kind, entry_point.name)] = problem
        self.load_errors.append(problem)

    def types(self, kind: Kind) -> list[str]:
        """Every type of `kind` that is installed, loaded or not (a broken one included)."""
        return sorted({*self._by_kind[kind], *self._unloaded[kind], *(t for k, t in self._failed if k is kind)})

    def all(self) -> list[Registered]:
        """Every component, each entry point loaded (those that fail are in `load_errors`)."""
        for kind in Kind:
            for type_ in list(self._unloaded[kind]):
                self.get(kind, type_)
        return [entry for kind in Kind for _, entry in sorted(self._by_kind[kind].items())]

    @classmethod
    def discover(cls) -> Registry:
        """Every component published under the `collector.*` entry-point groups, none loaded yet."""
        registry = cls()
        for kind, group in ENTRY_POINT_GROUPS.items():
            for entry_point in entry_points(group=group):
                registry.add_entry_point(kind, entry_point)
        return registry
