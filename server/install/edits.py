"""The three kinds of change install makes inside a JSON object, each with the record that undoes it.

An edit's :meth:`~Edit.apply` returns what it did as plain JSON (what it created, what was there before);
:func:`undo` takes that record back out, leaving alone anything the user had. ``path`` is a list of keys
from the file's top-level object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.install.jsonfile import JsonObject, dumps, loads

__all__ = ["Append", "Approve", "Edit", "InstallError", "Put", "undo"]

_MISSING = object()


class InstallError(RuntimeError):
    """A settings file cannot be changed; the message names the file and what is wrong."""


def _where(path: list[str]) -> str:
    return ".".join(f'"{key}"' for key in path) or "the top level"


def _container(data: JsonObject, path: list[str], leaf: type, created: list[list[str]]) -> Any:
    """The object or list at ``path``, made (and noted in ``created``) where missing."""
    node: Any = data
    for depth, key in enumerate(path):
        kind = leaf if depth == len(path) - 1 else dict
        if key not in node:
            node[key] = kind()
            created.append(path[: depth + 1])
        node = node[key]
        if not isinstance(node, kind):
            wanted = "list" if kind is list else "object"
            raise InstallError(f"{_where(path[: depth + 1])} should be a JSON {wanted}; fix it by hand, then run again")
    return node


def _as_read(value: Any) -> Any:
    """``value`` as it reads back from a file (numbers as :class:`RawNumber`), so comparisons hold."""
    return loads(dumps(value))


def _get(data: JsonObject, path: list[str]) -> Any:
    node: Any = data
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return _MISSING
        node = node[key]
    return node


def _prune(data: JsonObject, created: list[list[str]]) -> None:
    """Delete the containers install created, deepest first, where they are empty again."""
    for path in sorted(created, key=len, reverse=True):
        parent, value = _get(data, path[:-1]), _get(data, path)
        if isinstance(parent, dict) and isinstance(value, dict | list) and not value:
            del parent[path[-1]]


@dataclass(frozen=True)
class Append:
    """Add ``items`` to the list at ``path`` (hook groups)."""

    path: tuple[str, ...]
    items: tuple[Any, ...]

    def apply(self, data: JsonObject) -> JsonObject:
        created: list[list[str]] = []
        items = _as_read(list(self.items))
        _container(data, list(self.path), list, created).extend(items)
        return {"op": "append", "path": list(self.path), "items": _as_read(items), "created": created}


@dataclass(frozen=True)
class Put:
    """Set the key at ``path`` to ``value`` (the MCP server entry); what was there comes back on undo."""

    path: tuple[str, ...]
    value: Any

    def apply(self, data: JsonObject) -> JsonObject:
        created: list[list[str]] = []
        parent = _container(data, list(self.path[:-1]), dict, created)
        value = _as_read(self.value)
        record: JsonObject = {"op": "put", "path": list(self.path), "value": value, "created": created}
        if self.path[-1] in parent:
            record["previous"] = parent[self.path[-1]]
        parent[self.path[-1]] = _as_read(value)
        return record


@dataclass(frozen=True)
class Approve:
    """Add ``value`` to the list at ``add`` unless there, and take it out of ``remove`` (approve a server)."""

    add: tuple[str, ...]
    remove: tuple[str, ...]
    value: Any

    def apply(self, data: JsonObject) -> JsonObject:
        created: list[list[str]] = []
        record: JsonObject = {"op": "approve", "add": list(self.add), "remove": list(self.remove), "value": self.value}
        listed = _container(data, list(self.add), list, created)
        record["added"] = self.value not in listed
        if record["added"]:
            listed.append(self.value)
        rejected = _get(data, list(self.remove))
        record["removed"] = isinstance(rejected, list) and self.value in rejected
        if record["removed"]:
            rejected.remove(self.value)
        record["created"] = created
        return record


Edit = Append | Put | Approve


def _undo_append(data: JsonObject, record: JsonObject) -> None:
    listed = _get(data, record["path"])
    if isinstance(listed, list):
        for item in record["items"]:
            if item in listed:
                listed.remove(item)


def _undo_put(data: JsonObject, record: JsonObject) -> None:
    parent, key = _get(data, record["path"][:-1]), record["path"][-1]
    if not isinstance(parent, dict) or parent.get(key, _MISSING) != record["value"]:
        return  # changed since install: it is the user's now
    if "previous" in record:
        parent[key] = record["previous"]
    else:
        del parent[key]


def _undo_approve(data: JsonObject, record: JsonObject) -> None:
    listed = _get(data, record["add"])
    if record["added"] and isinstance(listed, list) and record["value"] in listed:
        listed.remove(record["value"])
    if record["removed"]:
        rejected = _get(data, record["remove"])
        if isinstance(rejected, list):
            rejected.append(record["value"])
        elif rejected is _MISSING and isinstance(parent := _get(data, record["remove"][:-1]), dict):
            parent[record["remove"][-1]] = [record["value"]]


def _undo_legacy_server(data: JsonObject, record: JsonObject) -> None:
    """An install that kept no record: its server entry is the one that runs ``... serve``."""
    parent, key = _get(data, record["path"][:-1]), record["path"][-1]
    entry = parent.get(key) if isinstance(parent, dict) else None
    if isinstance(entry, dict) and isinstance(args := entry.get("args"), list) and args[-1:] == ["serve"]:
        del parent[key]
        _prune(data, [record["path"][:i] for i in range(1, len(record["path"]))])


def _undo_legacy_approve(data: JsonObject, record: JsonObject) -> None:
    listed = _get(data, record["path"])
    if isinstance(listed, list) and record["value"] in listed:
        listed.remove(record["value"])
        _prune(data, [record["path"]])


_UNDO = {
    "append": _undo_append,
    "put": _undo_put,
    "approve": _undo_approve,
    "legacy-server": _undo_legacy_server,
    "legacy-approve": _undo_legacy_approve,
}


def undo(data: JsonObject, record: JsonObject) -> None:
    """Take back one applied edit, given the record its ``apply`` returned."""
    _UNDO[record["op"]](data, record)
    _prune(data, record.get("created", []))
