"""The documents the rules cite, named for readers.

The rule catalogue cites its sources in a short form (``003 民主 二.2``: document code, then the clause); reports
and exports show the documents' titles instead (``《党员领导干部民主生活会制度》二.2``) and a legend of them.
"""
from __future__ import annotations

import re

# code → title, longest code first (``003 民主`` before ``003``)
DOCUMENTS = {
    "003 民主": "《党员领导干部民主生活会制度》",
    "003": "《基层组织生活会制度》",
    "000": "《组织生活会程序》",
}
LEGEND = ("依据说明：《基层组织生活会制度》与《党员领导干部民主生活会制度》按章节条款引用（如“二.2”即第二部分第 2 条）；"
          "《组织生活会程序》为五篇程序汇编，按篇和条款引用（如“第一篇 1.1”）。")
_CODE = re.compile(r"^(" + "|".join(re.escape(code) for code in DOCUMENTS) + r")(?:\s+|$)")


def cite(source: object) -> str:
    """A catalogue source in words: each ``；``-separated part names its document; a part without a code goes on
    in the document before it (``000 第一篇 2.2；第五篇 (二)1``)."""
    if not isinstance(source, str):
        return ""
    parts = []
    for part in source.split("；"):
        part = part.strip()
        match = _CODE.match(part)
        if match:
            parts.append(DOCUMENTS[match.group(1)] + part[match.end():])
        else:
            parts.append(part)
    return "；".join(parts)
