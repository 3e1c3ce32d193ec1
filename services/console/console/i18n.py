"""Message catalogs: messages/<language>/<area>.json, merged per language (one file per screen area, so areas are
edited apart); Chinese by default, chosen by a cookie."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
LANGUAGE_COOKIE = "console_lang"


@cache
def catalog(language: str) -> dict[str, str]:
    """Every area's messages in one language; a key defined by two areas is an error, not a silent override."""
    messages: dict[str, str] = {}
    folder = resources.files("console") / "messages" / language
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if not entry.name.endswith(".json"):
            continue
        area: dict[str, str] = json.loads(entry.read_text(encoding="utf-8"))
        clash = set(area) & set(messages)
        if clash:
            raise ValueError(f"messages/{language}/{entry.name} repeats keys: {sorted(clash)}")
        messages.update(area)
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
