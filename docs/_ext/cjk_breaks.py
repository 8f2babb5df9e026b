"""Sphinx extension: a line break inside Chinese text joins the lines without a space.

Markdown turns the line break of a wrapped paragraph into a space, which reads as a gap in Chinese ("即可。 各工作表");
here a break between two wide (CJK) characters is dropped; any other break stays a space, and code blocks keep
every line.
"""
from __future__ import annotations

import unicodedata

from docutils import nodes


def _wide(char: str) -> bool:
    return bool(char) and unicodedata.east_asian_width(char) in "WF"


def _joined(text: str, before: str, after: str) -> str:
    """``text`` without the line breaks between two wide characters (``before``/``after``: the characters of the
    neighbouring nodes, for a break at either end). A break beside a Latin word stays a space: "回应摘要 For"."""
    out = []
    for k, char in enumerate(text):
        if char == "\n":
            left = text[k - 1] if k else before
            right = text[k + 1] if k + 1 < len(text) else after
            if _wide(left) and _wide(right):
                continue
        out.append(char)
    return "".join(out)


def join_cjk_lines(app, doctree: nodes.document) -> None:
    for text in list(doctree.findall(nodes.Text)):
        parent = text.parent
        if "\n" not in text or parent is None or isinstance(parent, nodes.FixedTextElement):
            continue
        index = parent.index(text)
        before = parent[index - 1].astext()[-1:] if index else ""
        after = parent[index + 1].astext()[:1] if index + 1 < len(parent) else ""
        joined = _joined(str(text), before, after)
        if joined != str(text):
            parent.replace(text, nodes.Text(joined))


def setup(app):
    app.connect("doctree-read", join_cjk_lines)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
