"""Masking a log value takes time linear in its length, and a value is cut to a bounded length
before it is masked: a platform's error page or a body a library echoes cannot stop the event
loop (masking runs on it) nor fill the log. The masking itself is test_logging.py's."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import structlog

from lvyue.common.logging import MAX_VALUE_CHARS, mask_sensitive, mask_text
from tests.support.logs import configured, json_lines

N = 100_000
PHONE = "13800138000"

# (what the text is, the text): each was quadratic for one expression or another
HOSTILE_TEXTS: list[tuple[str, str]] = [
    ("an address mark then a long word run", "系统繁忙 请稍后再试 路 " + "a" * N),
    ("a long word run then an address mark", "a" * N + "路"),
    ("a long Chinese run around a mark", "浙" * (N // 2) + "号" + "江" * (N // 2)),
    ("SQL parameters never closed", "[parameters: " * (N // 13)),
    ("SQL parameters closed mid-line", "[parameters: ] x" * (N // 16)),
    ("pydantic input values", "input_value=" * (N // 12)),
    ("house numbers and words", ("1 " + "a" * 50 + " ") * (N // 53)),
    ("digits", "1" * N),
]


def _fastest_s(mask: Callable[[], object]) -> float:
    """The best of three runs: a busy machine only slows one down."""
    took = []
    for _ in range(3):
        started = time.perf_counter()
        mask()
        took.append(time.perf_counter() - started)
    return min(took)


@pytest.mark.parametrize("value", [pytest.param(v, id=name) for name, v in HOSTILE_TEXTS])
def test_masking_a_100_000_character_text_takes_well_under_50_ms(value: str) -> None:
    assert len(value) >= N - 100
    assert _fastest_s(lambda: mask_text(value)) < 0.05
    assert _fastest_s(lambda: mask_sensitive(None, "warning", {"error": value})) < 0.05


def test_a_log_value_of_50_000_addresses_is_masked_within_50_ms() -> None:
    # Each one masked costs about a microsecond: the cut bounds how many a value holds.
    value = "路 " * 50_000
    assert _fastest_s(lambda: mask_sensitive(None, "warning", {"error": value})) < 0.05
    masked = mask_sensitive(None, "warning", {"error": value})["error"]
    assert "路 路" not in masked


def test_a_long_value_is_cut_to_its_head_and_tail_before_it_is_masked() -> None:
    value = f"head {PHONE} 文三路478号 " + "x" * 50_000 + f" tail {PHONE} ValueError: boom"
    masked = mask_sensitive(None, "warning", {"error": value})["error"]
    assert len(masked) <= MAX_VALUE_CHARS + 100
    assert masked.startswith("head 138****8000 文三***")
    assert masked.endswith("tail 138****8000 ValueError: boom")  # a traceback's last line
    assert f"[{len(value) - MAX_VALUE_CHARS} characters cut]" in masked
    assert PHONE not in masked


def test_a_value_within_the_bound_is_masked_whole() -> None:
    value = f"{PHONE} " + "x" * (MAX_VALUE_CHARS - 12)
    assert len(value) == MAX_VALUE_CHARS
    assert mask_sensitive(None, "warning", {"error": value})["error"] == mask_text(value)


def test_echoed_values_the_cut_leaves_open_are_masked_up_to_the_cut() -> None:
    value = "[SQL: INSERT]\n[parameters: ('李娜', " + "'x', " * 10_000 + ")]\n(Background on"
    masked = mask_sensitive(None, "warning", {"error": value})["error"]
    assert "李娜" not in masked
    assert masked.startswith("[SQL: INSERT]\n[parameters: ***]")


def test_a_logged_platform_error_of_40_000_characters_is_quick_and_short(
    capsys: pytest.CaptureFixture[str],
) -> None:
    error = "淘宝 taobao.trades.sold.increment.get: 15 系统繁忙 路 " + "a" * 40_000
    with configured(json=True, level="INFO", service="order-review"):
        log = structlog.get_logger("lvyue.test.bounds")
        started = time.perf_counter()
        log.warning("order_pull_failed", platform="taobao", error=error, phone=PHONE)
        took = time.perf_counter() - started
    (line,) = json_lines(capsys.readouterr().err)
    assert took < 0.05
    assert len(line["error"]) <= MAX_VALUE_CHARS + 100
    assert line["error"].startswith("淘宝 taobao.trades.sold.increment.get: 15 系统繁忙")
    assert line["phone"] == "138****8000"
