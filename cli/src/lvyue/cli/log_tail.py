"""The end of a log file, for an error message that says why a process stopped."""

from __future__ import annotations

import os
from pathlib import Path

TAIL_BYTES = 16 * 1024  # the end is what explains an exit; a log may have grown to gigabytes


def log_tail(path: Path, lines: int = 8) -> str:
    """The last `lines` lines of the log at `path`, read from its last TAIL_BYTES only; empty
    when it cannot be read."""
    try:
        with path.open("rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(0, log.tell() - TAIL_BYTES))
            end = log.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(end.splitlines()[-lines:])
