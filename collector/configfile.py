"""Read a YAML config or rule file as a hostile file may be: bounded in size, depth, aliasing and time.

A config arrives from a ConfigMap, a volume or a SIGHUP edit. Whatever is at the path — a FIFO, a symlink
to `/dev/zero` or `/etc/shadow`, a billion-laughs anchor bomb, Latin-1 bytes, 3000 nested lists — ends
in a `FileProblem` naming the file and line, never in a traceback, a hang or unbounded memory, and never
quoting the file's contents. YAML is read as the spec has it: an anchor may be redefined (later aliases
see the later definition); a duplicate mapping key is an error, since the Collector's loader refuses it
and a silently dropped key once dropped a listener on reload.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.scanner import ScannerError

DEFAULT_MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 100
MAX_EXPANDED_NODES = 1_000_000
_MERGE_TAG = "tag:yaml.org,2002:merge"


class FileProblem(Exception):
    """Why a file could not be read, for the user: no traceback, no quote of the file."""


def read_yaml_file(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """The YAML document at `path` (None when empty), or FileProblem saying why not."""
    return parse_yaml(read_text(path, max_bytes))


def read_text(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The file's text: a regular file of at most `max_bytes` bytes of UTF-8."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below as not a regular file.
        # (Python opens descriptors non-inheritable already: no O_CLOEXEC needed.)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise FileProblem(f"cannot read config: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise FileProblem(f"cannot read config: not a regular file ({_file_type(mode)})")
        with os.fdopen(os.dup(fd), "rb") as file:
            data = file.read(max_bytes + 1)
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise FileProblem(
            f"the file is larger than the {max_bytes} byte limit (raise it with --max-config-bytes if it is meant)"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise FileProblem(
            f"line {line}, column {column}: not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8"
        ) from None


def parse_yaml(text: str) -> Any:
    try:
        loader = _LimitedLoader(text)
    except yaml.YAMLError as exc:  # the reader refuses control characters before anything is parsed
        raise FileProblem(f"invalid YAML: {_first_line(exc)}") from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        raise FileProblem(_describe(exc)) from None
    except (yaml.YAMLError, ValueError, TypeError) as exc:  # e.g. `!!int x`, or a timestamp out of range
        raise FileProblem(f"invalid YAML: {_first_line(exc)}") from None
    finally:
        loader.dispose()


class _LimitedLoader(yaml.SafeLoader):
    """SafeLoader with a nesting limit, redefinable anchors and duplicate keys refused."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:
        # Checked while scanning, before composing: PyYAML's scanner is quadratic in the flow nesting depth.
        if self.flow_level >= MAX_DEPTH:
            raise ScannerError(None, None, f"nested deeper than {MAX_DEPTH} levels", self.get_mark())
        super().fetch_flow_collection_start(TokenClass)

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:  # index: a key node or a position
        event = self.peek_event()  # type: ignore[no-untyped-call,unused-ignore]  # types-PyYAML leaves the parser untyped (only --strict minds)
        if isinstance(event, yaml.NodeEvent) and not isinstance(event, yaml.AliasEvent) and event.anchor is not None:
            self.anchors.pop(event.anchor, None)  # YAML 1.2: a redefined anchor replaces the earlier one
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Hashable, Any]:
        if isinstance(node, MappingNode):
            seen: dict[Any, Node] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG or not isinstance(key_node, ScalarNode):
                    continue
                key = self.construct_object(key_node)
                if key in seen:
                    first = seen[key].start_mark.line + 1
                    raise ConstructorError(
                        None, None, f"duplicate key {str(key)[:80]!r} (first at line {first})", key_node.start_mark
                    )
                seen[key] = key_node
        return super().construct_mapping(node, deep=deep)  # type: ignore[arg-type]  # `!!map x` (a scalar) too: PyYAML refuses it


def _check_expansion(root: Node) -> None:
    """Refuse a document whose aliases would expand it past MAX_EXPANDED_NODES values (billion laughs).

    Sizes are memoised per node, so the check costs one pass over the document as written, not as expanded.
    """
    sizes: dict[int, int] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if not children_done and children:
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        total = 1 + sum(sizes.get(id(child), 0) for child in children)
        sizes[id(node)] = total
        if total > MAX_EXPANDED_NODES:
            raise ComposerError(
                None,
                None,
                f"aliases expand the document past {MAX_EXPANDED_NODES} values (an alias bomb?)",
                node.start_mark,
            )


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _describe(exc: yaml.MarkedYAMLError) -> str:
    """Line, column and what is wrong — never the snippet PyYAML would print, which quotes the file."""
    mark = exc.problem_mark or exc.context_mark
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    return f"invalid YAML{where}: {exc.problem or exc.context}"


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def _file_type(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a file"
