"""The summary across branches (or those under one 上级党组织): one method per section for the summary notebook."""
from __future__ import annotations

import datetime as dt
from functools import cached_property

import numpy as np
import pandas as pd

from ..frames import Frames, load, subset
from ..models import MeetingKind
from . import charts
from .branch import AUDIENCES, AudienceReport
from .html import Html, esc, figure, section, table


class SummaryReport(AudienceReport):
    def __init__(self, db=None, branch_ids: list[str] | None = None, *, superior: str | None = None,
                 as_of: dt.date | str | None = None, audience: str = "internal", profile: str | None = None,
                 frames: Frames | None = None) -> None:
        loaded = frames if frames is not None else load(db, branch_ids or None)
        if superior:
            loaded = subset(loaded, loaded.branches.branch_id[loaded.branches.superior == superior])
        self.superior = superior
        super().__init__(loaded, as_of=as_of, audience=audience, profile=profile)

    @cached_property
    def branch_names(self) -> pd.Series:
        b = self.frames.branches
        return pd.Series(b["name"].to_numpy(), index=b.branch_id.to_numpy())

    def header(self) -> Html:
        scope = f"上级党组织：{self.superior}" if self.superior else "全部支部"
        facts = [f"截至 {self.as_of:%Y-%m-%d}", f"{AUDIENCES[self.audience]}版", scope,
                 f"支部 {len(self.frames.branches)} 个", f"会议 {len(self.frames.meetings)} 次"]
        return Html(f'<header class="report-header"><div class="report-title">组织生活会汇总报告</div>'
                    f'<div class="report-meta">{esc(" · ".join(facts))}</div></header>')

    def compliance_by_rule(self) -> Html | None:
        """Share of branches with no error or warning of each rule."""
        if self.public:
            return None
        from ..rules.registry import rule_table

        rules = rule_table()
        total = max(1, len(self.frames.branches))
        violating = (self.findings[self.findings.severity.isin(["error", "warning"])]
                     .groupby("rule").branch_id.nunique())
        frame = pd.DataFrame({"规则": rules.rule, "名称": rules.title, "类别": rules.family_label,
                              "有问题的支部": rules.rule.map(violating).fillna(0).astype(int)})
        frame["合规率"] = 1 - frame["有问题的支部"] / total
        worst = frame.sort_values(["合规率", "规则"]).reset_index(drop=True)
        shown = worst.assign(合规率=worst["合规率"].map(lambda v: f"{v:.0%}"))
        classes = shown.copy().astype(object)
        classes[:] = ""
        classes.loc[worst["合规率"] < 0.8, "合规率"] = "late"
        low = worst.iloc[0]
        reading = (f"{total} 个支部中，合规率最低的规则是 {low['规则']}（{low['名称']}），"
                   f"{int(low['有问题的支部'])} 个支部有问题。")
        return section("一、各项规则合规率", reading, table(shown, classes=classes))

    def branch_ranking(self) -> Html | None:
        if self.public:
            return None
        counts = (self.findings.pivot_table(index="branch_id", columns="severity", values="rule", aggfunc="count",
                                            fill_value=0)
                  .reindex(index=self.branch_names.index, columns=["error", "warning", "info"], fill_value=0))
        ranked = counts.sort_values(["error", "warning"], ascending=False)
        frame = pd.DataFrame({"支部编号": ranked.index, "支部名称": ranked.index.map(self.branch_names),
                              "违规": ranked["error"].to_numpy(), "提醒": ranked["warning"].to_numpy(),
                              "待办": ranked["info"].to_numpy()})
        clean = int((ranked["error"] == 0).sum())
        reading = f"{clean} 个支部没有违规；违规最多的是 {frame.iloc[0]['支部名称']}（{frame.iloc[0]['违规']} 条）。"
        return section("二、支部违规排名", reading, table(frame))

    def overdue_rectification(self) -> Html:
        ledger = self.ledger
        buckets = (ledger.pivot_table(index="branch_id", columns="bucket", values="item_id", aggfunc="count",
                                      fill_value=0)
                   .reindex(index=self.branch_names.index, columns=["已销号", "超期", "10 天内到期", "20 天内到期", "其余"],
                            fill_value=0))
        buckets.insert(0, "支部名称", buckets.index.map(self.branch_names))
        buckets.index.name = "支部编号"
        overdue = int(buckets["超期"].sum())
        reading = (f"整改事项 {len(ledger)} 项，超期未销号 {overdue} 项，涉及 {int((buckets['超期'] > 0).sum())} 个支部。")
        return section("三、整改超期情况", reading, table(buckets.reset_index()))

    def cadence_grid(self) -> Html:
        """Branch × ended half-year: whether a 组织生活会 was held; a table, so thousands of branches stay
        readable and print across pages."""
        m = self.frames.meetings
        regular = m[m.kind.eq(MeetingKind.regular.value) & (m.date <= self.as_of)]
        period = regular.date.dt.year.astype(str) + regular.date.dt.month.le(6).map({True: "上", False: "下"})
        years = sorted(set(m.date.dt.year.dropna().astype(int)) | {self.as_of.year})
        halves = [f"{y}{h}" for y in years for h in ("上", "下")
                  if pd.Timestamp(y, 6 if h == "上" else 12, 30 if h == "上" else 31) <= self.as_of]
        if self.branch_names.empty or not halves:
            return section("四、召开频次一览", "尚无已结束的半年。")
        held = (pd.crosstab(regular.branch_id, period).reindex(index=self.branch_names.index, columns=halves,
                                                                fill_value=0) > 0).to_numpy()
        columns = [f"{half[:-1]}年{half[-1]}半年" for half in halves]
        shown = pd.DataFrame(np.where(held, "已开", "未开"), columns=columns)
        shown.insert(0, "支部名称", self.branch_names.to_numpy())
        classes = pd.DataFrame(np.where(held, "cell-ok", "missing"), columns=columns)
        classes.insert(0, "支部名称", "")
        missing = int((~held).sum())
        reading = ("每个支部在每个已结束的半年都召开了组织生活会。" if missing == 0 else
                   f"有 {missing} 个“支部 × 半年”没有召开组织生活会（标红）。")
        return section("四、召开频次一览", reading, table(shown, classes=classes))

    def report_lateness(self) -> Html | None:
        if self.public:
            return None
        m = self.frames.meetings
        held = m[m.date <= self.as_of]
        days = (held.report_sent - held.date).dt.days
        allowed = held.kind.map(lambda k: self.profile.report_days_for(k) if pd.notna(k) else None)
        late = (days - allowed).astype("float")
        sent = late.dropna()
        reading = (f"已召开的 {len(held)} 次会议中，{int((sent > 0).sum())} 次情况报告逾期报送，"
                   f"{int(days.isna().sum())} 次尚未报送。")
        svg = charts.histogram(sent, title="情况报告报送：超过时限的天数（≤0 为按时）", xlabel="天")
        return section("五、情况报告报送时效", reading, figure(svg))
