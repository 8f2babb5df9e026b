"""The dated steps of a meeting (deadlines in days from the profile): rules and status countdowns share them."""
from __future__ import annotations

from .common import Step, by_kind

_SAME = lambda name: by_kind(name, name)  # noqa: E731  (one number for every kind)

STEPS: dict[str, Step] = {s.rule: s for s in (
    Step("PREP-PLAN-DEADLINE", "plan_sent", "方案报送", "将会议方案报上级纪委和组织部门", True,
         _SAME("leadership_plan_days")),
    Step("PREP-NOTICE", "notice_date", "通知", "将会议日期和议题通知应到会人员", True, _SAME("notice_days")),
    Step("PREP-SUPERIOR-NOTICE", "superior_notice_date", "报告上级", "报告上级党组织", True,
         _SAME("superior_notice_days")),
    Step("PREP-PUBLIC-NOTICE", "public_notice_date", "会前公告", "向党内外群众公告会议时间、主题和征求意见方式", True,
         _SAME("leadership_public_notice_days")),
    Step("POST-REPORT", "report_sent", "情况报告报送", "向上级报送会议情况报告和会议记录", False,
         by_kind("leadership_report_days", "report_days")),
    # no number of its own: due with the report (see rectification.py)
    Step("RECT-PUBLIC", "rectification_published", "整改清单公示", "公示整改清单", False,
         by_kind("leadership_report_days", "report_days")),
    # "一个月内": calendar months (rules.md rev 3)
    Step("POST-PUBLIC-REPORT", "public_report_date", "会后通报", "向干部群众通报会议情况和整改措施", False,
         _SAME("public_report_months"), months=True),
)}
