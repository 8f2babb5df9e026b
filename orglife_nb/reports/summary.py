"""The summary across branches (or those under one 上级党组织): one method per section for the summary notebook."""
from __future__ import annotations

import datetime as dt
from functools import cached_property

import numpy as np
import pandas as pd

from ..frames import Frames, load, subset
from ..models import MeetingKind
from ..rules import facts
from ..store.review import STATES, counts, per_meeting
from ..rules.status import BUCKETS
from . import charts
from ..present.words import iso_date
from .branch import AUDIENCES, REVIEW_ORDER, AudienceReport, review_reading
from ..present.html import Html, esc, figure, section, table
from ..sources import LEGEND, cite


class SummaryReport(AudienceReport):
    SECTIONS = ("compliance_by_rule", "branch_ranking", "overdue_rectification", "cadence_grid", "report_lateness",
                "review_by_superior")
    PUBLIC_SECTIONS = frozenset({"overdue_rectification", "cadence_grid", "review_by_superior"})

    def __init__(self, db=None, branch_ids: list[str] | None = None, *, superior: str | None = None,
                 as_of: dt.date | str | None = None, audience: str = "internal", profile: str | None = None,
                 frames: Frames | None = None) -> None:
        loaded = frames if frames is not None else load(db, branch_ids or None)
        if superior:
            loaded = subset(loaded, loaded.branches.branch_id[loaded.branches.superior == superior])
        self.superior = superior
        self.selected = bool(branch_ids)  # a run on some branches, not all
        super().__init__(loaded, as_of=as_of, audience=audience, profile=profile)

    @cached_property
    def branch_names(self) -> pd.Series:
        b = self.frames.branches
        return pd.Series(b["name"].to_numpy(), index=b.branch_id.to_numpy())

    def header(self) -> Html:
        scope = f"上级党组织：{self.superior}" if self.superior else "所选支部" if self.selected else "全部支部"
        facts = [f"截至 {self.as_of:%Y-%m-%d}", f"{AUDIENCES[self.audience]}版", scope,
                 f"支部 {len(self.frames.branches)} 个", self._meeting_count()]
        title = "组织生活会汇总报告" + ("（公示）" if self.public else "")
        return Html(f'<header class="report-header"><div class="report-title">{esc(title)}</div>'
                    f'<div class="report-meta">{esc(" · ".join(facts))}</div></header>', title=title)

    def _meeting_count(self) -> str:
        planned = int((~facts.is_held(self.frames.meetings.date, self.as_of)).sum())
        return f"会议 {len(self.frames.meetings)} 次" + (f"（其中 {planned} 次计划召开）" if planned else "")

    def compliance_by_rule(self) -> Html | None:
        """Share of branches with no error or warning of each rule."""
        if self.public:
            return None
        from ..rules.registry import rule_table

        rules = rule_table()
        total = max(1, len(self.frames.branches))
        violating = (self.findings[self.findings.severity.isin(["error", "warning"])]
                     .groupby("rule").branch_id.nunique())
        # rules named and sourced in words, as the findings list does; the catalogue order breaks ties
        frame = pd.DataFrame({"规则": rules.title, "类别": rules.family_label,
                              "有问题的支部": rules.rule.map(violating).fillna(0).astype(int),
                              "依据": rules.source.map(cite)})
        frame["合规率"] = 1 - frame["有问题的支部"] / total
        worst = frame.sort_values(["合规率"], kind="stable").reset_index(drop=True)
        shown = worst.assign(合规率=worst["合规率"].map(lambda v: f"{v:.0%}"))
        shown = shown[["规则", "类别", "有问题的支部", "合规率", "依据"]]
        classes = pd.DataFrame("", index=shown.index, columns=shown.columns)
        classes.loc[worst["合规率"] < 0.8, "合规率"] = "late"
        return section(self.numbered("compliance_by_rule", "各项规则合规率"), _lowest_reading(worst, total),
                       table(shown, classes=classes), f'<p class="legend">{esc(LEGEND)}</p>')

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
        return section(self.numbered("branch_ranking", "支部违规排名"), reading, table(frame))

    def overdue_rectification(self) -> Html:
        ledger = self.ledger
        buckets = (ledger.pivot_table(index="branch_id", columns="bucket", values="item_id", aggfunc="count",
                                      fill_value=0)
                   .reindex(index=self.branch_names.index, columns=BUCKETS, fill_value=0))
        buckets.columns = list(BUCKETS)
        buckets.insert(0, "支部名称", buckets.index.map(self.branch_names))
        buckets.index.name = "支部编号"
        overdue = int(buckets["超期"].sum())
        reading = (f"整改事项 {len(ledger)} 项，超期未销号 {overdue} 项，涉及 {int((buckets['超期'] > 0).sum())} 个支部。")
        return section(self.numbered("overdue_rectification", "整改超期情况"), reading, table(buckets.reset_index()))

    def cadence_grid(self) -> Html:
        """Branch × ended half-year: whether a 组织生活会 was held; a table, so thousands of branches stay
        readable and print across pages."""
        m = self.frames.meetings
        regular = m[m.kind.eq(MeetingKind.regular.value) & facts.is_held(m.date, self.as_of)]
        period = regular.date.dt.year.astype(str) + regular.date.dt.month.le(6).map({True: "上", False: "下"})
        years = sorted(set(m.date.dt.year.dropna().astype(int)) | {self.as_of.year})
        halves = [f"{y}{h}" for y in years for h in ("上", "下")
                  if pd.Timestamp(y, 6 if h == "上" else 12, 30 if h == "上" else 31) <= self.as_of]
        if self.branch_names.empty or not halves:
            return section(self.numbered("cadence_grid", "召开频次一览"), "尚无已结束的半年。")
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
        return section(self.numbered("cadence_grid", "召开频次一览"), reading, table(shown, classes=classes))

    def report_lateness(self) -> Html | None:
        if self.public:
            return None
        m = self.frames.meetings
        held = m[facts.is_held(m.date, self.as_of)]
        days = (held.report_sent - held.date).dt.days
        allowed = held.kind.map(lambda k: self.profile.report_days_for(k) if pd.notna(k) else None)
        late = (days - allowed).astype("float")
        sent = late.dropna()
        reading = (f"已召开的 {len(held)} 次会议中，{int((sent > 0).sum())} 次情况报告逾期报送，"
                   f"{int(days.isna().sum())} 次尚未报送。")
        # whole days past the time limit, a bar per day; on time (0 or earlier) is the bar at 0
        svg = charts.day_counts(sent.clip(lower=0), title="情况报告报送：超过时限的天数（0 为按时）",
                                xlabel="超过时限的天数", zero="按时")
        return section(self.numbered("report_lateness", "情况报告报送时效"), reading, figure(svg))

    @cached_property
    def reviews(self) -> pd.DataFrame:
        """Each meeting's review row (a draft when it has none) with its branch and 上级党组织."""
        m, b = self.frames.meetings, self.frames.branches
        superior = pd.Series(b.superior.fillna(NO_SUPERIOR).to_numpy(dtype=object), index=b.branch_id.to_numpy())
        return per_meeting(self.frames.reviews, m.meeting_id).assign(
            branch_id=m.branch_id.to_numpy(dtype=object), superior=m.branch_id.map(superior).to_numpy(dtype=object))

    def review_by_superior(self) -> Html:
        """Per 上级党组织: meetings in each review state and the submission that has waited longest; the superiors
        with the oldest waiting submission first, then those with the most returned meetings; a total row last."""
        r = self.reviews
        superiors = pd.Index(sorted(set(self.frames.branches.superior.fillna(NO_SUPERIOR))), name="superior")
        tally = pd.crosstab(r.superior, r.state).reindex(index=superiors, columns=REVIEW_ORDER, fill_value=0)
        waiting = r[r.state.eq("submitted")].sort_values(["submitted_at", "meeting_id"])
        # whole days to the as-of date; a submission after it counts 0 (the state shown is today's)
        waiting = waiting.assign(days=(self.as_of - waiting.submitted_at.dt.normalize()).dt.days.clip(lower=0))
        oldest = waiting.drop_duplicates("superior").set_index("superior").reindex(superiors)
        ranked = pd.DataFrame({"days": oldest.days.to_numpy(dtype=float), "returned": tally["returned"].to_numpy(),
                               "submitted": tally["submitted"].to_numpy(), "name": superiors})\
            .sort_values(["days", "returned", "submitted", "name"], ascending=[False, False, False, True],
                         na_position="last").index
        first = waiting.iloc[0] if len(waiting) else None
        shown = pd.DataFrame([*(self._review_row(superiors[i], tally.iloc[i], oldest.iloc[i]) for i in ranked),
                              self._review_row("合计", counts(r), first)])
        classes = pd.DataFrame(np.where(shown["已等待（天）"].ne("").to_numpy()[:, None]
                                        & (shown.columns == "已等待（天）"), "late", ""), columns=shown.columns)
        classes.iloc[-1] = (classes.iloc[-1] + " total").str.strip()
        reading = f"{len(superiors)} 个上级党组织，会议 {len(r)} 次：{review_reading(r)}。"
        if first is not None:
            total = shown.iloc[-1]
            reading += (f"等待审核最久的是 {total['最久待审核会议']}（{total['所在支部']}，{total['提交日期']} 提交，"
                        f"已等待 {total['已等待（天）']} 天）。")
        return section(self.numbered("review_by_superior", "审核情况"), reading, table(shown, classes=classes))

    def _review_row(self, name: str, tally: pd.Series, oldest: pd.Series | None) -> dict:
        waits = oldest is not None and not pd.isna(oldest.meeting_id)
        return {"上级党组织": name, **{STATES[state]: int(tally[state]) for state in REVIEW_ORDER},
                "最久待审核会议": oldest.meeting_id if waits else "",
                "所在支部": self.branch_names.get(oldest.branch_id, oldest.branch_id) if waits else "",
                "提交日期": iso_date(oldest.submitted_at) if waits else "",
                "已等待（天）": str(int(oldest.days)) if waits else ""}


NO_SUPERIOR = "（未填上级党组织）"
TIE_NAMES = 3  # rules named when several share the lowest compliance


def _lowest_reading(ranked: pd.DataFrame, total: int) -> str:
    """The reading of the compliance table (``ranked``: lowest first): the lowest rule, or how many share it."""
    low = ranked.iloc[0]
    if low["有问题的支部"] == 0:
        return f"{total} 个支部中，各项规则均无支部有问题。"
    tied = ranked[ranked["合规率"] == low["合规率"]]
    if len(tied) == 1:
        return f"{total} 个支部中，合规率最低的规则是“{low['规则']}”，{int(low['有问题的支部'])} 个支部有问题。"
    names = "、".join(f"“{name}”" for name in tied["规则"].head(TIE_NAMES))
    more = "等" if len(tied) > TIE_NAMES else ""
    return (f"{total} 个支部中，{len(tied)} 项规则并列合规率最低（{low['合规率']:.0%}，各有 "
            f"{int(low['有问题的支部'])} 个支部有问题）：{names}{more}。")
