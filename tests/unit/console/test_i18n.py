"""Both languages say everything; the visitor's language is chosen as browsers expect."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lvyue.console.i18n import MESSAGES, Translator, choose_language

TEMPLATES = Path(__file__).resolve().parents[3] / "services/console/src/lvyue/console/templates"


def test_both_languages_have_every_message_with_the_same_placeholders() -> None:
    assert set(MESSAGES["zh"]) == set(MESSAGES["en"])
    for key in MESSAGES["en"]:
        fields = set(re.findall(r"{(\w+)}", MESSAGES["en"][key]))
        assert fields == set(re.findall(r"{(\w+)}", MESSAGES["zh"][key])), key


def test_every_message_a_template_uses_exists() -> None:
    used = {
        key
        for template in TEMPLATES.glob("*.html")
        for key in re.findall(r"t\('(\w+)'", template.read_text())
    }
    assert used, "the templates use messages"
    assert used - set(MESSAGES["en"]) == set()


@pytest.mark.parametrize(
    ("cookie", "header", "language"),
    [
        ("en", "zh-CN,zh;q=0.9", "en"),  # the switch wins
        (None, "en-GB,en;q=0.9", "en"),
        (None, "fr-FR, zh-TW;q=0.8, en;q=0.5", "zh"),  # the first one spoken
        (None, "fr-FR", "zh"),  # none spoken: the operators' default
        ("de", None, "zh"),  # an unknown cookie is ignored
        (None, "x" * 5000, "zh"),
    ],
)
def test_language_choice(cookie: str | None, header: str | None, language: str) -> None:
    assert choose_language(cookie, header) == language


def test_an_unknown_message_is_a_bug_not_a_blank() -> None:
    with pytest.raises(KeyError):
        Translator("en")("no_such_message")
    assert Translator("zh")("total", total=3) == "共 3 条"
