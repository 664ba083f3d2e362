"""Capturing the JSON log lines a block emits, with the services' own logging configuration."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog

from lvyue.common.logging import configure_logging


@contextmanager
def configured(**options: Any) -> Iterator[None]:
    """configure_logging for one block, then structlog, contextvars and the root logger restored.

    Used inside the test body (not a fixture) so pytest's own per-phase log handlers are
    saved and restored within the same phase.
    """
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    noisy = {name: logging.getLogger(name).level for name in ("aiokafka", "kafka")}
    context = structlog.contextvars.get_contextvars()
    try:
        configure_logging(**options)
        yield
    finally:
        structlog.reset_defaults()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(**context)
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, noisy_level in noisy.items():
            logging.getLogger(name).setLevel(noisy_level)


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]
