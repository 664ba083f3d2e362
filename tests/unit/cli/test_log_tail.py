"""The end of a log for an error message: its last lines, read without loading a large log."""

from __future__ import annotations

from pathlib import Path

from lvyue.cli import log_tail as module
from lvyue.cli.log_tail import log_tail


def test_the_last_lines_of_a_long_log(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    path.write_text("".join(f"line {i}\n" for i in range(200_000)))  # 2.3 MB
    assert log_tail(path, lines=3) == "line 199997\nline 199998\nline 199999"


def test_only_the_end_of_the_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    path.write_bytes(b"early\n" + b"x" * (2 * module.TAIL_BYTES) + b"\nlate\n")
    tail = log_tail(path, lines=100)
    assert "early" not in tail
    assert tail.endswith("late")
    assert len(tail) <= module.TAIL_BYTES


def test_bytes_that_are_not_utf8_and_a_missing_log(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    path.write_bytes(b"FATAL: \xff\xfe broken\n")
    assert log_tail(path) == "FATAL: \ufffd\ufffd broken"
    assert log_tail(tmp_path / "never-written.log") == ""
