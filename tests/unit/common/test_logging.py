"""Log masking: customer names, phones, addresses and remarks never reach a log line in clear."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import structlog

from lvyue.common.logging import mask_phone, mask_sensitive, mask_text
from tests.support.logs import configured, json_lines

PHONE = "13800138000"
MASKED = "138****8000"


# --- mask_phone / mask_text ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("13800138000", "138****8000"),
        ("138-0013-8000", "138****8000"),
        ("010-12345678", "010****5678"),
        ("123456", "***"),  # too short to keep any digit
        ("", "***"),
    ],
)
def test_mask_phone_keeps_only_the_first_three_and_last_four_digits(
    phone: str, expected: str
) -> None:
    assert mask_phone(phone) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("请联系13800138000", f"请联系{MASKED}"),
        ("+86 138 0013 8000", MASKED),
        ("+8613800138000", MASKED),
        ("call 138-0013-8000 after 6pm", f"call {MASKED} after 6pm"),
        ("收件人 13800138000，备用 15912345678", f"收件人 {MASKED}，备用 159****5678"),
    ],
)
def test_mask_text_masks_mainland_mobiles_inside_free_text(text: str, expected: str) -> None:
    assert mask_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "order 3914567281234567890",  # a long platform order id is not a phone
        "12345678901",  # 11 digits but not a mobile prefix
        "sku TEA-LJ-250G x2",
        "",
    ],
)
def test_mask_text_leaves_text_without_a_mobile_number_alone(text: str) -> None:
    assert mask_text(text) == text


# --- mask_sensitive processor ----------------------------------------------------------------


def test_mask_sensitive_masks_receiver_name_phone_and_address_in_nested_dicts() -> None:
    event = {
        "event": "order_accepted",
        "order_id": "3914567281234567890",
        "receiver": {
            "name": "李娜",
            "phone": PHONE,
            "address": {
                "province": "浙江省",
                "city": "杭州市",
                "street": "文三路 478 号 华星时代广场",
                "detail": "A座 1203",
            },
        },
    }
    masked = mask_sensitive(None, "info", event)
    assert masked["event"] == "order_accepted"
    assert masked["order_id"] == "3914567281234567890"
    receiver = masked["receiver"]
    assert receiver["name"] == "李***"
    assert receiver["phone"] == MASKED
    assert receiver["address"]["street"] == "文三***"
    assert receiver["address"]["detail"] == "A座***"
    assert receiver["address"]["province"] == "浙江省"
    assert receiver["address"]["city"] == "杭州市"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("phone", PHONE, MASKED),
        ("mobile", PHONE, MASKED),
        ("receiver_phone", PHONE, MASKED),
        ("Phone", PHONE, MASKED),  # keys match case-insensitively
        ("address", "浙江省杭州市西湖区文三路 478 号", "浙江***"),
        ("receiver_address", "杭州市文三路", "杭州***"),
        ("address1", "150 Elgin St", "15***"),
        ("email", "buyer@example.com", "bu***"),
        ("street", "", ""),
    ],
)
def test_mask_sensitive_masks_contact_fields_by_key(key: str, value: str, expected: str) -> None:
    assert mask_sensitive(None, "info", {key: value})[key] == expected


def test_mask_sensitive_masks_inside_lists_and_tuples() -> None:
    event = {
        "lines": [{"sku": "A-1", "note": f"请联系{PHONE}"}, {"sku": "B-2"}],
        "phones": (PHONE, "13912345678"),
        "receivers": [{"phone": PHONE, "quantity": 2}],
    }
    masked = mask_sensitive(None, "info", event)
    assert masked["lines"] == [{"sku": "A-1", "note": "***"}, {"sku": "B-2"}]
    assert masked["phones"] == [MASKED, "139****5678"]
    assert masked["receivers"] == [{"phone": MASKED, "quantity": 2}]


def test_mask_sensitive_leaves_other_fields_untouched() -> None:
    event: dict[str, Any] = {
        "event": "http_request",
        "status": 201,
        "duration_ms": 3.5,
        "ok": True,
        "missing": None,
        "route": "/webhooks/{platform}/orders",
        "sku": "TEA-LJ-250G",
        "service_name": "fulfilment",  # names of things, not people
        "settings": {"service_name": "inventory", "warehouse_name": "上海仓"},
    }
    assert mask_sensitive(None, "info", dict(event)) == event


def test_settings_that_only_look_like_contact_data_are_logged_but_blacklists_are_not() -> None:
    settings = {
        "review_phone_region": "CN",
        "review_mobile_only": True,
        "review_remark_keywords": ["改地址", "发票"],
        "review_acceptance_roles": {"remark_needs_human": ["ops"], "not_paid": ["ops"]},
        "review_blacklist_phones": ["13800138000"],
        "review_blacklist_buyers": ["张三丰"],
    }
    masked = mask_sensitive(None, "info", {"settings": dict(settings)})["settings"]
    assert masked["review_phone_region"] == "CN"
    assert masked["review_remark_keywords"] == ["改地址", "发票"]
    assert masked["review_acceptance_roles"] == settings["review_acceptance_roles"]
    assert masked["review_blacklist_phones"] == ["138****8000"]
    assert "三丰" not in str(masked["review_blacklist_buyers"])


def test_a_persons_name_under_a_compound_key_is_still_masked() -> None:
    masked = mask_sensitive(None, "info", {"receiver_name": "张三丰", "buyer_name": "Alice"})
    assert "三丰" not in masked["receiver_name"]
    assert masked["buyer_name"] != "Alice"


# --- configure_logging -----------------------------------------------------------------------


def test_configured_logging_writes_json_with_masked_values(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with configured(json=True, level="INFO", service="order-review"):
        log = structlog.get_logger("lvyue.test.logging")  # created after configuring
        log.info(
            "order_accepted",
            phone=PHONE,
            receiver={"phone": PHONE, "address": {"street": "文三路 478 号"}},
            remarks=f"请联系{PHONE}",
            order_id="3914567281234567890",
        )
    (line,) = json_lines(capsys.readouterr().err)
    assert line["event"] == "order_accepted"
    assert line["phone"] == MASKED
    assert line["receiver"] == {"phone": MASKED, "address": {"street": "文三***"}}
    assert line["remarks"] == "***"
    assert line["order_id"] == "3914567281234567890"
    assert line["level"] == "info"
    assert line["logger"] == "lvyue.test.logging"
    assert line["service"] == "order-review"
    assert "timestamp" in line


def test_configured_logging_masks_standard_library_records_too(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with configured(json=True):
        logging.getLogger("lvyue.test.stdlib").warning("buyer asked to call %s", PHONE)
    (line,) = json_lines(capsys.readouterr().err)
    assert line["event"] == f"buyer asked to call {MASKED}"
    assert line["level"] == "warning"
    assert PHONE not in json.dumps(line)


def test_configured_logging_drops_records_below_the_level(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with configured(json=True, level="warning"):
        log = structlog.get_logger("lvyue.test.level")
        log.info("quiet")
        log.warning("loud")
    assert [line["event"] for line in json_lines(capsys.readouterr().err)] == ["loud"]


def test_console_rendering_is_masked_too(capsys: pytest.CaptureFixture[str]) -> None:
    with configured(json=False):
        structlog.get_logger("lvyue.test.console").info("contact", phone=PHONE)
    err = capsys.readouterr().err
    assert MASKED in err
    assert PHONE not in err


def test_configuring_logging_is_undone_after_the_block() -> None:
    root = logging.getLogger()
    before = root.handlers[:]
    with configured(json=True):
        assert root.handlers != before
    assert root.handlers == before
    assert "service" not in structlog.contextvars.get_contextvars()


@pytest.mark.parametrize("key", ["phone", "mobile", "receiver_phone"])
def test_mask_sensitive_masks_a_phone_given_as_a_number(key):
    assert mask_sensitive(None, "info", {key: 13800138000})[key] == "138****8000"


def test_mask_phone_drops_the_country_code():
    assert mask_phone("+86 138 0013 8000") == "138****8000"


ADDRESS = "浙江省杭州市西湖区文三路478号华星时代广场A座1203"
NAME = "李娜"


def test_tracebacks_and_validation_errors_are_masked(capsys: pytest.CaptureFixture[str]) -> None:
    from pydantic import BaseModel

    class Receiver(BaseModel):
        name: str
        phone: int

    with configured(json=True):
        log = structlog.get_logger("lvyue.test.exceptions")
        try:
            raise ValueError(f"cannot ship to {ADDRESS}, call {PHONE}")
        except ValueError:
            log.exception("handler_failed")
        try:
            # (a traceback quotes this source line: customer data only in variables)
            Receiver.model_validate({"name": [NAME], "phone": f"{ADDRESS} {NAME}"})
        except ValueError as exc:
            log.error("message_dead_lettered", error=repr(exc))
            logging.getLogger("lvyue.test.stdlib").exception("intake failed")
    lines = json_lines(capsys.readouterr().err)
    assert len(lines) == 3
    assert "ValueError: cannot ship to" in lines[0]["exception"]
    assert "validation error" in lines[1]["error"]
    assert "validation error" in lines[2]["exception"]
    text = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)  # not \\uXXXX
    for secret in (PHONE, ADDRESS, "文三路", NAME):
        assert secret not in text


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("receiver_name", "李娜", "李***"),
        ("buyer_nick", "Alice Smith", "Al***"),
        ("remark", "请改地址", "***"),
        ("buyer_message", "call me", "***"),
        ("input", {"name": "李娜"}, "***"),
    ],
)
def test_names_remarks_and_echoed_inputs_are_masked_by_key(
    key: str, value: Any, expected: Any
) -> None:
    masked = mask_sensitive(None, "info", {key: value})[key]
    assert masked == expected or masked == {"name": "李***"}


@pytest.mark.parametrize(
    ("text", "gone"),
    [
        (f"ship to {ADDRESS}", "文三路478号"),
        ("ship to 150 Elgin Street, Ottawa", "150 Elgin Street"),
        ("[SQL: INSERT]\n[parameters: ('李娜', 'x')]\n(Background on this error)", "李娜"),
        ("invalid input for query argument $2: '李娜 x'", "李娜"),
    ],
)
def test_mask_text_masks_addresses_and_echoed_values(text: str, gone: str) -> None:
    assert gone not in mask_text(text)


def test_the_fields_the_pipeline_writes_replace_a_callers_value_so_none_is_left_unmasked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # mask_sensitive passes level, logger and timestamp by: the pipeline writes them over
    # whatever a caller gave under those keys.
    with configured(json=True, level="INFO", service="order-review"):
        log = structlog.get_logger("lvyue.test.pipeline")
        log.info("order_accepted", level=PHONE, logger=PHONE, timestamp=PHONE)
    (line,) = json_lines(capsys.readouterr().err)
    assert PHONE not in json.dumps(line)
    assert (line["level"], line["logger"]) == ("info", "lvyue.test.pipeline")


@pytest.mark.parametrize(
    "text",
    [
        "文三路478号",  # short: masked once, then remembered
        "送到 文三路478号 " + "x" * 80,  # long: masked each time
        "签收 13800138000",
    ],
)
def test_short_and_long_values_are_masked_alike_every_time(text: str) -> None:
    for _ in range(2):
        masked = mask_sensitive(None, "info", {"what": text})["what"]
        assert masked == mask_text(text)
        assert "文三路478号" not in masked
        assert PHONE not in masked
