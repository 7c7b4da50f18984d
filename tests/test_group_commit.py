"""storage.db.GroupCommit: what threads submit together is written together, and nobody returns
before their item is written."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from storage.db import GroupCommit


def test_items_submitted_while_a_write_runs_share_the_next_write():
    writes: list[list[int]] = []
    first_running, release = threading.Event(), threading.Event()

    def write(items: list[int]) -> list[int]:
        writes.append(list(items))
        if items == [0]:  # hold the first write until the others have queued
            first_running.set()
            release.wait(5)
        return [i * 10 for i in items]

    group = GroupCommit(write)
    with ThreadPoolExecutor(6) as pool:
        first = pool.submit(group.submit, 0)
        assert first_running.wait(5)
        others = [pool.submit(group.submit, i) for i in range(1, 6)]
        while len(group._queued) < 5:  # all five wait behind the first write
            threading.Event().wait(0.01)
        release.set()
        results = [first.result(5)] + [f.result(5) for f in others]
    assert results == [0, 10, 20, 30, 40, 50]
    assert writes[0] == [0]
    assert sorted(writes[1]) == [1, 2, 3, 4, 5]
    assert len(writes) == 2


def test_a_failed_write_raises_for_every_item_in_it_and_the_next_one_goes_on():
    def write(items: list[str]) -> list[str]:
        if "bad" in items:
            raise RuntimeError("database gone")
        return [item.upper() for item in items]

    group = GroupCommit(write)
    with pytest.raises(RuntimeError, match="database gone"):
        group.submit("bad")
    assert group.submit("ok") == "OK"
