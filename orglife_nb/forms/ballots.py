"""Anonymous ballot entry: one ballot = a level per member rated, with no voter identity.

The tally per member stays hidden while ballots are being entered (nobody can watch the count move as a
particular paper goes in); the secretary closes the count, after which the tally is shown with totals and the
ballots can no longer change (the store refuses, see ``store.writer.apply_edits``).
"""
from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path
from typing import Callable

import ipywidgets as w
import pandas as pd

from ..errors import OrglifeError
from ..models import GROUP, SCHEME_LEVELS, Attendance, Ballot, Branch, MeetingKind, RatingScheme, field_of
from ..present.html import esc, table
from ..rules import facts
from ..store.voting import GROUP_LINE, NOT_RATED, tally_table
from .fields import FieldInput
from .record import LOCKED, Scope
from .session import Edit, Session

PREFIX = "f-ballots"


class BallotForm:
    def __init__(self, session: Session, scope: Scope, on_saved: Callable[[object], None] | None = None) -> None:
        self.session, self.scope = session, scope
        self.on_saved = on_saved or (lambda form: None)
        self.voter_type = FieldInput(field_of(Ballot, "voter_type"), PREFIX)
        self.levels: dict[str, w.Dropdown] = {}
        self.scheme = RatingScheme.four
        self._layout = None
        self.closed = False
        self.grid = w.VBox([])
        self.save_button = w.Button(description="保存本票", button_style="primary", icon="save")
        self.save_button.add_class(f"{PREFIX}--save")
        self.save_button.on_click(lambda _: self.save())
        self.confirm = w.Checkbox(value=False, description="确认：结束计票后测评票不能再修改", indent=False)
        self.confirm.add_class(f"{PREFIX}--confirm")
        self.confirm.observe(lambda _: self._update_buttons(), "value")
        self.close_button = w.Button(description="结束计票", button_style="warning")
        self.close_button.add_class(f"{PREFIX}--close")
        self.close_button.on_click(lambda _: self.close_count())
        self.count = w.HTML("")
        self.count.add_class(f"{PREFIX}--count")
        self.tally = w.HTML("")
        self.tally.add_class(f"{PREFIX}--tally")
        self.status = w.HTML("")
        self.status.add_class("f-status")
        self.status.add_class(f"{PREFIX}--status")
        self.lock_note = w.HTML("")
        self.lock_note.add_class(f"{PREFIX}--locked")
        self.phone = PhoneVote(self)
        # typing paper slips: hidden once the count is closed, so the tally is what the page shows
        self.entry = w.VBox([w.HTML("<h4>录入纸质测评票</h4>"), self.voter_type.box, self.grid,
                             w.HBox([self.save_button])])
        self.widget = w.VBox([
            w.HTML("<h3>民主测评票</h3><p>每张票只记录对每位党员的测评等次，不记录投票人。"
                   "计票结束前不显示统计结果。</p>"),
            self.lock_note, self.phone.widget, self.entry, self.status, self.count,
            w.HBox([self.confirm, self.close_button]), self.tally])
        self.widget.add_class(PREFIX)
        self.refresh()

    # ---- reading ---------------------------------------------------------------------------------------------

    def _meeting(self) -> pd.Series | None:
        if not self.scope.meeting_id:
            return None
        meetings = self.session.meetings(self.scope.branch_id)
        found = meetings[meetings.meeting_id == self.scope.meeting_id]
        return found.iloc[0] if len(found) else None

    def refresh(self) -> None:
        meeting = self._meeting()
        if meeting is None:
            self.grid.children = [w.HTML("<p>请先在页面上方选择会议。</p>")]
            self.levels, self.closed, self._layout = {}, False, None
            self.count.value = self.tally.value = ""
            self.phone.refresh(None)
            self._update_buttons()
            return
        # a meeting not combined with 民主评议 has no scheme (NaN from the store): ballots default to 四档
        scheme = meeting["rating_scheme"]
        self.scheme = RatingScheme(RatingScheme.four.value if pd.isna(scheme) or not scheme else scheme)
        members = self.session.members(self.scope.branch_id)
        members = members[members.status.ne(NOT_RATED)]  # the same people as the phone ballot (store.voting)
        day = pd.Timestamp(meeting["date"])  # the members of the meeting's day (rules.md rev 3)
        members = members[facts.belongs(day, pd.to_datetime(members.joined_on), pd.to_datetime(members.left_on))]
        if meeting["kind"] == MeetingKind.leadership.value:  # 民主生活会: the leadership group is rated
            members = members[members.leadership_member.fillna(False).astype(bool)]
        elif self.session.rows(Branch, branch_id=self.scope.branch_id).has_committee.fillna(False).any():
            # a line on the 班子 as a whole, as on the phone ballot (EVAL-GROUP-BALLOT, rules.md rev 3)
            members = pd.concat([members, pd.DataFrame({"member_id": [GROUP], "name": [GROUP_LINE]})],
                                ignore_index=True)
        layout = (self.scope.meeting_id, self.scheme, tuple(members.member_id))
        if layout != self._layout:  # rebuild only for another meeting, scheme or people: no flicker per save
            self._layout = layout
            self._build_grid(members)
        self.closed = self.session.count_closed(self.scope.meeting_id)
        ballots = self.session.rows(Ballot, meeting_id=self.scope.meeting_id)
        papers = facts.ballot_count_text(facts.ballot_counts(ballots), self.scope.meeting_id, "测评票")
        self.phone.refresh(meeting)
        self.entry.layout.display = "none" if self.closed else None
        if self.closed:
            self.count.value = f"<p>计票已结束：共 {papers}。测评票不能再修改。</p>"
            self.tally.value = tally_html(ballots, self.scheme, dict(zip(members.member_id, members["name"])))
        else:
            phones = self.phone.poll is not None
            self.count.value = (f"<p>已录入{'纸质测评票 ' if phones else ' '}{papers}。统计结果在结束计票后显示"
                                + ("（手机测评票在结束计票时一并计入）" if phones else "") + "。</p>")
            self.tally.value = ""
        self._update_buttons()

    def _build_grid(self, members: pd.DataFrame) -> None:
        choices = [("（不评）", "")] + [(level.label, level.value) for level in SCHEME_LEVELS[self.scheme]]
        self.levels = {}
        rows = []
        for member_id, name in zip(members.member_id, members["name"]):
            dropdown = w.Dropdown(options=choices, value="", layout=w.Layout(width="160px"))
            dropdown.add_class(f"{PREFIX}--level-{member_id}")
            dropdown.add_class(f"{PREFIX}--level")
            dropdown.observe(lambda _: self._update_buttons(), "value")
            self.levels[member_id] = dropdown
            rows.append(w.HBox([w.Label(f"{name}（{member_id}）", layout=w.Layout(width="200px")), dropdown]))
        self.grid.children = [w.HTML(f"<p>测评方案：{esc(self.scheme.label)}</p>")] + rows

    def _update_buttons(self) -> None:
        chosen = any(d.value for d in self.levels.values())
        frozen = self.closed or self.scope.locked  # an approved meeting's ballots are locked like its records
        self.save_button.disabled = frozen or not chosen or bool(self.voter_type.error)
        self.close_button.disabled = frozen or not self.levels or not self.confirm.value
        for dropdown in self.levels.values():
            dropdown.disabled = frozen
        self.voter_type.disable(frozen)
        self.lock_note.value = LOCKED if self.scope.locked and self.scope.meeting_id else ""

    # ---- writing ---------------------------------------------------------------------------------------------

    def set_levels(self, **levels: str) -> None:
        """Fill the ballot (member id → level code or label); for tests and scripted entry."""
        for member_id, level in levels.items():
            dropdown = self.levels[member_id]
            dropdown.value = next(v for label, v in dropdown.options if level in (label, v))

    def save(self) -> bool:
        """Store this ballot (one row per member rated) in one transaction, under the next ballot number."""
        if self.save_button.disabled:
            frozen = self.closed or self.scope.locked
            self.status.value = "" if frozen else "<div class='f-bad'>请至少为一位党员选择等次。</div>"
            return False
        stored = self.session.rows(Ballot, meeting_id=self.scope.meeting_id)
        numbers = pd.to_numeric(stored.ballot_no, errors="coerce") if len(stored) else pd.Series(dtype=float)
        number = str(int(numbers.max()) + 1 if numbers.notna().any() else 1)
        voter = self.voter_type.parsed()
        edits = [Edit(Ballot, {"meeting_id": self.scope.meeting_id, "ballot_no": number, "rated_id": member_id,
                               "level": dropdown.value, "voter_type": voter})
                 for member_id, dropdown in self.levels.items() if dropdown.value]
        try:
            self.session.save(edits)
        except OrglifeError as error:
            self.status.value = f"<div class='f-bad'>{esc(error)}</div>"
            self.refresh()
            return False
        for dropdown in self.levels.values():
            dropdown.value = ""
        self.status.value = f"<div class='f-ok'>已保存第 {esc(number)} 号测评票（{len(edits)} 人的等次）。</div>"
        self.refresh()
        self.on_saved(self)
        return True

    def close_count(self) -> bool:
        if self.close_button.disabled:
            return False
        try:
            self.session.close_count(self.scope.meeting_id)
        except OrglifeError as error:
            self.status.value = f"<div class='f-bad'>{esc(error)}</div>"
            return False
        self.confirm.value = False
        self.status.value = ("<div class='f-ok'>已结束计票" + ("：手机投票已停止，未用的测评码已作废" if
                             self.phone.poll is not None else "") + "，统计结果如下。</div>")
        self.refresh()
        return True


class PhoneVote:
    """The meeting's 民主测评 on phones (``store.voting``): open it (one-time codes, slips to download once), then
    watch the turnout, which codes were used and never what was voted; the form's 结束计票 closes it too."""

    def __init__(self, form: BallotForm) -> None:
        from ..documents.slips import VOTE_URL_ENV  # (the documents package loads docxtpl: not for every page)

        self.form = form
        self.poll = None
        self.voters = w.BoundedIntText(value=0, min=0, max=2000, description="党员测评码", layout=w.Layout(width="220px"),
                                       style={"description_width": "90px"})
        self.voters.add_class(f"{PREFIX}--phone-voters")
        self.public = w.BoundedIntText(value=0, min=0, max=2000, description="群众代表", layout=w.Layout(width="220px"),
                                       style={"description_width": "90px"})
        self.public.add_class(f"{PREFIX}--phone-public")
        self.url = w.Text(value=os.environ.get(VOTE_URL_ENV, ""), description="服务器网址",
                          placeholder="https://dangjian.example.gov.cn/", layout=w.Layout(width="440px"),
                          style={"description_width": "90px"})
        self.url.add_class(f"{PREFIX}--phone-url")
        self.open_button = w.Button(description="开启手机测评并生成测评票", button_style="primary", icon="qrcode",
                                    layout=w.Layout(width="240px"))
        self.open_button.add_class(f"{PREFIX}--phone-open")
        self.open_button.on_click(lambda _: self.open())
        self.refresh_button = w.Button(description="刷新投票人数", icon="refresh")
        self.refresh_button.add_class(f"{PREFIX}--phone-refresh")
        self.refresh_button.on_click(lambda _: self.form.refresh())
        self.turnout = w.HTML("")
        self.turnout.add_class(f"{PREFIX}--turnout")
        self.links = w.HTML("")
        self.links.add_class(f"{PREFIX}--slips")
        self.opening = w.VBox([w.HTML("<p>发放一次性测评码：每张测评票一个二维码和测评码，党员用手机扫码投票，"
                                      "不记名。测评码只在此时生成一次，请下载打印后当场随机分发。</p>"),
                               w.HBox([self.voters, self.public]), self.url, self.open_button])
        self.widget = w.VBox([w.HTML("<h4>手机测评</h4>"), self.turnout, self.opening, self.links,
                              self.refresh_button])
        self.widget.add_class(f"{PREFIX}--phone")

    def refresh(self, meeting) -> None:
        meeting_id = self.form.scope.meeting_id if meeting is not None else None
        self.poll = self.form.session.store.poll(meeting_id) if meeting_id else None
        actor = self.form.session.store.actor if self.form.session.store is not None else None
        frozen = (meeting is None or self.form.scope.locked or (actor is not None and not actor.writes_records)
                  or self.form.session.count_closed(meeting_id))
        self.opening.layout.display = "none" if self.poll is not None or frozen else None
        self.refresh_button.layout.display = None if self.poll is not None and self.poll.is_open else "none"
        if self.poll is None:
            self.turnout.value = "" if meeting is None else "<p>未开启手机测评（也可以只录入纸质测评票）。</p>"
            if not self.voters.value and meeting is not None:
                self.voters.value = self._present(meeting_id)
        elif self.poll.is_open:
            self.turnout.value = (f"<p class='{PREFIX}--open'><b>手机测评进行中：{esc(self.poll.turnout())}</b>。"
                                  f"测评码有效至 {self.poll.expires_at:%Y-%m-%d %H:%M}。"
                                  "投票内容在结束计票后才统计显示。</p>")
        else:
            self.links.value = ""
            self.turnout.value = (f"<p>手机测评已结束：{esc(self.poll.turnout())}，未用的测评码已作废。</p>")

    def _present(self, meeting_id: str) -> int:
        rows = self.form.session.rows(Attendance, meeting_id=meeting_id)
        return int(rows.presence.isin(["present", "flexible"]).sum()) if len(rows) else 0

    def open(self) -> bool:
        from ..documents.slips import write_slips

        meeting_id = self.form.scope.meeting_id
        if not self.url.value.strip():
            self.form.status.value = "<div class='f-bad'>请填写手机访问本服务器的网址（二维码指向它）。</div>"
            return False
        files: dict[str, bytes] = {}

        def deliver(poll) -> None:  # inside the store's transaction: no slips, no codes
            with tempfile.TemporaryDirectory() as folder:
                for path in write_slips(poll, folder, self.url.value):
                    files[path.name] = path.read_bytes()

        try:
            self.form.session.store.open_poll(meeting_id, self.voters.value, self.public.value, deliver=deliver)
        except OrglifeError as error:
            self.form.status.value = f"<div class='f-bad'>{esc(error)}</div>"
            return False
        types = {"slips.pdf": "application/pdf",
                 "slips.docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
        shown = {"slips.pdf": "下载测评票（PDF，直接打印）", "slips.docx": "下载测评票（Word）"}
        self.links.value = ("<p><b>测评票只能在此下载一次</b>（数据库只存测评码的散列，不能补打），打印后沿虚线裁开：" + "　".join(
            f"<a class='f-download' download='测评票-{esc(meeting_id)}{Path(name).suffix}' "
            f"href='data:{types[name]};base64,{base64.b64encode(data).decode('ascii')}'>{shown[name]}</a>"
            for name, data in sorted(files.items(), reverse=True)) + "</p>")
        self.form.status.value = "<div class='f-ok'>已开启手机测评。</div>"
        self.form.refresh()
        return True


# level colours for the stacked bars, best to worst (the same order as the scheme's levels)
_BAR_COLOURS = ("#2e7d32", "#81c784", "#ffb74d", "#c62828")


def tally_html(ballots: pd.DataFrame, scheme: RatingScheme, names: dict[str, str]) -> str:
    """Votes per member and level, with each member's total and the column totals, and per member a bar of the
    levels stacked (the share of each level at a glance)."""
    counts = tally_table(ballots, scheme, names)
    levels = [level.label for level in SCHEME_LEVELS[scheme]]
    colours = dict(zip(levels, _BAR_COLOURS if len(levels) == 4 else (_BAR_COLOURS[0], _BAR_COLOURS[2],
                                                                     _BAR_COLOURS[3])))
    legend = "".join(f"<span style='display:inline-block;width:.8em;height:.8em;background:{colours[label]};"
                     f"margin:0 .25em 0 .8em'></span>{esc(label)}" for label in levels)
    bars = []
    for name, row in counts.drop(index="合计").iterrows():
        total = int(row["合计"]) or 1
        parts = "".join(f"<span title='{esc(label)} {int(row[label])}' style='display:inline-block;height:100%;"
                        f"width:{100 * int(row[label]) / total:.2f}%;background:{colours[label]}'></span>"
                        for label in levels if int(row[label]))
        bars.append(f"<div style='display:flex;align-items:center;margin:.15em 0'><span style='width:8em'>"
                    f"{esc(name)}</span><span style='display:inline-flex;width:20em;height:1em;background:#eee'>"
                    f"{parts}</span></div>")
    return ("<h4>测评统计</h4>" + table(counts, index=True)
            + f"<div class='{PREFIX}--bars'><p>各等次占比：{legend}</p>{''.join(bars)}</div>")
