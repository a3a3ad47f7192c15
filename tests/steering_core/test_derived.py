"""The derived-artifact cache: computed once, shared between processes, never in the way."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import numpy as np

from steering_core.derived import cache_key, cached, finish_stores, open_cache


def _compute_in_another_process(data_root: str, queue: multiprocessing.Queue) -> None:
    cache = open_cache(Path(data_root))

    def compute() -> np.ndarray:
        queue.put("computed")
        return np.arange(5.0)

    queue.put(cached(cache, "basis", {"prompt": "a red circle"}, compute).tolist())


def test_a_value_computed_by_one_process_is_read_by_another(tmp_path: Path) -> None:
    calls: list[int] = []

    def compute() -> np.ndarray:
        calls.append(1)
        return np.arange(5.0)

    first = cached(open_cache(tmp_path), "basis", {"prompt": "a red circle"}, compute)
    again = cached(open_cache(tmp_path), "basis", {"prompt": "a red circle"}, compute)
    assert calls == [1]
    np.testing.assert_array_equal(first, again)
    finish_stores()  # the write happens beside the caller; another process needs it done

    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_compute_in_another_process, args=(str(tmp_path), queue))
    process.start()
    process.join(timeout=120)
    assert process.exitcode == 0
    assert queue.get(timeout=5) == [0.0, 1.0, 2.0, 3.0, 4.0]  # read, not "computed"


def test_the_key_names_everything_the_value_depends_on(tmp_path: Path) -> None:
    cache = open_cache(tmp_path)
    values = iter(range(10))
    a = cached(cache, "basis", {"prompt": "a", "d": 4}, lambda: next(values))
    b = cached(cache, "basis", {"prompt": "a", "d": 8}, lambda: next(values))
    c = cached(cache, "space", {"prompt": "a", "d": 4}, lambda: next(values))
    assert (a, b, c) == (0, 1, 2)
    same = cache_key("basis", {"d": 4, "prompt": "a"})
    assert same == cache_key("basis", {"prompt": "a", "d": 4})


def test_a_damaged_cache_still_gives_the_value(tmp_path: Path) -> None:
    cache = open_cache(tmp_path)
    cached(cache, "basis", {"prompt": "a"}, lambda: 1)
    finish_stores()
    cache.close()
    for path in (tmp_path / "cache").glob("cache.db*"):
        path.write_bytes(b"not a database")
    assert cached(cache, "basis", {"prompt": "a"}, lambda: 2) == 2


def test_the_caller_does_not_wait_for_the_write(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    import threading

    cache = open_cache(tmp_path)
    release = threading.Event()
    stored = cache.set

    def slow_set(*args: object, **kwargs: object) -> bool:
        release.wait(timeout=30)
        return stored(*args, **kwargs)

    monkeypatch.setattr(cache, "set", slow_set)
    assert cached(cache, "space", {"session": "a"}, lambda: [1, 2, 3]) == [1, 2, 3]
    # Still being written: asked again meanwhile, this process gets the value, not a rerun.
    assert cached(cache, "space", {"session": "a"}, lambda: ["again"]) == [1, 2, 3]
    release.set()
    finish_stores()
    assert cached(open_cache(tmp_path), "space", {"session": "a"}, lambda: ["again"]) == [1, 2, 3]
