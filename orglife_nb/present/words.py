"""Values in the words a person reads, the same in every place that shows them (documents, reports, forms,
training, the phone vote page): dates, enum labels, 是/否, and Chinese running text without stray spaces."""
from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from .values import missing

YES_NO = {True: "是", False: "否"}
ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
# Chinese running text puts no space beside a Chinese character; the checks' messages space out the names and
# numbers they insert for a terminal table ("关于 黎德胜 的意见")
CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef"
_CJK_SPACE = re.compile(rf"[ \t]+(?=[{CJK}])|(?<=[{CJK}])[ \t]+")


def label(enum, code: Any, missing_text: str = "") -> str:
    """An enum code as its Chinese label (``MeetingKind('regular')`` → 组织生活会)."""
    return missing_text if missing(code) else enum(code).label


def yes_no(value: Any, missing_text: str = "") -> str:
    return missing_text if missing(value) else YES_NO[bool(value)]


def cn_date(value: Any, missing_text: str = "") -> str:
    """``2026年11月20日``: how a document or page addressed to people writes a day."""
    if missing(value):
        return missing_text
    day = pd.Timestamp(value)
    return f"{day.year}年{day.month}月{day.day}日"


def iso_date(value: Any) -> str:
    """``2026-11-20``: how a table writes a day (sorts and lines up)."""
    return "" if missing(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def iso_dates(values: pd.Series) -> np.ndarray:
    """``iso_date`` of a whole column (one strftime pass, not one call per value)."""
    return pd.to_datetime(values).dt.strftime("%Y-%m-%d").fillna("").to_numpy(dtype=object)


def cn_dates(value: str) -> str:
    """ISO dates inside a sentence (a check's message) written the Chinese way."""
    return ISO_DATE.sub(lambda m: f"{int(m[1])}年{int(m[2])}月{int(m[3])}日", value)


_ASCII_BRACKETS = re.compile(r"\(([^()\n]*)\)")
_HAN = re.compile(f"[{CJK}]")


def cn_brackets(value: str) -> str:
    """ASCII parentheses in or beside Chinese text written full-width (时长(小时) → 时长（小时）); around Latin text
    alone they stay."""
    def swap(match: re.Match) -> str:
        around = match.string[max(0, match.start() - 1):match.start()] + match[1] + match.string[match.end():][:1]
        return f"（{match[1]}）" if _HAN.search(around) else match[0]

    return _ASCII_BRACKETS.sub(swap, value)


def tight(value: str) -> str:
    """No space next to a Chinese character or full-width punctuation (spaces between Latin words stay)."""
    return _CJK_SPACE.sub("", value)


__all__ = ["CJK", "ISO_DATE", "YES_NO", "cn_brackets", "cn_date", "cn_dates", "iso_date", "iso_dates", "label", "tight", "yes_no"]
