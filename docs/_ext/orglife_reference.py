"""Sphinx extension: the rule catalogue and the workbook reference, generated from the package at build time.

``reference/rules.md`` and ``reference/workbook.md`` hold only their hand-written introduction; when Sphinx reads
them, this extension appends the tables built from the rule registry (``orglife_nb.rules``) and the record models
(``orglife_nb.models``). The text is made in memory (``source-read``), so no generated file sits in the tree to go
stale, and both pages are re-read on every build (``env-get-outdated``) since their input is Python, not Markdown.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from orglife_nb.models import BY_TABLE, RECORDS, FieldSpec, Record, fields_of, parse_time
from orglife_nb.rules import rule_table
from orglife_nb.rules.registry import CATALOGUE_HEADERS, FAMILIES, SEVERITY_LABELS, catalogue_rows
from orglife_nb.sources import DOCUMENTS, LEGEND

# what a column holds, in the words of the blank template's notes
KIND_WORDS = {"id": "编号（文本）", "text": "文本", "date": "日期", "bool": "是/否", "int": "整数",
              "number": "数字", "enum": "选项"}


def cell(value: object) -> str:
    """One Markdown table cell: pipes escaped, line breaks as spaces, empty for None."""
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip()


def table(headers: Iterable[str], rows: Iterable[Iterable[object]], css: str | None = None) -> list[str]:
    """A Markdown table; ``css``: a class on a container around it (docs/_static/cjk.css keeps its key columns
    from wrapping)."""
    headers = list(headers)
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    if css:
        lines = [f":::{{container}} {css}", *lines, ":::"]
    return lines + [""]


def rules_markdown() -> str:
    """Every registered rule, one table per family in catalogue order, then the legend of the cited documents."""
    catalogue = rule_table()
    rows = catalogue_rows(catalogue)
    lines = [f"共 {len(rows)} 条规则（{'、'.join(f'{label} {n} 条' for label, n in _severity_counts(catalogue))}）。",
             ""]
    for family, label in FAMILIES.items():
        chosen = [row for row, code in zip(rows, catalogue.family) if code == family]
        if not chosen:
            continue
        lines += [f"## {label}（{family}）", ""]
        # the family column repeats the section's title: left out here, kept in `orglife rules`
        keep = [i for i, header in enumerate(CATALOGUE_HEADERS) if header != "类别"]
        lines += table([CATALOGUE_HEADERS[i] for i in keep], ([row[i] for i in keep] for row in chosen),
                       css="orglife-rules")
    lines += ["## 出处中的文件代码", ""]
    lines += table(["代码", "文件"], DOCUMENTS.items())
    lines += [LEGEND, ""]
    return "\n".join(lines)


def _severity_counts(catalogue) -> list[tuple[str, int]]:
    counts = catalogue.severity.value_counts()
    return [(SEVERITY_LABELS[s], int(counts[s])) for s in SEVERITY_LABELS if s in counts]


def kind_words(spec: FieldSpec) -> str:
    if spec.parse is parse_time:
        return "时间（HH:MM）"
    return KIND_WORDS[spec.kind]


def choices_words(spec: FieldSpec) -> str:
    if spec.enum is not None:
        return "、".join(f"{member.label}（`{member.value}`）" for member in spec.enum)
    if spec.kind == "bool":
        return "是/否"
    return ""


def note_words(spec: FieldSpec) -> str:
    parts = [spec.note] if spec.note else []
    if spec.ref:
        extra = f"，或填“{spec.ref_or}”" if spec.ref_or else ""
        parts.append(f"须为“{BY_TABLE[spec.ref].sheet}”表中的编号{extra}")
    if spec.confidential:
        parts.append("保密内容")
    return "；".join(parts)


def sheet_facts(record: type[Record]) -> str:
    facts = [f"每行一条记录（{record.label}）", f"数据库表 `{record.table}`"]
    if record.key:
        facts.append("唯一编号列：" + "、".join(f"“{next(f.header for f in fields_of(record) if f.name == k)}”"
                                            for k in record.key))
    elif record.parent:
        facts.append("属于一次会议：导入时按会议整体替换")
    if record.confidential:
        facts.append("整表为保密内容（分析人员须经授权才能读取，公示版报告不含）")
    return "；".join(facts) + "。"


def workbook_markdown() -> str:
    """Every sheet of the exchange workbook in workbook order: its columns, types, required, choices, notes."""
    lines = [f"共 {len(RECORDS)} 张工作表：" + "、".join(f"“{r.sheet}”" for r in RECORDS) + "。", ""]
    for record in RECORDS:
        lines += [f"## {record.sheet}", "", sheet_facts(record), ""]
        rows = ((f"**{s.header}**" if s.required else s.header, f"`{s.name}`", kind_words(s),
                 "是" if s.required else "", choices_words(s), note_words(s)) for s in fields_of(record))
        lines += table(["列名", "字段", "类型", "必填", "可选值", "说明"], rows, css="orglife-workbook")
    return "\n".join(lines)


GENERATED: dict[str, Callable[[], str]] = {"reference/rules": rules_markdown, "reference/workbook": workbook_markdown}


def _append_generated(app, docname: str, source: list[str]) -> None:
    if docname in GENERATED:
        source[0] = source[0].rstrip() + "\n\n" + GENERATED[docname]() + "\n"


def _always_reread(app, env, added, changed, removed) -> list[str]:
    return [name for name in GENERATED if name in env.found_docs]


def setup(app):
    app.connect("source-read", _append_generated)
    app.connect("env-get-outdated", _always_reread)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
