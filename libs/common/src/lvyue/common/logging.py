"""Structured JSON logs (structlog) with customer phone numbers and addresses masked."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

# Keys whose values are customer contact data (rule data_masking).
_SENSITIVE_KEYS = frozenset(
    {
        "phone",
        "mobile",
        "tel",
        "telephone",
        "receiver_phone",
        "address",
        "street",
        "detail",
        "address1",
        "address2",
        "receiver_address",
        "email",
    }
)
_PHONE_KEYS = frozenset({"phone", "mobile", "tel", "telephone", "receiver_phone"})
# Mainland mobiles (optionally +86) and other long digit runs that look like phone numbers.
_PHONE_RE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")


def mask_phone(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]  # +86 country code
    if len(digits) < 7:
        return "***"
    return f"{digits[:3]}****{digits[-4:]}"


def mask_text(value: str) -> str:
    """Masks phone numbers found anywhere inside free text."""
    return _PHONE_RE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", value)


def _mask_value(key: str, value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _mask_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_value(key, v) for v in value]
    lowered = key.lower()
    if isinstance(value, int) and lowered in _PHONE_KEYS:
        return mask_phone(str(value))
    if not isinstance(value, str):
        return value
    if lowered in _PHONE_KEYS:
        return mask_phone(value)
    if lowered in _SENSITIVE_KEYS:
        return value[:2] + "***" if value else value
    return mask_text(value)


def mask_sensitive(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: masks contact data in every field, nested ones included."""
    for key, value in list(event_dict.items()):
        event_dict[key] = _mask_value(key, value)
    return event_dict


def configure_logging(*, level: str = "INFO", json: bool = True, service: str = "lvyue") -> None:
    """Routes structlog and the standard library (uvicorn, aiokafka) through one JSON renderer."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        mask_sensitive,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    structlog.contextvars.bind_contextvars(service=service)
    for noisy in ("aiokafka", "kafka"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
