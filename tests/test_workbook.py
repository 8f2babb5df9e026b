"""The exchange workbook: template, import (every rule of workbook.md), export and the round trip.

Fixture workbooks are built here with openpyxl; headers are written out literally because they are the public
contract (workbook.md), not read from the models.
"""
from __future__ import annotations

import copy
import datetime as dt
import inspect

import openpyxl
import pandas as pd
import pytest

from orglife_nb.cli import main
from orglife_nb.models import RECORDS, Attendance, Member, Record, Role, fields_of, parse_time
from orglife_nb.store import Store
from orglife_nb.workbook import import_file, problems_frame, read_workbook, write_template
from orglife_nb.workbook.read import Problem
from clikit import cli as run

D = dt.date

# ---------------------------------------------------------------------------------------------------------------
# Fixture workbooks


def base_sheets() -> dict[str, list[list]]:
    """A small valid workbook: two branches, every sheet, every reference kind."""
    return {
        "支部": [
            ["支部编号", "支部名称", "上级党组织", "单位类型", "设支委会", "有领导班子"],
            ["001", "第一党支部", "机关党委", "机关", "是", "否"],
            ["002", "第二党支部", "机关党委", "社区", "否", "否"],
        ],
        "党员": [
            ["党员编号", "支部编号", "姓名", "职务", "党员类别", "领导干部", "班子成员", "特殊情况"],
            ["M001", "001", "张书记", "书记", "正式党员", "是", "否", "无"],
            ["M002", "001", "李委员", "委员", "正式党员", "否", "否", "无"],
            ["M003", "001", "王党员", "党员", "预备党员", "否", "否", "流动"],
            ["M101", "002", "赵书记", "书记", "正式党员", "否", "否", "无"],
            ["M102", "002", "钱党员", "党员", "正式党员", "否", "否", "年老体弱"],
        ],
        "会议": [
            ["会议编号", "支部编号", "会议类型", "年度", "半年", "主题", "召开日期", "时长(小时)", "地点", "主持人",
             "通知日期", "合并召开", "测评方案", "会议小结"],
            ["G1", "001", "组织生活会", 2026, "上半年", "主题一", D(2026, 6, 20), 3.5, "会议室", "M001",
             D(2026, 6, 5), "否", "四档", "小结"],
            ["G2", "002", "专题组织生活会", 2026, "下半年", "主题二", D(2026, 12, 10), 4, "活动室", "M101",
             None, "否", "三档", None],
        ],
        "学习": [
            ["会议编号", "日期", "形式", "时长(小时)", "内容"],
            ["G1", D(2026, 6, 1), "集中", 4, "学习党章"],
            ["G1", D(2026, 6, 2), "自学", 4, "自学"],
        ],
        "征求意见": [
            ["会议编号", "日期", "方式", "来源", "对象", "内容", "反馈日期"],
            ["G1", D(2026, 6, 3), "个别谈话", "党员", "支部班子", "意见一", D(2026, 6, 10)],
            ["G1", D(2026, 6, 4), "集体座谈", "群众", "M002", "意见二", None],
        ],
        "谈心谈话": [
            ["会议编号", "日期", "谈话人", "谈话对象", "内容摘要"],
            ["G1", D(2026, 6, 8), "M001", "M002", "谈话一"],
            ["G1", D(2026, 6, 9), "上级", "M001", "谈话二"],
        ],
        "对照检查": [
            ["会议编号", "党员编号", "材料类型", "提交日期", "审核人", "审核日期"],
            ["G1", "M001", "对照检查材料", D(2026, 6, 12), "上级领导", D(2026, 6, 14)],
        ],
        "出席": [
            ["会议编号", "党员编号", "出席情况", "原因", "书面发言", "会上宣读", "会后告知日期"],
            ["G1", "M001", "出席", None, None, None, None],
            ["G1", "M002", "出席", None, None, None, None],
            ["G1", "M003", "请假", "出差", "是", "是", D(2026, 6, 22)],
            ["G2", "M101", "出席", None, None, None, None],
            ["G2", "M102", "缺席", None, None, None, None],
        ],
        "批评": [
            ["会议编号", "序号", "阶段", "对象", "发言人", "类型", "内容"],
            ["G1", 1, "支委会", "M001", "M001", "自我批评", "自我批评内容"],
            ["G1", 2, "支委会", "M001", "M002", "批评", "批评内容"],
            ["G1", 3, "支委会", "M001", "M001", "表态", "表态内容"],
        ],
        "测评": [
            ["会议编号", "票号", "被测评人", "等次", "投票人类别"],
            ["G1", "P01", "M002", "优秀", "党员"],
            ["G1", "P01", "M003", "合格", "党员"],
            ["G2", "P01", "M102", "好", "群众代表"],
        ],
        "评定": [
            ["会议编号", "党员编号", "个人小结", "评定等次", "表决通过", "处理意见", "反馈日期"],
            ["G1", "M002", "是", "优秀", "是", None, D(2026, 6, 25)],
            ["G1", "M003", "是", "合格", None, None, D(2026, 6, 25)],
        ],
        "整改": [
            ["整改编号", "会议编号", "问题", "责任类别", "责任人", "目标", "措施", "时限", "状态", "完成日期"],
            ["R1", "G1", "学习不够", "个人", "M002", "提高", "多学", D(2026, 9, 30), "未完成", None],
            ["R2", "G2", "制度不全", "党组织", "M101", "完善", "建章立制", D(2026, 12, 31), "已完成", D(2026, 12, 20)],
        ],
    }


def save_xlsx(path, sheets: dict[str, list[list]]):
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def set_cell(sheets: dict, sheet: str, row: int, header: str, value) -> None:
    """Put ``value`` at Excel row ``row`` (header = row 1) under ``header``."""
    rows = sheets[sheet]
    rows[row - 1][rows[0].index(header)] = value


def template_notes(folder) -> dict[str, dict[str, str]]:
    """The blank template's header notes: sheet → header → note."""
    import openpyxl

    from orglife_nb.workbook import write_template

    write_template(folder / "t.xlsx")
    book = openpyxl.load_workbook(folder / "t.xlsx")
    return {ws.title: {c.value: c.comment.text for c in ws[1] if c.comment} for ws in book.worksheets}


def content(url: str, *, store_columns: bool = False) -> dict[str, list[tuple]]:
    """Every table's rows, order-free (child rows get new surrogate ids when replaced); NaN read as None."""
    def plain(row: tuple) -> tuple:
        return tuple(None if isinstance(v, float) and v != v else v for v in row)

    with Store(url) as store:
        return {record.table: sorted((plain(row) for row in store.read(record, store_columns=store_columns)
                                      .astype(object).itertuples(index=False, name=None)), key=repr)
                for record in RECORDS}


def rich_batch(branches: int = 3) -> dict[type[Record], pd.DataFrame]:
    """Store content with every field of every record filled (demo-like), for the round trip."""
    rows: dict[type[Record], list[dict]] = {record: [] for record in RECORDS}
    day = D(2026, 3, 1)

    def value(spec, i: int, branch: int, members: list[str]):
        if spec.ref == "members":
            return spec.ref_or if spec.ref_or and i % 3 == 2 else members[i % len(members)]
        if spec.enum is not None:
            return list(spec.enum)[i % len(spec.enum)].value
        if spec.parse is parse_time:  # a text column of its own format (开始时间)
            return f"{8 + i % 12:02d}:30"
        return {"bool": i % 2 == 0, "date": day + dt.timedelta(days=i), "int": 2026 + i, "number": 1.5 + i,
                "id": f"{i:03d}", "text": ["=不是公式", "007", f"{spec.header}{branch}-{i}"][min(i, 2)]}[spec.kind]

    for b in range(branches):
        branch = f"{b:03d}"
        members = [f"{branch}-M{m}" for m in range(4)]
        meetings = [f"{branch}-G{g}" for g in range(2)]
        for record in RECORDS:
            count = {0: 1, 1: len(members), 2: len(meetings)}.get(RECORDS.index(record), 6)
            for i in range(count):
                row = {}
                for spec in fields_of(record):
                    if spec.name in record.key:
                        row[spec.name] = {0: branch, 1: members[i % 4], 2: meetings[i % 2]}.get(
                            RECORDS.index(record), f"{branch}-R{i}")
                    elif spec.ref == "branches":
                        row[spec.name] = branch
                    elif spec.ref == "meetings":
                        row[spec.name] = meetings[i % 2]
                    elif spec.name == "role":
                        row[spec.name] = (Role.secretary if i == 0 else list(Role)[1 + i % 3]).value
                    else:
                        row[spec.name] = value(spec, i, b, members)
                rows[record].append(row)
    return {record: pd.DataFrame(data, dtype=object) for record, data in rows.items()}


@pytest.fixture
def wb(tmp_path):
    """Write a workbook from sheets under tmp_path."""
    counter = iter(range(1000))

    def make(sheets: dict | None = None, name: str | None = None):
        return save_xlsx(tmp_path / (name or f"wb{next(counter)}.xlsx"), base_sheets() if sheets is None else sheets)

    return make


# ---------------------------------------------------------------------------------------------------------------
# Template


def test_template_warns_but_accepts_what_the_header_notes_allow(tmp_path, capsys):
    out = tmp_path / "blank.xlsx"
    assert run(capsys, "template", out)[0] == 0
    sheet = openpyxl.load_workbook(out)["会议"]
    by_kind = {}
    for dv in sheet.data_validations.dataValidation:
        by_kind.setdefault((dv.type, dv.formula1 == '"是,否"'), []).append(dv)
    yes_no, dates = by_kind[("list", True)], by_kind[("date", False)]
    # Y/N, 1/0 and dates typed as text are read by the import: Excel may warn, never refuse them
    assert all(dv.errorStyle == "warning" and "Y/N" in dv.error for dv in yes_no)
    assert all(dv.errorStyle == "warning" for dv in dates)
    enums = [dv for (kind, yn), dvs in by_kind.items() if kind == "list" and not yn for dv in dvs]
    assert enums and all(dv.errorStyle in (None, "stop") for dv in enums)


def test_export_prints_on_a4_with_titles_one_page_wide_while_text_stays_readable(demo_store, tmp_path, capsys):
    out = tmp_path / "export.xlsx"
    assert run(capsys, "export", out, "--db", demo_store)[0] == 0
    book = openpyxl.load_workbook(out)
    orientations, fitted = set(), {}
    for sheet in book.worksheets:
        assert sheet.print_title_rows == "$1:$1" and sheet.page_setup.paperSize == 9
        total = sum(dimension.width for dimension in sheet.column_dimensions.values())
        # one page wide only while 11-pt text prints at 8 pt or more on a landscape A4 page (~135 width units)
        fitted[sheet.title] = sheet.sheet_properties.pageSetUpPr.fitToPage
        if fitted[sheet.title]:
            assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0
            assert total * 8 / 11 <= 135, sheet.title
        else:  # at full size across pages, the key column on each (before: 会议 printed at ~3 pt on one page)
            assert sheet.print_title_cols == "$A:$A" and total * 8 / 11 > 135, sheet.title
        orientations.add(sheet.page_setup.orientation)
        for column in sheet.iter_cols(min_row=2, max_row=max(2, min(sheet.max_row, 400))):
            longest = max((len(str(c.value)) for c in column if isinstance(c.value, str)), default=0)
            width = sheet.column_dimensions[column[0].column_letter].width
            assert width >= min(longest, 60), (sheet.title, column[0].column_letter)
    assert orientations == {"portrait", "landscape"}
    assert not fitted["会议"] and any(fitted.values())


def test_template_has_every_sheet_header_note_dropdown_and_format(tmp_path, capsys):
    out = tmp_path / "blank.xlsx"
    code, stdout, _ = run(capsys, "template", out)
    assert code == 0 and str(out) in stdout
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == [r.sheet for r in RECORDS]
    for record in RECORDS:
        sheet = book[record.sheet]
        specs = fields_of(record)
        assert [c.value for c in sheet[1]] == [s.header for s in specs]
        assert sheet.freeze_panes == "A2"
        lists = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in sheet.data_validations.dataValidation}
        for column, spec in enumerate(specs, start=1):
            cell = sheet.cell(1, column)
            assert cell.comment is not None and spec.note in cell.comment.text
            assert sheet.column_dimensions[cell.column_letter].width >= 8
            if spec.enum is not None:
                assert lists[f"{cell.column_letter}2"] == '"' + ",".join(spec.enum.labels()) + '"'
                assert "、".join(spec.enum.labels()) in cell.comment.text
            elif spec.kind == "bool":
                assert lists[f"{cell.column_letter}2"] == '"是,否"'
            elif spec.kind == "date":
                assert lists[f"{cell.column_letter}2"] == "DATE(1921,7,1)"
            else:
                assert f"{cell.column_letter}2" not in lists
            if spec.kind == "date":
                assert sheet.column_dimensions[cell.column_letter].number_format == "yyyy-mm-dd"
                assert "YYYY年M月D日" in cell.comment.text
            if spec.required:
                assert "必填" in cell.comment.text
    meeting = book["会议"]
    assert "民主生活会" in meeting["C1"].comment.text  # 会议类型 lists its labels
    host = next(cell for cell in meeting[1] if cell.value == "主持人")
    assert "“党员”表" in host.comment.text  # 主持人 says where the id must come from


def test_blank_template_imports_as_nothing(tmp_path, db_url, capsys):
    write_template(tmp_path / "blank.xlsx")
    batch, problems = read_workbook(tmp_path / "blank.xlsx")
    assert batch == {} and problems == []
    code, out, _ = run(capsys, "import", tmp_path / "blank.xlsx", "--db", db_url)
    assert code == 0 and "无需改动" in out


# ---------------------------------------------------------------------------------------------------------------
# Reading rules


def test_valid_workbook_is_stored_with_ids_as_text(wb, db_url, capsys):
    sheets = base_sheets()
    sheets["支部"].append([7, "第七党支部", None, "其他", None, None])  # numeric id cell → "7"
    code, out, _ = run(capsys, "import", wb(sheets), "--db", db_url)
    assert code == 0, out
    assert "支部 新增 3 行" in out and "整改 新增 2 行" in out
    with Store(db_url) as store:
        branches = store.read(RECORDS[0])
        assert list(branches.branch_id) == ["001", "002", "7"]
        assert list(branches.unit_type) == ["organ", "community", "other"]
        meeting = store.read(RECORDS[2]).set_index("meeting_id").loc["G1"]
        assert (meeting.date, meeting.hours, meeting.year, meeting.merged) == (D(2026, 6, 20), 3.5, 2026, False)
        assert meeting.kind == "regular" and meeting.rating_scheme == "four"
        assert len(store.read(Attendance)) == 5


def test_dates_in_every_form(wb):
    sheets = base_sheets()
    forms = [D(2026, 3, 1), dt.datetime(2026, 3, 1, 0, 0), "2026-03-01", "2026/3/1", "2026年3月1日",
             " 2026-3-1 "]
    sheets["学习"][1:] = [["G1", form, "集中", 1, f"第{i}种"] for i, form in enumerate(forms)]
    batch, problems = read_workbook(wb(sheets))
    assert problems == []
    studies = batch[RECORDS[3]]
    assert list(studies.date) == [D(2026, 3, 1)] * len(forms)
    assert all(type(v) is dt.date for v in studies.date)


def test_yes_no_variants(wb):
    sheets = base_sheets()
    answers = {"是": True, "否": False, "Y": True, "n": False, "true": True, "FALSE": False, 1: True, 0: False,
               True: True, False: False, " 是 ": True}
    sheets["党员"][1:] = [[f"M{i:03d}", "001", f"党员{i}", "书记" if i == 0 else "党员", None, answer, None, None]
                          for i, answer in enumerate(answers)]
    batch, problems = read_workbook(wb(sheets | {"会议": sheets["会议"][:1]}))
    assert [p for p in problems if p.sheet == "党员"] == []
    assert list(batch[Member].leading_cadre) == list(answers.values())


def test_missing_sheets_extra_columns_spaces_and_blank_rows(wb):
    sheets = {
        " 支部 ": [
            [" 支部编号", "备注", "支部名称 ", "  单位类型  "],
            ["  001  ", "随便写", " 第一党支部 ", " 企业 "],
            [None, None, None, None],
            [None, "只有备注的行", None, None],
            ["002", None, "第二党支部", "enterprise"],
        ],
        "说明": [["这张表不是数据"]],
    }
    batch, problems = read_workbook(wb(sheets))
    assert problems == []
    assert list(batch) == [RECORDS[0]]
    frame = batch[RECORDS[0]]
    assert list(frame.branch_id) == ["001", "002"]
    assert list(frame.name) == ["第一党支部", "第二党支部"]
    assert list(frame.unit_type) == ["enterprise", "enterprise"]  # label and code both accepted
    assert "superior" not in frame.columns


def test_header_may_start_below_row_one_and_rows_keep_excel_numbers(wb):
    sheets = {"支部": [[None, None], ["2026 年支部台账", None], ["支部编号", "支部名称"], ["001", "甲"], ["002", None]]}
    _, problems = read_workbook(wb(sheets))
    assert [(p.row, p.header, p.why) for p in problems] == [(5, "支部名称", "必填，不能为空")]


BAD_CELLS = [
    # (sheet, Excel row, header, bad value, expected reason)
    ("会议", 2, "召开日期", "2026-13-01", "不是有效的日期"),
    ("会议", 2, "召开日期", "2026-02-30", "该月没有这一天"),
    ("会议", 3, "通知日期", "下周一", "日期格式不对"),
    ("支部", 2, "设支委会", "也许", "应填 是/否"),
    ("支部", 3, "单位类型", "工厂", "不是允许的值，应为：机关/事业单位"),
    ("学习", 3, "形式", "线上", "不是允许的值，应为：集中/自学"),
    ("批评", 4, "序号", "第三", "应为整数"),
    ("会议", 2, "时长(小时)", -2, "不能为负数"),
    ("会议", 3, "时长(小时)", "两小时", "应为数字"),
    ("党员", 3, "党员编号", 2.5, "编号不能是小数"),
    ("党员", 4, "姓名", None, "必填，不能为空"),
    ("出席", 6, "出席情况", "  ", "必填，不能为空"),
    ("会议", 3, "召开日期", None, "必填，不能为空"),
    ("党员", 6, "党员编号", "M001", "编号重复：与第 2 行相同"),
    ("整改", 3, "整改编号", "R1", "编号重复：与第 2 行相同"),
    ("党员", 5, "支部编号", "009", "支部编号不存在"),
    ("会议", 3, "支部编号", "009", "支部编号不存在"),
    ("会议", 3, "主持人", "M001", "该党员属于支部 001，不是本会议所在的支部 002"),
    ("会议", 2, "主持人", "M999", "党员编号不存在"),
    ("谈心谈话", 2, "谈话对象", "M102", "该党员属于支部 002"),
    ("谈心谈话", 3, "谈话人", "上级领导", "党员编号不存在（本文件“党员”表和数据库中都没有），也不是“上级”"),
    ("征求意见", 3, "对象", "班子", "也不是“支部班子”"),
    ("对照检查", 2, "党员编号", "M101", "不是本会议所在的支部 001"),
    ("出席", 5, "党员编号", "M003", "不是本会议所在的支部 002"),
    ("批评", 3, "发言人", "M404", "党员编号不存在"),
    ("批评", 2, "对象", "M102", "该党员属于支部 002"),
    ("测评", 4, "被测评人", "M001", "不是本会议所在的支部 002"),
    ("评定", 2, "党员编号", "M777", "党员编号不存在"),
    ("整改", 2, "责任人", "M101", "不是本会议所在的支部 001"),
    ("学习", 2, "会议编号", "G9", "会议编号不存在（本文件“会议”表和数据库中都没有）"),
    ("整改", 3, "会议编号", "G9", "会议编号不存在"),
    ("党员", 3, "职务", "书记", "每个支部只能有一名书记：支部 001 的书记已在第 2 行"),
]


@pytest.mark.parametrize("sheet, row, header, value, why", BAD_CELLS,
                         ids=[f"case{i}" for i in range(len(BAD_CELLS))])
def test_each_rule_names_sheet_row_header_value_and_why(wb, sheet, row, header, value, why):
    sheets = base_sheets()
    set_cell(sheets, sheet, row, header, value)
    batch, problems = read_workbook(wb(sheets))
    shown = "" if value is None or str(value).strip() == "" else str(value)
    matching = [p for p in problems if (p.sheet, p.row, p.header, p.value) == (sheet, row, header, shown)]
    assert matching, [p.line() for p in problems]
    assert why in matching[0].why
    line = matching[0].line()
    assert all(part in line for part in (sheet, f"第 {row} 行", header, shown, why))


def test_every_problem_of_a_file_is_reported_at_once(wb):
    sheets = base_sheets()
    for sheet, row, header, value, _ in BAD_CELLS[:6]:
        set_cell(sheets, sheet, row, header, value)
    _, problems = read_workbook(wb(sheets))
    found = {(p.sheet, p.row, p.header) for p in problems}
    assert {(s, r, h) for s, r, h, _, _ in BAD_CELLS[:6]} <= found
    order = [(RECORDS.index(next(r for r in RECORDS if r.sheet == p.sheet)), p.row) for p in problems]
    assert order == sorted(order)  # sheet order, then row


def test_missing_required_column_is_one_problem_for_the_sheet(wb):
    sheets = base_sheets()
    for row in sheets["党员"]:
        del row[2]  # 姓名
    _, problems = read_workbook(wb(sheets))
    assert [(p.sheet, p.row, p.header) for p in problems] == [("党员", 1, "姓名")]
    assert "缺少必填列" in problems[0].why


def test_duplicate_header_is_reported(wb):
    sheets = base_sheets()
    for row in sheets["支部"]:
        row.append(row[1])  # a second 支部名称 column
    _, problems = read_workbook(wb(sheets))
    assert len(problems) == 1 and problems[0].header == "支部名称" and "表头重复" in problems[0].why


def test_boolean_cell_in_an_id_column_is_not_mistaken_for_1(wb):
    sheets = base_sheets()
    sheets["批评"][1][1] = True  # 序号 TRUE next to numeric 1 cells elsewhere
    sheets["批评"][2][1] = 1
    _, problems = read_workbook(wb(sheets))
    assert [(p.row, p.header, p.why) for p in problems] == [(2, "序号", "应为整数")]


def test_enum_code_and_label_both_accepted(wb):
    sheets = base_sheets()
    set_cell(sheets, "会议", 2, "会议类型", "leadership")
    set_cell(sheets, "会议", 3, "会议类型", " 民主生活会 ")
    batch, problems = read_workbook(wb(sheets))
    assert problems == []
    assert list(batch[RECORDS[2]].kind) == ["leadership", "leadership"]


# ---------------------------------------------------------------------------------------------------------------
# Storing: references to stored rows, all or nothing, re-import, updates, replacement, several files


def test_child_rows_may_refer_to_stored_meetings_and_members(wb, db_url, capsys):
    sheets = base_sheets()
    parents = {name: sheets[name] for name in ("支部", "党员", "会议")}
    children = {name: rows for name, rows in sheets.items() if name not in parents}
    assert run(capsys, "import", wb(parents), "--db", db_url)[0] == 0
    code, out, _ = run(capsys, "import", wb(children), "--db", db_url)
    assert code == 0, out
    # the store's secretary counts too
    code, out, _ = run(capsys, "import", wb({"党员": [sheets["党员"][0],
                                                    ["M009", "001", "新书记", "书记", None, None, None, None]]}),
                       "--db", db_url)
    assert code == 2 and "支部 001 在数据库中已有书记 M001" in out
    # … unless the same file hands the office over
    handover = {"党员": [sheets["党员"][0], ["M009", "001", "新书记", "书记", None, None, None, None],
                       ["M001", "001", "张书记", "党员", None, None, None, None]]}
    assert run(capsys, "import", wb(handover), "--db", db_url)[0] == 0


@pytest.mark.parametrize("where", ["first sheet", "last row of last sheet"])
def test_rejected_file_changes_nothing(wb, db_url, capsys, where):
    assert run(capsys, "import", wb(), "--db", db_url)[0] == 0
    before = content(db_url, store_columns=True)
    sheets = base_sheets()
    set_cell(sheets, "支部", 2, "支部名称", "改名了")  # valid changes in every kind of sheet …
    set_cell(sheets, "党员", 3, "姓名", "改名了")
    sheets["出席"] = sheets["出席"][:2]
    sheets["支部"].append(["003", "新支部", None, None, None, None])
    if where == "first sheet":  # … and one bad cell
        set_cell(sheets, "支部", 3, "设支委会", "不知道")
    else:
        last = len(sheets["整改"])
        set_cell(sheets, "整改", last, "完成日期", "昨天")
    code, out, _ = run(capsys, "import", wb(sheets), "--db", db_url)
    assert code == 2 and "未写入任何内容" in out
    assert ("不知道" if where == "first sheet" else "昨天") in out
    assert content(db_url, store_columns=True) == before


def test_reimport_changes_nothing(wb, db_url, capsys):
    path = wb()
    assert run(capsys, "import", path, "--db", db_url)[0] == 0
    before = content(db_url, store_columns=True)
    code, out, _ = run(capsys, "import", path, "--db", db_url)
    assert code == 0 and "内容与数据库一致，无需改动" in out
    assert content(db_url, store_columns=True) == before


def test_known_id_updates_the_record(wb, db_url, capsys):
    assert run(capsys, "import", wb(), "--db", db_url)[0] == 0
    sheets = {"党员": base_sheets()["党员"][:1] + [["M003", "001", "王党员", "党员", "正式党员", "否", "否", "无"]]}
    code, out, _ = run(capsys, "import", wb(sheets), "--db", db_url)
    assert code == 0 and "党员 新增 0 行、更新 1 行" in out
    with Store(db_url) as store:
        members = store.read(Member, store_columns=True).set_index("member_id")
    assert (members.loc["M003", "status"], members.loc["M003", "situation"]) == ("full", "none")
    assert members.loc["M003", "version"] == 2 and members.loc["M002", "version"] == 1
    assert len(members) == 5


def test_column_left_out_keeps_stored_values(wb, db_url, capsys):
    assert run(capsys, "import", wb(), "--db", db_url)[0] == 0
    members = [row[:3] for row in base_sheets()["党员"]]  # an old sheet: id, branch, name only
    members[2][2] = "李委员（改名）"
    members.append(["M004", "001", "新党员"])
    code, out, _ = run(capsys, "import", wb({"党员": members}), "--db", db_url)
    assert code == 0 and "党员 新增 1 行、更新 1 行" in out
    with Store(db_url) as store:
        stored = store.read(Member).set_index("member_id")
    assert stored.loc["M002", "name"] == "李委员（改名）"
    assert (stored.loc["M002", "role"], stored.loc["M001", "role"], stored.loc["M001", "leading_cadre"]) == \
        ("committee", "secretary", True)
    assert pd.isna(stored.loc["M004", "role"])


def test_child_rows_replace_that_meetings_rows_of_the_sheet(wb, db_url, capsys):
    assert run(capsys, "import", wb(), "--db", db_url)[0] == 0
    sheets = {"出席": [base_sheets()["出席"][0], ["G1", "M002", "缺席", None, "否", None, None]]}
    assert run(capsys, "import", wb(sheets), "--db", db_url)[0] == 0
    with Store(db_url) as store:
        rows = store.read(Attendance)
    g1 = rows[rows.meeting_id == "G1"]
    assert list(zip(g1.member_id, g1.presence, g1.written_statement)) == [("M002", "absent", False)]
    assert sorted(rows[rows.meeting_id == "G2"].member_id) == ["M101", "M102"]  # other meeting untouched
    assert len(content(db_url)["studies"]) == 2  # other sheets of G1 untouched


def test_several_files_each_stands_alone(wb, db_url, capsys):
    good = wb(name="好的.xlsx")
    sheets = base_sheets()
    set_cell(sheets, "学习", 2, "形式", "线上")
    bad = wb(sheets, name="坏的.xlsx")
    code, out, _ = run(capsys, "import", bad, good, "--db", db_url)
    assert code == 2
    assert "坏的.xlsx：发现 1 个问题" in out and "学习 · 第 2 行 · 形式 · “线上”" in out
    assert "好的.xlsx：已写入" in out
    assert out.strip().splitlines()[-1] == "共 2 个文件：已写入 1 个（好的.xlsx），被拒绝 1 个（坏的.xlsx）。"
    assert len(content(db_url)["studies"]) == 2


@pytest.mark.parametrize("kind", ["missing", "text", "csv", "truncated"])
def test_unreadable_file_one_line_exit_2(tmp_path, capsys, kind):
    path = tmp_path / {"csv": "data.csv"}.get(kind, "data.xlsx")
    if kind == "text":
        path.write_text("这不是工作簿", encoding="utf-8")
    elif kind == "csv":
        path.write_text("支部编号,支部名称\n001,甲\n", encoding="utf-8")
    elif kind == "truncated":
        save_xlsx(path, base_sheets())
        path.write_bytes(path.read_bytes()[:300])
    db = tmp_path / "store.db"
    code, out, err = run(capsys, "import", path, "--db", db)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert lines[0].startswith("错误：") and "data." in lines[0]
    assert ("找不到文件" if kind == "missing" else "不是有效的 .xlsx 工作簿") in lines[0]
    assert not db.exists()  # nothing opened, nothing created


def test_workbook_without_any_of_our_sheets_is_rejected(wb, tmp_path, capsys):
    code, out, err = run(capsys, "import", wb({"Sheet1": [["姓名"], ["张三"]]}), "--db", tmp_path / "s.db")
    assert code == 2 and err == ""
    assert out.splitlines() == ["wb0.xlsx：工作簿中没有可识别的工作表（工作表名应为：支部、党员、会议、学习、征求意见、"
                                "谈心谈话、对照检查、出席、批评、回应、测评、评定、整改、任职）"]


def test_an_unknown_sheet_is_named_in_the_import_result(wb, db_url, capsys):
    sheets = base_sheets()
    sheets["学习x"] = sheets.pop("学习")  # renamed by mistake: its rows would be lost without a word
    sheets["Sheet1"] = [["备注"], ["随便写写"]]
    code, out, _ = run(capsys, "import", wb(sheets), "--db", db_url)
    assert code == 0
    assert "  注意：工作表“学习x”不是可识别的工作表，未读取（是否应为“学习”？）" in out.splitlines()
    assert "  注意：工作表“Sheet1”不是可识别的工作表，未读取" in out.splitlines()
    assert content(db_url)["studies"] == []


def test_exact_duplicate_child_rows_are_a_problem(wb, db_url, capsys):
    sheets = base_sheets()
    sheets["出席"].insert(3, list(sheets["出席"][1]))  # M001 twice in G1's attendance (rows 2 and 4)
    sheets["谈心谈话"].append(list(sheets["谈心谈话"][2]))
    _, problems = read_workbook(wb(sheets))
    assert [p.line() for p in problems] == [
        "谈心谈话 · 第 4 行 · 会议编号 · “G1” · 与第 3 行完全相同：重复的行只能填一次",
        "出席 · 第 4 行 · 会议编号 · “G1” · 与第 2 行完全相同：重复的行只能填一次"]
    code, out, _ = run(capsys, "import", wb(sheets), "--db", db_url)
    assert code == 2 and "出席 · 第 4 行 · 会议编号 · “G1” · 与第 2 行完全相同" in out and "未写入任何内容" in out
    assert content(db_url)["attendance"] == []


def test_duplicate_sheet_after_trimming_is_a_problem(wb):
    sheets = base_sheets()
    sheets["支部 "] = sheets["支部"]
    _, problems = read_workbook(wb(sheets))
    assert [p.line() for p in problems] == ["支部 · 第 1 行 · “支部 ” · 工作表重复：同名工作表只能有一个"]


def test_import_file_without_the_cli(wb, store):
    """What the forms' upload page calls: an ImportResult with the problem table."""
    sheets = base_sheets()
    set_cell(sheets, "出席", 3, "出席情况", "迟到")
    rejected = import_file(wb(sheets), store)
    assert not rejected.stored and rejected.error is None
    table = problems_frame(rejected.problems)
    assert table.to_dict("records") == [{"工作表": "出席", "行": 3, "列": "出席情况", "值": "迟到",
                                         "问题": "不是允许的值，应为：出席/灵活参加/请假/缺席"}]
    assert store.counts()[Attendance] == 0
    stored = import_file(wb(), store)
    assert stored.stored and stored.rows == 31 and stored.summary.changed == 31
    assert stored.lines()[0].startswith("wb1.xlsx：已写入（31 行）：支部 新增 2 行")


def test_unreadable_file_among_others_is_rejected_alone(tmp_path, wb, db_url, capsys):
    code, out, _ = run(capsys, "import", tmp_path / "nope.xlsx", wb(name="ok.xlsx"), "--db", db_url)
    assert code == 2
    assert "nope.xlsx：找不到文件" in out and "ok.xlsx：已写入" in out
    assert len(content(db_url)["branches"]) == 2


# ---------------------------------------------------------------------------------------------------------------
# Export and the round trip


def test_import_export_import_gives_the_same_store(wb, db_url, sqlite_url, tmp_path, capsys):
    sheets = base_sheets()
    # text forms on the way in; the export writes labels, 是/否 and real dates
    set_cell(sheets, "会议", 2, "召开日期", "2026年6月20日")
    set_cell(sheets, "支部", 2, "设支委会", "Y")
    set_cell(sheets, "会议", 3, "会议类型", "special")
    assert run(capsys, "import", wb(sheets), "--db", db_url)[0] == 0
    exported = tmp_path / "export.xlsx"
    code, out, _ = run(capsys, "export", exported, "--db", db_url)
    assert code == 0 and "党员 5 行" in out
    other = sqlite_url if db_url.startswith("postgresql") else f"sqlite:///{tmp_path / 'second.db'}"
    assert run(capsys, "import", exported, "--db", other)[0] == 0
    assert content(other) == content(db_url)
    before = content(db_url, store_columns=True)
    code, out, _ = run(capsys, "import", exported, "--db", db_url)
    assert code == 0 and "无需改动" in out and content(db_url, store_columns=True) == before


def _round_trip(batch, db_url, tmp_path) -> None:
    with Store(db_url) as store:
        store.save(batch)
    first = content(db_url)
    exported = tmp_path / "rich.xlsx"
    main_code = run_main(["export", str(exported), "--db", db_url])
    assert main_code == 0
    second_url = f"sqlite:///{tmp_path / 'again.db'}"
    assert run_main(["import", str(exported), "--db", second_url]) == 0
    assert content(second_url) == first
    assert all(first[record.table] for record in RECORDS)  # every table took part


def run_main(argv) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    return exit_info.value.code


def test_round_trip_of_every_field(db_url, tmp_path):
    batch = rich_batch()
    _round_trip(batch, db_url, tmp_path)
    with Store(db_url) as store:
        texts = set(store.read(RECORDS[2]).topic)
    assert {"=不是公式", "007"} <= texts  # a leading "=" stays text, not a formula; "007" keeps its zeros


def test_round_trip_of_demo_data(db_url, tmp_path):
    from orglife_nb import demo

    options = {"seed": 7}
    if "branches" in inspect.signature(demo.generate).parameters:
        options["branches"] = 3
    _round_trip(demo.generate(**options), db_url, tmp_path)


def test_export_cells_are_typed_like_the_template(wb, db_url, tmp_path, capsys):
    assert run(capsys, "import", wb(), "--db", db_url)[0] == 0
    out = tmp_path / "export.xlsx"
    assert run(capsys, "export", out, "--db", db_url)[0] == 0
    book = openpyxl.load_workbook(out)
    meetings = book["会议"]
    header = [c.value for c in meetings[1]]
    row = {h: c for h, c in zip(header, meetings[2])}
    assert row["召开日期"].is_date and row["召开日期"].value.date() == D(2026, 6, 20)
    assert row["召开日期"].number_format == "yyyy-mm-dd"
    assert (row["会议类型"].value, row["合并召开"].value, row["支部编号"].value) == ("组织生活会", "否", "001")
    assert meetings["A1"].comment is not None and meetings.freeze_panes == "A2"
    assert any(dv.formula1 == '"是,否"' for dv in meetings.data_validations.dataValidation)
    assert book["支部"]["A2"].value == "001" and book["支部"]["A2"].data_type == "s"


def test_export_of_one_branch_has_its_rows_of_every_sheet(wb, db_url, tmp_path, capsys):
    assert run(capsys, "import", wb(), "--db", db_url)[0] == 0
    out = tmp_path / "one.xlsx"
    code, stdout, _ = run(capsys, "export", out, "--db", db_url, "--branch", "002")
    assert code == 0 and "支部 1 行" in stdout
    batch, problems = read_workbook(out)
    assert problems == []
    assert list(batch[RECORDS[0]].branch_id) == ["002"]
    assert set(batch[Member].member_id) == {"M101", "M102"}
    assert set(batch[Attendance].meeting_id) == {"G2"} and len(batch[Attendance]) == 2
    assert list(batch[RECORDS[12]].item_id) == ["R2"]  # 整改
    code, _, err = run(capsys, "export", out, "--db", db_url, "--branch", "404")
    assert code == 2 and "数据库中没有这些支部：404" in err


def test_problem_line_format():
    problem = Problem("党员", 7, "支部编号", "009", "支部编号不存在")
    assert problem.line() == "党员 · 第 7 行 · 支部编号 · “009” · 支部编号不存在"
    assert Problem("党员", 7, "姓名", "", "必填，不能为空").line() == "党员 · 第 7 行 · 姓名 · （空） · 必填，不能为空"


def test_batch_frames_hold_plain_python_values(wb):
    batch, problems = read_workbook(wb())
    assert problems == []
    for record, frame in batch.items():
        assert list(frame.columns) == [s.name for s in fields_of(record) if s.name in frame.columns]
        assert all(dtype == object for dtype in frame.dtypes)
    assert "plan_sent" not in batch[RECORDS[2]].columns  # not in the sheet: not given
    meeting = batch[RECORDS[2]].iloc[0]
    assert (type(meeting.year), type(meeting.hours), type(meeting.date)) == (int, float, dt.date)


def test_reads_uploaded_bytes(wb):
    data = wb().read_bytes()
    batch, problems = read_workbook(copy.copy(data))
    assert problems == [] and len(batch[Member]) == 5
