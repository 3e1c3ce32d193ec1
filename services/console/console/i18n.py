"""Message catalogs: one JSON file per language under messages/, Chinese by default, chosen by a cookie."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
LANGUAGE_COOKIE = "console_lang"


@cache
def catalog(language: str) -> dict[str, str]:
    text = (resources.files("console") / "messages" / f"{language}.json").read_text(encoding="utf-8")
    messages: dict[str, str] = json.loads(text)
    return messages


def language_of(cookie: str | None) -> str:
    return cookie if cookie in LANGUAGES else DEFAULT_LANGUAGE


def translator(language: str) -> Translator:
    return Translator(catalog(language_of(language)))


class Translator:
    def __init__(self, messages: dict[str, str]) -> None:
        self.messages = messages

    def __call__(self, key: str, **values: object) -> str:
        # A missing key shows itself rather than failing the page; the catalog test keeps both complete.
        text = self.messages.get(key, key)
        return text.format(**values) if values else text

    def value(self, group: str, value: str | None) -> str:
        """An API's code word (a status, a kind) in this language, or the word itself when unknown."""
        if value is None:
            return ""
        return self.messages.get(f"{group}.{value}", value)
