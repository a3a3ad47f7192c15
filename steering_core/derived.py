"""Derived artifacts shared between processes: one diskcache under the data root.

What goes here is costly to compute, deterministic from what its key names, and read by
more than one process (the dashboard, `steer round`, `steer bench` workers): steering
spaces (a PCA basis encodes dozens of prompt variations) and the steering-space view of all
sessions. diskcache keeps it in SQLite plus files, safe under concurrent processes and
threads, and evicts the least recently used entries past its size limit. Nothing here is a
system of record: a lost or unreadable cache only costs a recomputation.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import diskcache

T = TypeVar("T")
CACHE_FOLDER = "cache"
# Bump when the layout of a cached value changes, so old entries are never read back.
CACHE_SCHEMA = 1
SIZE_LIMIT_BYTES = 2 * 2**30
_MISSING = object()
_log = logging.getLogger(__name__)
# Values computed here and still being written, by (cache folder, key): the caller does not
# wait for the write (a 60,000-point space view pickles to 10 MB, about 50 ms), and a second
# ask in this process meanwhile gets the value itself.
_storing: dict[tuple[str, str], Any] = {}
_storing_lock = threading.Lock()
_store_threads: list[threading.Thread] = []


def open_cache(data_root: Path) -> diskcache.Cache:
    """The data root's derived-artifact cache (created on first use)."""
    return diskcache.Cache(
        str(Path(data_root) / CACHE_FOLDER),
        size_limit=SIZE_LIMIT_BYTES,
        eviction_policy="least-recently-used",
        # A second process waiting on SQLite's lock waits rather than failing.
        timeout=60,
    )


def cache_key(kind: str, depends_on: Any) -> str:
    """A stable key from what a value depends on (JSON-able: strings, numbers, lists, dicts)."""
    text = json.dumps([CACHE_SCHEMA, kind, depends_on], sort_keys=True, default=str)
    return f"{kind}:{hashlib.sha256(text.encode()).hexdigest()}"


def cached(cache: diskcache.Cache, kind: str, depends_on: Any, compute: Callable[[], T]) -> T:
    """The value stored under (`kind`, `depends_on`), computed and stored on a miss.

    The value is stored by a background thread, so the caller returns as soon as it is
    computed; the thread is not a daemon, so a CLI process still finishes the write before
    it exits. Two processes missing at once both compute and store the same value, which is
    harmless for deterministic values. A cache that cannot be read or written (full disk,
    damaged file) is logged and skipped: the caller still gets its value."""
    key = cache_key(kind, depends_on)
    slot = (str(cache.directory), key)
    with _storing_lock:
        if slot in _storing:
            return _storing[slot]  # type: ignore[no-any-return]
    try:
        value = cache.get(key, default=_MISSING, retry=True)
    except Exception as error:  # a damaged entry must not stop a round
        _log.warning("derived cache: cannot read %s (%s); recomputing", kind, error)
        value = _MISSING
    if value is not _MISSING:
        return value  # type: ignore[return-value]
    value = compute()
    thread = threading.Thread(
        target=_store, args=(cache, kind, slot, value), name="derived-cache-store"
    )
    with _storing_lock:
        _storing[slot] = value
        _store_threads[:] = [*(t for t in _store_threads if t.is_alive()), thread]
    thread.start()
    return value


def _store(cache: diskcache.Cache, kind: str, slot: tuple[str, str], value: Any) -> None:
    try:
        cache.set(slot[1], value, retry=True)
    except Exception as error:
        _log.warning("derived cache: cannot store %s (%s)", kind, error)
    finally:
        with _storing_lock:
            _storing.pop(slot, None)
        cache.close()  # this thread's connection only (diskcache keeps one per thread)


def finish_stores(timeout: float | None = None) -> None:
    """Wait until every value computed in this process is written (tests, benchmarks)."""
    with _storing_lock:
        threads = list(_store_threads)
    for thread in threads:
        thread.join(timeout)
