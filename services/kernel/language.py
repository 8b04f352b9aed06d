"""The citizen's language for messages: Chinese unless they ask for English."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

Language = Literal["zh", "en"]


class InvalidValue(ValueError):
    """A rule's refusal, worded for the citizen in both languages."""

    def __init__(self, en: str, zh: str) -> None:
        super().__init__(en)
        self.en = en
        self.zh = zh

    def text(self, language: Language) -> str:
        return self.zh if language == "zh" else self.en


def preferred_language(accept_language: str | None) -> Language:
    """English when the client ranks it above Chinese (`Accept-Language: en`), else Chinese."""
    ranks: dict[str, float] = {}
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in ("zh", "en"):
            continue
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranks[primary] = max(ranks.get(primary, 0.0), quality)
    return "en" if ranks.get("en", 0.0) > ranks.get("zh", 0.0) else "zh"


# Pydantic's error types, in Chinese; `{name}` fills from the error's context.
_CHINESE = {
    "missing": "必须填写",
    "string_too_short": "至少需要 {min_length} 个字符",
    "string_too_long": "最多 {max_length} 个字符",
    "string_type": "应为文本",
    "extra_forbidden": "不接受这个字段",
    "literal_error": "只能是以下之一：{expected}",
    "enum": "只能是以下之一：{expected}",
    "less_than_equal": "不能大于 {le}",
    "greater_than_equal": "不能小于 {ge}",
    "less_than": "必须小于 {lt}",
    "greater_than": "必须大于 {gt}",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "bool_parsing": "应为是或否",
    "model_type": "应为一个对象",
    "model_attributes_type": "应为一个对象",
    "dict_type": "应为一个对象",
    "json_invalid": "不是有效的 JSON",
    "json_type": "不是有效的 JSON",
}


def error_message(error: Mapping[str, Any], language: Language) -> str:
    """One validation error's message in `language` (English falls back to pydantic's)."""
    context = error.get("ctx") or {}
    cause = context.get("error")
    if isinstance(cause, InvalidValue):
        return cause.text(language)
    if language == "en":
        return str(error.get("msg", "invalid"))
    template = _CHINESE.get(str(error.get("type")))
    if template is None:
        return str(error.get("msg", "invalid"))
    if "expected" in context:
        # Pydantic lists choices as "'a', 'b' or 'c'"; Chinese lists them "'a'、'b'、'c'".
        choices = str(context["expected"]).replace(" or ", "、").replace(", ", "、")
        context = {**context, "expected": choices}
    try:
        return template.format(**context)
    except (KeyError, IndexError):
        return str(error.get("msg", "invalid"))
