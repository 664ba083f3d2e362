"""A service's process runs with the garbage collector tuned: startup frozen, young
collections rarer (lvyue.common.gc_tuning), as its settings say."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from lvyue.common import app as app_module
from lvyue.common.gc_tuning import tune_gc
from lvyue.common.settings import KernelSettings


@pytest.fixture(autouse=True)
def restore_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_tuning_freezes_what_is_alive_and_sets_the_young_threshold() -> None:
    _, middle, oldest = gc.get_threshold()
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    tune_gc(12_345)
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (12_345, middle, oldest)


def test_cycles_are_still_collected_once_the_young_threshold_is_passed() -> None:
    tune_gc(1_000)

    class Node:
        def __init__(self) -> None:
            self.me = self  # a cycle: only the collector frees it

    collected_before = sum(s["collected"] for s in gc.get_stats())
    for _ in range(5_000):
        Node()
    assert sum(s["collected"] for s in gc.get_stats()) - collected_before >= 1_000


def test_zero_would_switch_collection_off_and_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        tune_gc(0)


def test_run_service_tunes_the_collector_from_settings_before_serving(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served: list[tuple[FastAPI, tuple[int, int, int]]] = []
    monkeypatch.setattr(app_module, "configure_logging", lambda **_: None)
    monkeypatch.setattr(
        app_module, "serve", lambda app, settings: served.append((app, gc.get_threshold()))
    )
    built = FastAPI()
    app_module.run_service(KernelSettings(gc_young_threshold=4_321), lambda settings: built)
    assert served == [(built, (4_321, *gc.get_threshold()[1:]))]
    assert gc.get_freeze_count() > 0
