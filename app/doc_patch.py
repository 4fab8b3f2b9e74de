"""Only what changed: a new animator document sent as a patch against the one the browser holds.

A sidebar change reruns the page, and the animator's mount would carry the whole document
(about half a megabyte with the live family) although one optimizer's runs changed. So
:func:`outgoing` remembers, in the session and per animator key, the last document sent, and
sends the next one as a patch against it::

    {"id": new_id, "base": old_id, "options": {...},
     "patch": {"set": [[path, value], ...], "drop": [path, ...]}}

A path is a list of keys and list indices from the document's root, e.g.
``["optimizers", 4, "path"]``: :func:`diff` walks dicts, and lists of dicts of the same length
(the optimizers), down to the values that differ; an encoded array (``{"b64", ...}``) and any
other value is replaced whole. ``drop`` lists keys the new document no longer has. The
browser (``app/animator/patch.js``) applies a patch only to the document whose id is ``base``
and otherwise sends the ``resync`` trigger: :func:`forget` then drops the memory, and the
rerun it causes mounts the whole document. The first mount of a session, and any mount after
:func:`forget` (app/main.py forgets when the Paths tab is not drawn: back on it, a new
component mounts), carry the whole document. The comparison is cheap: unchanged parts of cached
documents are the same objects, and Python's equality tests identity first.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

_SENT = "animator_sent:"  # session key prefix: (id, document) last sent to an animator key

Path = list[str | int]


def _is_array(value: Any) -> bool:
    return isinstance(value, dict) and "b64" in value


def diff(old: Any, new: Any, path: Path | None = None) -> tuple[list, list]:
    """``(set, drop)``: the changes that turn ``old`` into ``new`` (see the module docstring)."""
    path = path or []
    sets: list = []
    drops: list = []
    if old is new or old == new:
        return sets, drops
    if isinstance(old, dict) and isinstance(new, dict) and not (_is_array(old) or _is_array(new)):
        for key, value in new.items():
            if key not in old:
                sets.append([[*path, key], value])
            else:
                s, d = diff(old[key], value, [*path, key])
                sets += s
                drops += d
        drops += [[*path, key] for key in old if key not in new]
        return sets, drops
    if (
        isinstance(old, list)
        and isinstance(new, list)
        and len(old) == len(new)
        and all(isinstance(v, dict) for v in new)
    ):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            s, d = diff(a, b, [*path, i])
            sets += s
            drops += d
        return sets, drops
    return [[path, new]], []


def apply(doc: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with ``patch`` applied (a new document; ``doc`` is not modified). The browser's
    ``applyPatch`` does the same; tests check both against the whole document."""

    def copy(value: Any) -> Any:
        return dict(value) if isinstance(value, dict) else list(value)

    out = copy(doc)
    copied: set[tuple] = {()}

    def parent(path: Path) -> Any:
        node = out
        for depth, key in enumerate(path[:-1]):
            here = tuple(path[: depth + 1])
            if here not in copied:
                node[key] = copy(node[key])
                copied.add(here)
            node = node[key]
        return node

    for path, value in patch.get("set", []):
        parent(path)[path[-1]] = value
    for path in patch.get("drop", []):
        parent(path).pop(path[-1], None)
    return out


def _body(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in ("id", "options")}


def outgoing(state: MutableMapping, key: str, data: dict[str, Any]) -> dict[str, Any]:
    """What to mount for ``data`` (a prepared document: ``id``, ``options`` and the body) at
    animator ``key``: a patch against the document last sent there, else ``data`` itself.
    Remembers ``data`` as the document the browser holds from now on."""
    body = _body(data)
    last = state.get(memory_key(key))
    # one animator is on the page at a time (a lesson stage has its own key): what was sent to
    # another key would only hold a document in the session
    forget(state, exclude=key)
    state[memory_key(key)] = (data["id"], body)
    if last is None:
        return data
    base_id, base = last
    sets, drops = diff(base, body)
    return {
        "id": data["id"],
        "base": base_id,
        "options": data["options"],
        "patch": {"set": sets, "drop": drops},
    }


def memory_key(key: str) -> str:
    """The session key of what was last sent to animator ``key``: ``(id, document without id
    and options)``."""
    return _SENT + key


def sent(state: MutableMapping, key: str) -> tuple[str, dict[str, Any]] | None:
    """``(id, document without id and options)`` the browser holds at ``key``, as Python last
    sent it; None before the first mount or after :func:`forget`."""
    return state.get(memory_key(key))


def forget(state: MutableMapping, key: str | None = None, *, exclude: str | None = None) -> None:
    """Send the whole document next time, to ``key`` (default: to every animator but
    ``exclude``)."""
    for k in [k for k in list(state.keys()) if isinstance(k, str) and k.startswith(_SENT)]:
        if (key is None or k == memory_key(key)) and (exclude is None or k != memory_key(exclude)):
            del state[k]
