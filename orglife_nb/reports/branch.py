"""The branch report: one method per section, each a table or chart plus a one-line reading in Chinese.

``notebooks/branch_report.ipynb`` only holds parameters and calls these methods, so all logic is tested here
without a kernel. The ``public`` audience (公示) is built from a publishable view of the data: confidential fields
and tables are dropped before any section sees them, and confidential sections return nothing.
"""
from __future__ import annotations

import datetime as dt
from functools import cached_property

import numpy as np
import pandas as pd

from ..frames import Frames, load, subset
from ..rules import facts
from ..rules.standing import standings
from ..rules.status import BUCKETS
from ..present.words import iso_date, iso_dates, label, yes_no
from ..present.html import HEADING_WIDTH, Html, esc, figure, nowrap, section, subsection, table
from ..models import (BRANCH_LEADERSHIP, GROUP, SUPERIOR, Level, MeetingKind, Presence, RectStatus,
                      Responsibility, UnitType)
from ..store.review import INTERNAL as INTERNAL_REVIEW_FIELDS
from ..store.review import STATES, counts, per_meeting
from ..store.voting import GROUP_LINE
from ..sources import LEGEND, cite
from ..textable import clip
from . import charts
from .html import criticism_coverage_tables, landscape, severity_badge, talk_coverage_table

AUDIENCES = {"internal": "内部", "public": "公示"}
NUMERALS = "一二三四五六七八九十"


def _short_name(name, member_id) -> str:
    """A member's name as the report shows it (matrix rows and columns, chart bars): bounded; a cut name carries its
    member id, so two long names that begin alike stay two people."""
    if not isinstance(name, str):
        return name
    shown = charts.label(name)
    return shown if shown == name else f"{clip(name, 12)}（{clip(str(member_id), 10)}）"
# The sheets and meeting fields that are confidential (rules.md 保密; models mark them): never in a public report.
PUBLIC_MEETING_FIELDS = ["meeting_id", "branch_id", "kind", "year", "half", "topic", "date", "place"]
PUBLIC_RECTIFICATION_FIELDS = ["item_id", "meeting_id", "problem", "category", "owner", "goal", "measures",
                               "deadline", "status", "done_date"]


# The review states as reports list them: what waits for the superior first, drafts last.
REVIEW_ORDER = ["submitted", "approved", "returned", "draft"]


def review_reading(reviews: pd.DataFrame) -> str:
    """Meetings per review state in words (``reviews``: ``store.review.per_meeting`` rows)."""
    return "，".join(f"{STATES[state]} {n} 次" for state, n in counts(reviews)[REVIEW_ORDER].items())


def publishable(frames: Frames) -> Frames:
    """Only what may be publicised: branches, member names, meeting date/topic, the rectification list, each
    meeting's review state without its internal words (return reason, submission explanation)."""
    empty = {name: frame.iloc[0:0] for name, frame in
             ((r.table, f) for r, f in frames)}
    reviews = frames.reviews.assign(**{name: pd.Series(pd.NA, index=frames.reviews.index, dtype="string")
                                       for name in INTERNAL_REVIEW_FIELDS})
    return Frames(**{**empty,
                     "branches": frames.branches,
                     "members": frames.members[["member_id", "branch_id", "name", "role"]].reindex(
                         columns=frames.members.columns),
                     "meetings": frames.meetings[PUBLIC_MEETING_FIELDS].reindex(columns=frames.meetings.columns),
                     "rectifications": frames.rectifications[PUBLIC_RECTIFICATION_FIELDS],
                     "reviews": reviews})


def numeral(n: int) -> str:
    """1 → 一 … 10 → 十, 11 → 十一 (section numbers)."""
    return NUMERALS[n - 1] if n <= 10 else "十" + NUMERALS[n - 11]


class AudienceReport:
    """What every report shares: the audience, the day of the check, the profile, and two views of the data:
    ``_full`` for computations (checks need every table) and ``frames`` for what the sections may show."""

    SECTIONS: tuple[str, ...] = ()  # the numbered sections (method names) in the order the notebook shows them
    PUBLIC_SECTIONS: frozenset[str] = frozenset()  # those the public report shows too

    def numbered(self, key: str, title: str) -> str:
        """``title`` numbered by its place among the sections this audience sees (一、二、… without gaps)."""
        shown = [name for name in self.SECTIONS if not self.public or name in self.PUBLIC_SECTIONS]
        return f"{numeral(shown.index(key) + 1)}、{title}"

    def __init__(self, loaded: Frames, *, as_of, audience: str, profile: str | None) -> None:
        from ..errors import OrglifeError
        from ..rules.profile import load_profile

        if audience not in AUDIENCES:
            raise OrglifeError(f"audience 只能是 internal 或 public，而不是 {audience}")
        self.audience = audience
        self.as_of = pd.Timestamp(as_of or dt.date.today()).normalize()
        self.profile = load_profile(profile or None)
        self._full = loaded
        self.frames = loaded if audience == "internal" else publishable(loaded)

    @property
    def public(self) -> bool:
        return self.audience == "public"

    @cached_property
    def context(self):
        from ..rules.context import Context

        return Context(self._full, self.profile, self.as_of)

    @cached_property
    def findings(self) -> pd.DataFrame:
        from ..rules import run_checks

        return run_checks(self._full, self.profile, self.as_of.date(), context=self.context)

    @cached_property
    def ledger(self) -> pd.DataFrame:
        """The rectification ledger, computed on the full data (sections show only publishable columns)."""
        from ..rules.status import ledger

        return ledger(self.context)


class BranchReport(AudienceReport):
    """Everything one branch report shows, computed once from the store (or given frames)."""

    SECTIONS = ("verdict", "meetings_list", "timelines", "talk_coverage", "criticism_coverage", "attendance",
                "evaluation", "rectification", "cadence", "findings_list", "review_status")
    PUBLIC_SECTIONS = frozenset({"meetings_list", "rectification", "review_status"})

    def __init__(self, db=None, branch_id: str = "", *, as_of: dt.date | str | None = None,
                 audience: str = "internal", profile: str | None = None, frames: Frames | None = None) -> None:
        from ..errors import OrglifeError
        from .batch import prepared_for

        # in a batch run the chunk's shared computations serve this report (same numbers, computed once)
        self.chunk = prepared_for(db, branch_id, as_of, profile) if frames is None else None
        if self.chunk:
            own = self.chunk.frames_of(branch_id)
        else:
            frames = frames if frames is not None else load(db, [branch_id])
            own = subset(frames, [branch_id])
        if own.branches.empty:
            raise OrglifeError(f"数据库中没有支部 {branch_id}")
        self.branch_id = branch_id
        super().__init__(own, as_of=as_of, audience=audience, profile=self.chunk.profile if self.chunk else profile)

    @cached_property
    def context(self):
        return self.chunk.context if self.chunk else super().context

    @cached_property
    def findings(self) -> pd.DataFrame:
        return self.chunk.findings(self.branch_id) if self.chunk else super().findings

    @cached_property
    def ledger(self) -> pd.DataFrame:
        return self.chunk.ledger(self.branch_id) if self.chunk else super().ledger

    @cached_property
    def progress(self) -> pd.DataFrame:
        """Each meeting's timeline steps: due, done, state."""
        if self.chunk:
            return self.chunk.progress(self.branch_id)
        from .progress import meeting_progress

        return meeting_progress(self._full, self.as_of.date(), self.profile)

    # ---- shared data ------------------------------------------------------------------------------------------

    @cached_property
    def branch(self) -> pd.Series:
        return self.frames.branches.iloc[0]

    @cached_property
    def names(self) -> dict[str, str]:
        members = self.frames.members
        names = [_short_name(name, member) for name, member in zip(members["name"], members.member_id)]
        return dict(zip(members.member_id, names)) | {SUPERIOR: "上级", BRANCH_LEADERSHIP: "支部班子"}

    def name(self, member_id) -> str:
        return "" if pd.isna(member_id) else self.names.get(member_id, str(member_id))

    @cached_property
    def meetings(self) -> pd.DataFrame:
        return self.frames.meetings.sort_values(["date", "meeting_id"]).reset_index(drop=True)

    @cached_property
    def reviews(self) -> pd.DataFrame:
        """Each meeting's review row, in meeting order (a draft when it has none)."""
        return per_meeting(self.frames.reviews, self.meetings.meeting_id)

    def meeting_title(self, meeting) -> str:
        """``meeting``: a row (Series or itertuples tuple) with date, kind and meeting_id; a meeting after as_of
        is marked 计划召开 wherever its title stands."""
        return (f"{iso_date(meeting.date)} {label(MeetingKind, meeting.kind)}（{meeting.meeting_id}）"
                + facts.planned_mark(meeting.date, self.as_of))

    @cached_property
    def planned(self) -> int:
        """How many of the branch's meetings are still ahead at as_of."""
        return int((~facts.is_held(self.meetings.date, self.as_of)).sum())

    # ---- sections ---------------------------------------------------------------------------------------------

    def header(self) -> Html:
        b = self.branch
        facts = [f"截至 {self.as_of:%Y-%m-%d}", f"{AUDIENCES[self.audience]}版"]
        if not pd.isna(b.superior):
            facts.append(f"上级党组织：{b.superior}")
        if not pd.isna(b.unit_type):
            facts.append(f"单位类型：{UnitType(b.unit_type).label}")
        members = self.frames.members
        # 转出 by the report's day: past meetings only (the public view leaves the column blank, untyped)
        gone = int(pd.to_datetime(members.left_on).le(self.as_of).sum())
        facts.append(f"党员 {len(members) - gone} 名" + (f"（另有已转出 {gone} 名）" if gone else ""))
        title = f'{clip(b["name"], HEADING_WIDTH)} {"公示信息" if self.public else "组织生活会情况报告"}'
        return Html(f'<header class="report-header"><div class="report-title">{esc(title)}</div>'
                    f'<div class="report-meta">{esc(" · ".join(facts))}</div></header>', title=title)

    def verdict(self) -> Html | None:
        if self.public:
            return None
        f = self.findings
        # each meeting's standing: the same findings its forms' guidance and its 情况报告 state
        standing = standings(f, self.meetings.meeting_id)
        rows = []
        for meeting, state in zip(self.meetings.itertuples(index=False), self.reviews.state):
            c = standing[meeting.meeting_id].counts
            rows.append({"会议": meeting.meeting_id, "类型": label(MeetingKind, meeting.kind),
                         "日期": iso_date(meeting.date) + facts.planned_mark(meeting.date, self.as_of),
                         "主题": meeting.topic, "审核": STATES[state],
                         "违规": c["error"], "提醒": c["warning"], "待办": c["info"]})
        if not standing[None].complete:
            c = standing[None].counts
            rows.append({"会议": "—", "类型": "频次（全年）", "日期": "", "主题": "", "审核": "",
                         "违规": c["error"], "提醒": c["warning"], "待办": c["info"]})
        frame = pd.DataFrame(rows, columns=["会议", "类型", "日期", "主题", "审核", "违规", "提醒", "待办"])
        classes = frame.copy().astype(object)
        classes[:] = ""
        classes.loc[frame["违规"] > 0, "违规"] = "late"
        totals = {s: int((f.severity == s).sum()) for s in ("error", "warning", "info")}
        meetings = f"共 {len(self.meetings)} 次会议" + (f"（其中 {self.planned} 次计划召开）" if self.planned else "")
        if totals["error"] == 0:
            reading = (f"{meetings}，未发现违规；提醒 {totals['warning']} 条，"
                       f"待办 {totals['info']} 条。")
        else:
            worst = frame.sort_values("违规", ascending=False).iloc[0]
            reading = (f"{meetings}，发现违规 {totals['error']} 条、提醒 {totals['warning']} 条、"
                       f"待办 {totals['info']} 条；违规最多的是 {worst['会议']}（{worst['违规']} 条）。")
        return section(self.numbered("verdict", "总体结论"), reading,
                       table(frame, classes=classes, formatters={"会议": nowrap, "审核": nowrap}))

    def meetings_list(self) -> Html:
        """Public: the meetings held (date, kind, topic) — publishable facts only."""
        frame = pd.DataFrame({"召开日期": self.meetings.date.map(iso_date),
                              "状态": [facts.state_label(d, self.as_of) for d in self.meetings.date],
                              "会议类型": self.meetings.kind.map(lambda k: label(MeetingKind, k)),
                              "主题": self.meetings.topic, "地点": self.meetings.place})
        held = len(self.meetings) - self.planned
        reading = f"截至 {self.as_of:%Y-%m-%d} 已召开 {held} 次会议" + (
            f"，另有 {self.planned} 次计划召开。" if self.planned else "。")
        return section(self.numbered("meetings_list", "会议召开情况"), reading, table(frame))

    def timelines(self) -> Html | None:
        if self.public:
            return None
        from .progress import STATE_LABELS

        progress = self.progress
        # every row's cells at once, then one table per meeting (a branch has a handful of meetings)
        shown = pd.DataFrame({
            "步骤": progress.step.to_numpy(), "阶段": progress.stage.to_numpy(),
            "应完成日期": iso_dates(progress.due), "实际日期": iso_dates(progress.actual),
            "状态": [STATE_LABELS[s] + (f" {d} 天" if s == "late" else "")
                   for s, d in zip(progress.state, progress.days)],
            "依据": progress.basis.to_numpy(), "出处": progress.source.map(cite).to_numpy()})
        classes = pd.DataFrame("", index=shown.index, columns=shown.columns)
        classes.loc[progress.state.isin(["late", "missing"]).to_numpy(), "状态"] = "late"
        rows_of = progress.groupby(progress.meeting_id.astype(object), sort=False).indices
        parts = []
        for meeting in self.meetings.itertuples(index=False):
            rows = rows_of.get(meeting.meeting_id, [])
            parts.append(subsection(self.meeting_title(meeting),
                                    table(shown.iloc[rows], classes=classes.iloc[rows])))
        bad = progress[progress.state.isin(["late", "missing"]) & progress.basis.eq("规定")]
        reading = ("各次会议的规定时限均已按时完成。" if bad.empty else
                   f"有 {len(bad)} 个规定时限逾期或未完成，涉及 {bad.meeting_id.nunique()} 次会议（标红）。")
        return section(self.numbered("timelines", "会议时间线"), reading, *parts)

    def talk_coverage(self) -> Html | None:
        if self.public:
            return None
        parts, missing_total, pending_total = [], 0, 0
        for meeting in self.meetings.itertuples(index=False):
            html, missing, pending = talk_coverage_table(self.context, meeting.meeting_id, self.name)
            missing_total += missing
            pending_total += pending
            parts.append(subsection(self.meeting_title(meeting), html))
        reading = ("已召开的会议会前谈心谈话覆盖了所有应谈的对象" if missing_total == 0 else
                   f"会前谈心谈话缺 {missing_total} 对（表中“缺”）")
        reading += f"；计划召开的会议尚待谈 {pending_total} 对（表中“待”）。" if pending_total else "。"
        return section(self.numbered("talk_coverage", "谈心谈话覆盖"), reading, *parts, wide=self.wide_matrices)

    @property
    def wide_matrices(self) -> bool:
        """Whether the member × member matrices (the members and 上级) print on landscape pages."""
        return landscape(len(self.frames.members) + 1)

    def criticism_coverage(self) -> Html | None:
        if self.public:
            return None
        parts, missing_total = [], 0
        for meeting in self.meetings.itertuples(index=False):
            for stage, html, missing in criticism_coverage_tables(self.context, meeting.meeting_id, self.name):
                missing_total += missing
                parts.append(subsection(f"{self.meeting_title(meeting)} · {stage.label}", html))
        if not parts:
            return section(self.numbered("criticism_coverage", "批评与自我批评覆盖"), "没有批评与自我批评记录。")
        reading = ("批评与自我批评按要求开展，无遗漏。" if missing_total == 0 else
                   f"批评与自我批评缺 {missing_total} 项（表中“缺”；“自”=自我批评，“批”=批评，“表”=表态）。")
        return section(self.numbered("criticism_coverage", "批评与自我批评覆盖"), reading, *parts, wide=self.wide_matrices)

    def attendance(self) -> Html | None:
        if self.public:
            return None
        a = self.frames.attendance
        a = a[self.context.belonged(a)]  # a member only at the meetings of their membership (rules.md rev 3)
        a = a.merge(self.meetings[["meeting_id", "date"]], on="meeting_id")
        counts = (a.groupby("meeting_id").presence.value_counts().unstack(fill_value=0)
                  .reindex(columns=[p.value for p in Presence], fill_value=0)
                  .reindex(self.meetings.meeting_id, fill_value=0))
        counts.columns = [p.label for p in Presence]
        # a planned meeting's row of zeros is not an empty meeting: say it is still to come
        counts.index = [f"{m}{facts.planned_mark(d, self.as_of)}" for m, d in zip(counts.index, self.meetings.date)]
        counts.index.name = "会议"
        absent = a[a.presence.ne(Presence.present.value).fillna(False)]
        shown = pd.DataFrame({"会议": absent.meeting_id, "姓名": absent.member_id.map(self.name),
                              "情况": absent.presence.map(lambda p: label(Presence, p)), "原因": absent.reason,
                              "书面发言": absent.written_statement.map(yes_no),
                              "会上宣读": absent.read_out.map(yes_no),
                              "会后告知": absent.informed_date.map(iso_date)})
        unexcused = int(absent.presence.eq(Presence.absent.value).sum())
        reading = (f"共有 {len(absent)} 人次未出席，其中无故缺席 {unexcused} 人次。" if len(absent)
                   else "全体党员均出席了已召开的各次会议。")
        return section(self.numbered("attendance", "出席情况"), reading, table(counts.reset_index()),
                       subsection("未出席人员", table(shown)))

    def evaluation(self) -> Html | None:
        if self.public:
            return None
        evaluated = self.meetings[self.meetings.with_evaluation.fillna(False).astype(bool)]
        if evaluated.empty:
            return section(self.numbered("evaluation", "民主评议党员"), "本期没有结合民主评议党员的会议。")
        parts, excellent = [], 0
        ballot_counts = facts.ballot_counts(self.frames.ballots)
        for meeting in evaluated.itertuples(index=False):
            ballots = self.frames.ballots[self.frames.ballots.meeting_id == meeting.meeting_id]
            used = set(ballots.level.dropna())
            levels = [lv for lv in Level if lv.value in used] or list(Level)[:4]
            tally = (ballots.groupby(["rated_id", "level"], observed=True).size().unstack(fill_value=0)
                     .reindex(columns=[lv.value for lv in levels], fill_value=0))
            title = self.meeting_title(meeting)
            if not tally.empty:
                # the 班子's own line (EVAL-GROUP-BALLOT) is named as the ballots name it, not as a member
                tally.index = [GROUP_LINE if m == GROUP else self.name(m) for m in tally.index]
                tally.columns = [lv.label for lv in levels]
                count = facts.ballot_count_text(ballot_counts, meeting.meeting_id, "测评票")
                # many members: charts of balanced parts, each printing its names at a readable size
                pieces = charts.split(len(tally), charts.rows_per_chart())
                for piece in pieces:
                    part = "" if len(pieces) == 1 else f"（第 {piece.start + 1}–{piece.stop} 人）"
                    parts.append(figure(charts.stacked_bars(tally.iloc[piece], title="测评票分布" + part,
                                                            xlabel="票数"),
                                        f"{title} · 民主测评票分布{part}：{count}"))
            ratings = self.frames.ratings[self.frames.ratings.meeting_id == meeting.meeting_id]
            ratings = ratings[self.context.belonged(ratings)]
            excellent += int(ratings.level.eq(Level.excellent.value).sum())
            shown = pd.DataFrame({"姓名": ratings.member_id.map(self.name),
                                  "个人小结": ratings.self_summary.map(yes_no),
                                  "评定等次": ratings.level.map(lambda v: label(Level, v)),
                                  "表决通过": ratings.vote_passed.map(yes_no), "处理意见": ratings.handling,
                                  "反馈日期": ratings.feedback_date.map(iso_date)})
            parts.append(subsection(f"{title} · 评定结果", table(shown)))
        reading = f"{len(evaluated)} 次会议结合民主评议党员，评定优秀 {excellent} 人次。"
        return section(self.numbered("evaluation", "民主评议党员"), reading, *parts)

    def rectification(self) -> Html:
        ledger = self.ledger
        status = ledger.status.map(lambda v: label(RectStatus, v))
        shown = pd.DataFrame({
            "编号": ledger.item_id, "问题": ledger.problem,
            "责任类别": ledger.category.map(lambda v: label(Responsibility, v)),
            "责任人": ledger.owner.map(self.name), "目标": ledger.goal, "措施": ledger.measures,
            "时限": ledger.deadline.map(iso_date)})
        title = self.numbered("rectification", "整改清单" if self.public else "整改台账")
        if self.public:
            states = status.value_counts()
            reading = ("没有整改事项。" if ledger.empty else f"整改事项 {len(ledger)} 项：" +
                       "，".join(f"{label} {int(n)} 项" for label, n in states.items()) + "。")
            return section(title, reading, table(shown.assign(状态=status), formatters={"编号": nowrap, "状态": nowrap}))
        # internal: one state column, the ledger's bucket (已销号 / 超期 / due within 10 or 20 days / later)
        shown["状态"] = ledger.bucket.astype(str).to_numpy()
        classes = pd.DataFrame("", index=shown.index, columns=shown.columns)
        classes.loc[ledger.bucket.eq("超期").to_numpy(), "状态"] = "late"
        buckets = shown["状态"].value_counts()
        reading = ("没有整改事项。" if ledger.empty else f"整改事项 {len(ledger)} 项：" +
                   "，".join(f"{k} {int(buckets.get(k, 0))} 项" for k in BUCKETS) + "。")
        parts = [figure(_burn_down(ledger, self.as_of))] if len(ledger) else []
        # a state word or a date broken over two lines of a narrow column reads as two words
        keep = {"编号": nowrap, "状态": nowrap}
        return section(title, reading, table(shown, classes=classes, formatters=keep), *parts)

    def cadence(self) -> Html | None:
        if self.public:
            return None
        m = self.meetings
        held = m[facts.is_held(m.date, self.as_of)]
        years = sorted(set(held.date.dt.year) | {self.as_of.year})
        rows = []
        for year in years:
            for half, months in (("上半年", (1, 6)), ("下半年", (7, 12))):
                end = pd.Timestamp(year, months[1], 30 if months[1] == 6 else 31)
                if end > self.as_of and year == self.as_of.year and self.as_of < pd.Timestamp(year, months[0], 1):
                    continue
                in_half = held[(held.date.dt.year == year) & held.date.dt.month.between(*months)]
                rows.append({"期间": f"{year}年{half}", "是否已结束": "是" if end <= self.as_of else "否",
                             "组织生活会": int(in_half.kind.eq("regular").sum()),
                             "专题组织生活会": int(in_half.kind.eq("special").sum()),
                             "民主生活会": int(in_half.kind.eq("leadership").sum())})
        frame = pd.DataFrame(rows)
        freq = self.findings[self.findings.rule.str.startswith("FREQ-")]
        reading = ("各个已结束的半年和年度均按规定召开了会议。" if freq.empty else
                   "；".join(freq.message.tolist()) + "。")
        return section(self.numbered("cadence", "召开频次"), reading, table(frame))

    def findings_list(self) -> Html | None:
        if self.public:
            return None
        from ..rules.registry import rule_table

        f = self.findings
        titles = rule_table().set_index("rule").title
        shown = pd.DataFrame({"规则": f.rule.map(titles), "级别": f.severity,
                              "会议": f.meeting_id.fillna("—"), "对象": f.subject.map(self.name),
                              "问题": f.message, "依据": f.source.map(cite)})
        reading = "没有发现问题。" if f.empty else f"共 {len(f)} 条，按会议和规则排列。"
        return section(self.numbered("findings_list", "检查发现的全部问题"), reading,
                       table(shown, formatters={"级别": severity_badge, "会议": nowrap, "对象": nowrap}),
                       f'<p class="legend">{esc(LEGEND)}</p>' if len(f) else "")

    def review_status(self) -> Html:
        """Where each meeting stands in the review chain: state, when submitted, who approved or returned it and
        when; the internal report adds the return reasons and the explanations given at submission (the public one
        reads frames that ``publishable`` has stripped of them)."""
        m, r = self.meetings, self.reviews
        decided = r.state.isin(["approved", "returned"]).to_numpy()
        shown = pd.DataFrame({"会议": m.meeting_id.to_numpy(), "日期": iso_dates(m.date),
                              "类型": m.kind.map(lambda k: label(MeetingKind, k)).to_numpy(),
                              "状态": r.state.map(STATES).to_numpy(), "提交日期": iso_dates(r.submitted_at),
                              "审核人": r.updated_by.where(decided, "").fillna("").to_numpy(dtype=object),
                              "审核日期": np.where(decided, iso_dates(r.updated_at), "")})
        classes = pd.DataFrame("", index=shown.index, columns=shown.columns)
        classes.loc[r.state.eq("returned").to_numpy(), "状态"] = "late"
        classes.loc[r.state.eq("approved").to_numpy(), "状态"] = "cell-ok"
        parts = [table(shown, classes=classes, formatters={"会议": nowrap, "状态": nowrap})]
        # the words in a table of their own, only for the meetings that have any: the state table stays narrow
        worded = (r.reason.notna() | r.explanation.notna()).to_numpy()
        if not self.public and worded.any():
            words = pd.DataFrame({"会议": m.meeting_id.to_numpy()[worded], "状态": shown["状态"].to_numpy()[worded],
                                  "退回理由": r.reason.to_numpy(dtype=object)[worded],
                                  "提交说明": r.explanation.to_numpy(dtype=object)[worded]})
            parts.append(subsection("退回理由与提交说明", table(words, formatters={"会议": nowrap, "状态": nowrap})))
        reading = f"共 {len(m)} 次会议：{review_reading(r)}。" if len(m) else "没有会议。"
        return section(self.numbered("review_status", "审核情况"), reading, *parts)


def _burn_down(ledger: pd.DataFrame, as_of: pd.Timestamp) -> str:
    """Open items over time against the items falling due: the gap is what is late."""
    start = ledger.meeting_date.min()
    end = max(as_of, ledger.deadline.max() if ledger.deadline.notna().any() else as_of)
    days = pd.date_range(start, end, freq="D")

    def cumulative(dates: pd.Series) -> pd.Series:  # how many of ``dates`` fall on or before each day
        return pd.Series(np.searchsorted(np.sort(dates.dropna().to_numpy()), days.to_numpy(), side="right"),
                         index=days)

    finished = ledger.done_date.where(ledger.finished)
    # read week by week (each week's last day): items opened and closed within days drew spikes, not progress
    week_ends = pd.Series(days, index=days).groupby(pd.Grouper(freq="W")).transform("max").eq(days).to_numpy()
    open_count = (cumulative(ledger.meeting_date) - cumulative(finished))[week_ends]
    due_count = cumulative(ledger.deadline)[week_ends]
    return charts.lines({"未完成事项": open_count, "累计到期事项": due_count}, title="整改进度（燃尽图）",
                        ylabel="事项数")
