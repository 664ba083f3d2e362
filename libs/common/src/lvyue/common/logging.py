"""Structured JSON logs (structlog) with customer names, phones, addresses and remarks masked,
in every field, message and traceback."""

from __future__ import annotations

import functools
import logging
import re
import sys
import threading
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

# Keys (or "_"-separated parts of keys) whose values are customer data (rule data_masking).
_PHONE_KEYS = frozenset({"phone", "mobile", "tel", "telephone"})
_ADDRESS_KEYS = frozenset({"address", "addr", "street", "detail", "address1", "address2", "email"})
_NAME_KEYS = frozenset(
    {"name", "nick", "nickname", "consignee", "firstname", "lastname", "buyers"}
)  # fmt: skip
# Names of things, not people: `service_name` would otherwise match the "name" part.
_THING_NAMES = frozenset(
    {"service_name", "logger_name", "sku_name", "warehouse_name", "topic_name", "job_name",
     "task_name", "step_name", "shop_name", "carrier_name", "platform_name", "host_name",
     "app_name", "event_name", "rule_name", "sla_name", "table_name", "group_name"}
)  # fmt: skip
# Settings and rule names that only look like contact data: a region code, a yes/no, the
# keywords and rules of the review (the blacklists of phones and buyers stay masked).
_CONFIG_KEYS = frozenset(
    {"review_phone_region", "review_mobile_only", "review_remark_keywords",
     "remark_needs_human", "phone_unreachable", "phone_invalid"}
)  # fmt: skip
# Free text written by buyers or operators: anything may be in it, so none of it is logged.
_REMARK_KEYS = frozenset({"remark", "remarks", "note", "notes", "memo", "comment", "comments"})
_REMARK_NAMES = frozenset({"buyer_message", "seller_message", "first_name", "last_name"})
# What a request or a query carried, echoed by validation and driver errors.
_INPUT_KEYS = frozenset({"input", "input_value", "body", "params", "parameters"})

# Mainland mobiles (optionally +86) and other long digit runs that look like phone numbers.
_PHONE_RE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")
# A run of Chinese text naming a street-level place (road, number, building, room, village),
# matched from the run's start only (the lookbehind): from every character of a long run of
# word characters in turn, the expression took time quadratic in its length (26 s for a
# platform's 40,000-character error text); from its start alone, linear.
_CN_ADDRESS_RE = re.compile(
    r"(?<![\u4e00-\u9fff\w#-])[\u4e00-\u9fff\w#-]*"
    r"(?:路|街|巷|弄|号|栋|幢|楼|室|单元|村|镇|乡|小区|大厦|广场|花园|公寓)"
    r"[\u4e00-\u9fff\w#-]*"
)
# A character every match of _CN_ADDRESS_RE holds: text without one (request ids, routes,
# timestamps: nearly every value) skips that expression.
_CN_ADDRESS_MARK_RE = re.compile(r"[路街巷弄号栋幢楼室单村镇乡区厦场园寓]")
# "150 Elgin Street", "1600 Amphitheatre Pkwy": a house number, words, a street type.
_EN_ADDRESS_RE = re.compile(
    r"\b\d{1,6}[A-Za-z]?\s+(?:[\w.'-]+\s+){0,4}"
    r"(?:street|st|road|rd|avenue|ave|boulevard|blvd|lane|ln|drive|dr|way|court|ct|place|pl"
    r"|parkway|pkwy|terrace|square|sq|highway|hwy|crescent|close)\b\.?",
    re.IGNORECASE,
)
# Values echoed by pydantic ("input_value=..."), SQLAlchemy ("[parameters: ...]") and asyncpg
# ("invalid input for query argument $2: ...").
_ECHOED_RE = re.compile(
    r"(input_value=).*?(?=, input_type=|\]$|$)|(query argument \$\d+: )[^\n]*",
    re.MULTILINE | re.DOTALL,
)
# SQLAlchemy's parameters run to the "]" that ends its line or precedes "(Background on this
# error": found from each "[parameters: " in turn (one expression searched from every
# occurrence again when no such "]" follows took time quadratic in their number).
_PARAMETERS = "[parameters: "
_PARAMETERS_END_RE = re.compile(r"\](?=\s*(?:\(Background|$))", re.MULTILINE)


def mask_phone(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]  # +86 country code
    if len(digits) < 7:
        return "***"
    return f"{digits[:3]}****{digits[-4:]}"


def _echoed(match: re.Match[str]) -> str:
    return f"{match.group(1) or match.group(2)}***"


def _mask_echoed(value: str) -> str:
    """_ECHOED_RE's and SQLAlchemy's parameters' matches, leftmost first, each masked."""
    kept: list[str] = []
    at = 0
    echoed = _ECHOED_RE.search(value)
    start = value.find(_PARAMETERS)
    while echoed is not None or start != -1:
        if echoed is not None and (start == -1 or echoed.start() < start):
            kept.append(value[at : echoed.start()] + _echoed(echoed))
            at = echoed.end()
        else:
            end = _PARAMETERS_END_RE.search(value, start + len(_PARAMETERS))
            if end is None:
                start = -1  # no "]" ends this one, so none ends a later one either
                continue
            kept.append(f"{value[at:start]}{_PARAMETERS}***]")
            at = end.end()
        # each search goes on from where the last masked text ended: every character is read
        # a bounded number of times
        if echoed is not None and echoed.start() < at:
            echoed = _ECHOED_RE.search(value, at)
        if start != -1 and start < at:
            start = value.find(_PARAMETERS, at)
    return "".join(kept) + value[at:]


def mask_text(value: str) -> str:
    """Masks what free text (messages, exceptions, tracebacks) may carry: phone numbers,
    addresses, and the inputs that validation and database errors echo."""
    value = _mask_echoed(value)
    value = _PHONE_RE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", value)
    value = _EN_ADDRESS_RE.sub("***", value)
    if _CN_ADDRESS_MARK_RE.search(value) is None:
        return value
    return _CN_ADDRESS_RE.sub(lambda m: m.group(0)[:2] + "***", value)


@functools.lru_cache(maxsize=4096)  # log keys repeat (every access log has the same ones)
def _kind(key: str) -> str | None:
    lowered = key.lower()
    if lowered in _CONFIG_KEYS:
        return None
    parts = {lowered, *lowered.split("_")}
    if lowered in _REMARK_NAMES or parts & _REMARK_KEYS or parts & _INPUT_KEYS:
        return "all"
    if parts & _PHONE_KEYS:
        return "phone"
    if parts & _ADDRESS_KEYS:
        return "address"
    if parts & _NAME_KEYS and lowered not in _THING_NAMES:
        return "name"
    return None


def _mask_value(key: str, value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _mask_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_mask_value(key, v) for v in value]
    if value is None or isinstance(value, bool | float):
        return value
    kind = _kind(key)
    if isinstance(value, int):
        return mask_phone(str(value)) if kind == "phone" else value
    # Anything else is rendered as text; an object's str may hold customer data too.
    text = _bounded(value if isinstance(value, str) else str(value))
    if not text:
        return text
    if kind == "all":
        return "***"
    if kind == "phone":
        return mask_phone(text)
    if kind == "address":
        return text[:2] + "***"
    if kind == "name":
        return text[:1] + "***" if _is_cjk(text[:2]) else text[:2] + "***"
    return _mask_short_text(text) if len(text) <= _SHORT_TEXT else mask_text(text)


_SHORT_TEXT = 64
# The most of one value a log line carries: its head and its tail (a traceback's last lines
# name the error), cut before masking, so that no value (a platform's error page, a body
# echoed by a library) costs more than a bounded time to mask nor fills the log.
MAX_VALUE_CHARS = 16 * 1024


def _bounded(text: str) -> str:
    if len(text) <= MAX_VALUE_CHARS:
        return text
    half = MAX_VALUE_CHARS // 2
    # On lines of its own, ending in "]": an echoed value the cut left open in the head is
    # masked up to it, as if it ended there.
    return f"{text[:half]}\n…[{len(text) - 2 * half} characters cut]\n{text[-half:]}"


# Most short values repeat on every line (event names, methods, routes, the service): masked
# once. Unique ones (request ids) only pass through.
@functools.lru_cache(maxsize=1024)
def _mask_short_text(text: str) -> str:
    return mask_text(text)


def _is_cjk(text: str) -> bool:
    # Two Chinese characters can be a whole name: keep one.
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def mask_sensitive(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: masks contact data in every field, nested ones included, but the
    fields the logging pipeline itself writes over whatever a caller passed."""
    for key, value in list(event_dict.items()):
        if key not in _PIPELINE_KEYS:
            event_dict[key] = _mask_value(key, value)
    return event_dict


# Written by add_log_level, add_logger_name and TimeStamper (configure_logging), which replace
# a caller's value of the same key: never customer data.
_PIPELINE_KEYS = frozenset({"level", "logger", "timestamp"})


def configure_logging(*, level: str = "INFO", json: bool = True, service: str = "lvyue") -> None:
    """One JSON renderer (masked) for structlog's loggers and the standard library's (uvicorn,
    aiokafka). structlog's write their line to stderr themselves: through the standard
    library's handler, formatter and record, a line cost about twice as much."""
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    stamped: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    threshold = logging.getLevelNamesMapping()[level.upper()]
    structlog.configure(
        processors=[*stamped, structlog.processors.format_exc_info, mask_sensitive, renderer],
        logger_factory=_stderr_logger,
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=stamped,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            # After the traceback is text, so that it is masked too.
            mask_sensitive,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(threshold)
    structlog.contextvars.bind_contextvars(service=service)
    for noisy in ("aiokafka", "kafka"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


class _StderrLines:
    """structlog's logger for lvyue: each rendered line written to the stderr of the moment
    (a test's capture, once it replaces it), under the name asked for (`get_logger(__name__)`),
    which add_logger_name reads."""

    def __init__(self, name: str) -> None:
        self.name = name

    def msg(self, message: str) -> None:
        with _WRITING:
            stream = sys.stderr
            stream.write(message + "\n")
            stream.flush()

    debug = info = warning = warn = error = err = critical = fatal = exception = failure = msg


_WRITING = threading.Lock()


def _stderr_logger(*args: Any) -> _StderrLines:
    return _StderrLines(str(args[0]) if args else "lvyue")
