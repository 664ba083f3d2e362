"""Text as lvyue takes it in: no control or format character, whoever typed or sent it.

Unicode's Cc (controls: ESC, TAB, LF, C1) and Cf (format: zero-width space, bidi overrides,
BOM, soft hyphen) are invisible, or reorder or break the text people read: an ESC sequence in a
note recolours a terminal reading the log, a U+202E reverses a reason on the console. One line
(ids, names, SKUs, references) holds none of them; free text (remarks, notes, reasons) keeps
line breaks, tabs and the joiners emoji and some scripts are written with.
"""

from __future__ import annotations

import unicodedata

from pydantic import AfterValidator

_INVISIBLE = frozenset({"Cc", "Cf"})
FREE_TEXT_KEEPS = frozenset("\t\n\r\u200c\u200d")
"""What free text keeps of them: line breaks and tabs of a multi-line note, and the joiners
(ZWNJ, ZWJ) that emoji sequences and some scripts are written with."""


def invisible_problem(value: str, keep: frozenset[str] = frozenset()) -> str | None:
    """Why text cannot be kept: its first control or format character (Unicode Cc or Cf) not
    in `keep`; None when it has none."""
    if value.isprintable():  # the common case, in C: no Cc or Cf (nor any other unprintable)
        return None
    for char in value:
        if char not in keep and unicodedata.category(char) in _INVISIBLE:
            name = unicodedata.name(char, "a control character")
            return (
                f"must not contain U+{ord(char):04X} ({name}): control and format characters "
                "are invisible, or reorder the text people read"
            )
    return None


def cleaned_free_text(value: str, limit: int) -> str:
    """A platform's free text (a buyer's note, a cancel reason) as lvyue keeps it: without the
    characters free_text refuses, stripped, at most `limit` characters. Cleaned, never refused:
    it is only read by people, and must not bounce the order it comes with."""
    if not value.isprintable():
        value = "".join(
            c for c in value if c in FREE_TEXT_KEEPS or unicodedata.category(c) not in _INVISIBLE
        )
    return value.strip()[:limit]


def one_line(value: str) -> str:
    """`value`, or a ValueError naming its first control or format character."""
    problem = invisible_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def free_text(value: str) -> str:
    """`value`, or a ValueError naming its first control or format character other than a line
    break, a tab or a joiner."""
    problem = invisible_problem(value, FREE_TEXT_KEEPS)
    if problem is not None:
        raise ValueError(problem)
    return value


OneLine = AfterValidator(one_line)
"""`Annotated[str, ..., OneLine]`: an operator's or integrator's single-line text."""
FreeText = AfterValidator(free_text)
"""`Annotated[str, ..., FreeText]`: an operator's or integrator's note, reason or description."""
