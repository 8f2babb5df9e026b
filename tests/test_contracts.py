"""The public contracts written out literally: workbook.md's sheets, headers and drop-down labels, rules.md's rule
IDs with their severities.

Nothing here is read from ``orglife_nb.models`` or the rule registry: a renamed header, a changed enum label
(困难 → 生活困难) or a dropped rule must fail a test, which a test that reads its expectations from the code
it checks cannot do. Revision 2 (2026-11-27) is included: the new columns, values, the 回应 sheet and the eight new
rule IDs.
"""
from __future__ import annotations

import json

import openpyxl
import pytest

from orglife_nb.workbook.template import write_template

# workbook.md: sheet → headers, in workbook order
SHEETS: dict[str, list[str]] = {
    "支部": ["支部编号", "支部名称", "上级党组织", "单位类型", "设支委会", "有领导班子"],
    "党员": ["党员编号", "支部编号", "姓名", "职务", "党员类别", "领导干部", "班子成员", "特殊情况", "转入日期", "转出日期"],
    "会议": ["会议编号", "支部编号", "会议类型", "年度", "半年", "主题", "召开日期", "开始时间", "时长(小时)", "地点",
           "主持人", "方案报送日期", "方案审核通过", "通知日期", "报告上级日期", "会前公告日期", "意见汇总", "通报征求意见",
           "通报上次整改",
           "上级参会人", "上级点评", "会议小结", "会议记录", "合并召开", "结合民主评议", "测评方案",
           "问题清单公示日期", "整改公示日期", "情况报告报送日期", "会后通报日期",
           "班子意见通报日期"],  # revision 3
    "学习": ["会议编号", "日期", "形式", "时长(小时)", "内容"],
    "征求意见": ["会议编号", "日期", "方式", "来源", "对象", "内容", "反馈日期"],
    "谈心谈话": ["会议编号", "日期", "谈话人", "谈话对象", "内容摘要"],
    "对照检查": ["会议编号", "党员编号", "材料类型", "提交日期", "审核人", "审核日期"],
    "出席": ["会议编号", "党员编号", "出席情况", "原因", "书面发言", "会上宣读", "会后告知日期"],
    "批评": ["会议编号", "序号", "阶段", "对象", "发言人", "类型", "内容"],
    "回应": ["会议编号", "来源", "问题", "回应人", "回应摘要"],
    "测评": ["会议编号", "票号", "被测评人", "等次", "投票人类别"],
    "评定": ["会议编号", "党员编号", "个人小结", "评定等次", "表决通过", "处理意见", "反馈日期", "帮促人"],
    "整改": ["整改编号", "会议编号", "问题", "责任类别", "责任人", "目标", "措施", "时限", "状态", "完成日期", "承诺"],
    "任职": ["党员编号", "职务", "起始日期", "终止日期"],  # revision 3
}

# workbook.md: (sheet, header) → the drop-down labels, in order; (code, label) pairs where workbook.md names codes
YES_NO = ["是", "否"]
ENUMS: dict[tuple[str, str], list[tuple[str, str]]] = {
    ("支部", "单位类型"): [("organ", "机关"), ("institution", "事业单位"), ("enterprise", "企业"),
                       ("community", "社区"), ("school", "学校"), ("service", "窗口服务"),
                       ("enforcement", "执法监管"), ("other", "其他")],
    ("党员", "职务"): [("secretary", "书记"), ("deputy", "副书记"), ("committee", "委员"), ("member", "党员")],
    ("党员", "党员类别"): [("full", "正式党员"), ("probationary", "预备党员")],
    ("党员", "特殊情况"): [("none", "无"), ("mobile", "流动"), ("frail", "年老体弱"), ("hardship", "困难")],
    ("会议", "会议类型"): [("regular", "组织生活会"), ("special", "专题组织生活会"), ("leadership", "民主生活会")],
    ("会议", "半年"): [("first", "上半年"), ("second", "下半年")],
    ("会议", "测评方案"): [("four", "四档"), ("three", "三档")],
    ("学习", "形式"): [("concentrated", "集中"), ("self_study", "自学")],
    ("征求意见", "方式"): [("individual", "个别谈话"), ("forum", "集体座谈"), ("visit", "上门走访"),
                       ("phone", "电话"), ("form", "征求意见表"), ("other", "其他")],
    ("征求意见", "来源"): [("member", "党员"), ("public", "群众")],
    ("对照检查", "材料类型"): [("examination", "对照检查材料"), ("outline", "发言提纲")],
    ("出席", "出席情况"): [("present", "出席"), ("flexible", "灵活参加"), ("leave", "请假"), ("absent", "缺席")],
    ("批评", "阶段"): [("committee", "支委会"), ("assembly", "党员大会"), ("leadership", "民主生活会")],
    ("批评", "类型"): [("self_criticism", "自我批评"), ("criticism", "批评"), ("response", "表态"),
                     ("report", "通报")],
    ("回应", "来源"): [("required", "规定问题"), ("superior", "上级点明"), ("public", "群众反映")],
    # the ballot takes a level of either scheme (four: 优秀…不合格, three: 好/一般/差)
    ("测评", "等次"): [("excellent", "优秀"), ("qualified", "合格"), ("basic", "基本合格"),
                     ("unqualified", "不合格"), ("good", "好"), ("fair", "一般"), ("poor", "差")],
    ("测评", "投票人类别"): [("member", "党员"), ("public", "群众代表")],
    # the final rating is four-level whatever the ballot scheme (revision 2)
    ("评定", "评定等次"): [("excellent", "优秀"), ("qualified", "合格"), ("basic", "基本合格"),
                       ("unqualified", "不合格")],
    ("整改", "责任类别"): [("unit", "单位"), ("party", "党组织"), ("individual", "个人")],
    ("整改", "状态"): [("open", "未完成"), ("done", "已完成"), ("closed", "已销号")],
    ("任职", "职务"): [("secretary", "书记"), ("deputy", "副书记"), ("committee", "委员"), ("member", "党员")],
}
BOOLS: dict[str, list[str]] = {
    "支部": ["设支委会", "有领导班子"],
    "党员": ["领导干部", "班子成员"],
    "会议": ["方案审核通过", "意见汇总", "通报征求意见", "通报上次整改", "会议记录", "合并召开", "结合民主评议"],
    "出席": ["书面发言", "会上宣读"],
    "评定": ["个人小结", "表决通过"],
    "整改": ["承诺"],
}
REQUIRED: dict[str, list[str]] = {
    "支部": ["支部编号", "支部名称"], "党员": ["党员编号", "支部编号", "姓名"],
    "会议": ["会议编号", "支部编号", "召开日期"], "学习": ["会议编号", "日期", "形式"],
    "征求意见": ["会议编号"], "谈心谈话": ["会议编号", "谈话人", "谈话对象"], "对照检查": ["会议编号", "党员编号"],
    "出席": ["会议编号", "党员编号", "出席情况"], "批评": ["会议编号", "序号", "阶段", "对象", "发言人", "类型"],
    "回应": ["会议编号", "来源", "问题"], "测评": ["会议编号", "票号", "被测评人", "等次"], "评定": ["会议编号", "党员编号"],
    "整改": ["整改编号", "会议编号", "问题"], "任职": ["党员编号", "职务", "起始日期"],
}

# rules.md: every rule ID the code implements, in catalogue order, with its severity (revision 3: FREQ-* warn)
RULES: list[tuple[str, str]] = [
    ("PREP-TOPIC", "error"), ("PREP-PLAN", "error"), ("PREP-PLAN-DEADLINE", "error"), ("PREP-NOTICE", "error"),
    ("PREP-SUPERIOR-NOTICE", "error"), ("PREP-PUBLIC-NOTICE", "error"), ("PREP-STUDY", "error"),
    ("PREP-OPINIONS", "error"), ("PREP-OPINIONS-FEEDBACK", "error"), ("PREP-TALKS", "error"),
    ("PREP-MATERIALS", "error"), ("PREP-COMMUNITY-LIST", "error"), ("PREP-LEADER-OPINIONS", "warning"),
    ("PREP-GROUP-OPINIONS-REPORTED", "warning"),
    ("MEET-HOST", "error"), ("MEET-PRIOR-RECTIFICATION", "error"), ("MEET-ORDER", "error"),
    ("MEET-CRITICISM", "error"), ("MEET-SELF-CRITICISM", "error"), ("MEET-ASSEMBLY-REPORT", "error"),
    ("MEET-PEER-REVIEW", "warning"), ("MEET-GROUP-CHECK", "error"), ("MEET-OPINIONS-REPORTED", "warning"),
    ("MEET-UNIT-RESPONSES", "error"), ("MEET-ATTENDANCE", "error"),
    ("MEET-WRITTEN-STATEMENT", "error"), ("MEET-SUPERIOR-COMMENT", "error"), ("MEET-SUMMARY", "error"),
    ("MEET-MINUTES", "error"), ("MEET-DURATION", "warning"), ("MEET-SEPARATE", "error"),
    ("EVAL-COMBINED", "error"), ("EVAL-SELF", "error"), ("EVAL-BALLOTS", "error"), ("EVAL-GROUP-BALLOT", "warning"),
    ("EVAL-RATING", "error"),
    ("EVAL-HELP", "warning"), ("EVAL-EXCELLENT-VOTE", "error"), ("EVAL-UNQUALIFIED", "error"), ("EVAL-FEEDBACK", "error"),
    ("RECT-PRESENT", "warning"), ("RECT-FOUR-CLEAR", "error"), ("RECT-PUBLIC", "error"),
    ("RECT-PERSONAL", "warning"), ("RECT-OVERDUE", "error"),
    ("POST-REPORT", "error"), ("POST-ABSENTEE-INFORMED", "error"), ("POST-PUBLIC-REPORT", "error"),
    ("FREQ-HALF-YEAR", "warning"), ("FREQ-LEADERSHIP-YEAR", "warning"),
]


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("contract") / "blank.xlsx"
    write_template(path)
    return openpyxl.load_workbook(path)


def test_template_sheets_and_headers_are_workbook_md(template):
    assert template.sheetnames == list(SHEETS)
    for sheet, headers in SHEETS.items():
        assert [c.value for c in template[sheet][1]] == headers, sheet


def test_template_drop_downs_are_workbook_md_labels(template):
    for sheet, headers in SHEETS.items():
        ws = template[sheet]
        lists = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in ws.data_validations.dataValidation
                 if dv.type == "list"}  # date columns have a date validation
        expected = {header: [label for _, label in pairs] for (s, header), pairs in ENUMS.items() if s == sheet}
        expected |= {header: YES_NO for header in BOOLS.get(sheet, [])}
        got = {ws.cell(1, column).value: lists[f"{ws.cell(1, column).column_letter}2"]
               for column in range(1, len(headers) + 1) if f"{ws.cell(1, column).column_letter}2" in lists}
        assert got == {header: '"' + ",".join(labels) + '"' for header, labels in expected.items()}, sheet


def test_template_marks_the_required_columns(template):
    for sheet, headers in SHEETS.items():
        ws = template[sheet]
        required = [c.value for c in ws[1] if "必填" in c.comment.text]
        assert required == REQUIRED[sheet], sheet


@pytest.mark.parametrize("where", list(ENUMS), ids=lambda w: "-".join(w))
def test_every_enum_label_of_workbook_md_reads_as_its_code(where):
    """Each label of workbook.md, typed into its column, is read as the code of workbook.md, and so is the code;
    any other text is refused with the labels of workbook.md."""
    from orglife_nb.models import BY_SHEET, CellError, fields_of

    sheet, header = where
    (spec,) = [f for f in fields_of(BY_SHEET[sheet]) if f.header == header]
    for code, label in ENUMS[where]:
        assert spec.parse(f" {label} ") == code and spec.parse(code) == code
    with pytest.raises(CellError) as refused:
        spec.parse("其它值")
    assert str(refused.value) == "不是允许的值，应为：" + "/".join(label for _, label in ENUMS[where])


def test_rules_command_lists_exactly_the_rules_md_ids_and_severities(capsys):
    from orglife_nb.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["rules", "--format", "json"])
    assert exit_info.value.code == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(r["rule"], r["severity"]) for r in listed] == RULES


def test_template_notes_widths_and_drop_down_messages_are_as_written(template):
    """What a clerk sees in the blank template, for a sample of columns of each kind, written out."""
    meetings = template["会议"]
    notes = {cell: meetings[cell].comment.text for cell in ("A1", "C1", "K1", "U1")}
    assert notes == {
        "A1": "会议的唯一编号（文本）\n必填\n编号按文本处理（001 保持为 001）",
        "C1": "组织生活会、专题组织生活会或民主生活会\n可选值：组织生活会、专题组织生活会、民主生活会",
        "K1": "主持人的党员编号\n须为“党员”表或数据库中已有的编号",
        "U1": "上级点评内容（保密）\n保密内容",
    }
    assert template["谈心谈话"]["C1"].comment.text == (
        "党员编号，或“上级”\n必填\n须为“党员”表或数据库中已有的编号，或填“上级”")
    assert template["会议"]["N1"].comment.text == (
        "通知应到会人员的日期\n日期：Excel 日期，或文本 YYYY-MM-DD、YYYY/MM/DD、YYYY年M月D日")
    # widths: the kind's width, the header's (CJK counts double, + 3) or the longest label's (+ 4)
    # (revision 2 put 开始时间 at H and 通报征求意见 at R: the columns after them moved right)
    widths = {letter: meetings.column_dimensions[letter].width for letter in ("A", "C", "E", "I", "M", "U", "AC")}
    assert widths == {"A": 12, "C": 18, "E": 12, "I": 13, "M": 15, "U": 24, "AC": 19}
    (kind,) = [dv for dv in meetings.data_validations.dataValidation if str(dv.sqref) == "C2:C1048576"]
    assert (kind.type, kind.allow_blank, kind.showErrorMessage, kind.errorTitle, kind.error) == (
        "list", True, True, "会议类型", "请从下拉列表中选择：组织生活会、专题组织生活会、民主生活会")
