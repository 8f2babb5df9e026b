"""The forms app: choose branch and meeting at the top, one tab per stage, live guidance on the right.

Tabs are built when first opened, so the first page stays small (Voila's first paint is what people wait for).
"""
from __future__ import annotations

import datetime as dt
import os
import threading
from contextlib import contextmanager
from typing import Iterator

import ipywidgets as w

from ..models import (Attendance, Branch, Criticism, Meeting, MeetingKind, Material, Member, Opinion, Rating,
                      Rectification, Study, Talk, Tenure)
from ..present.html import esc
from .failure import PREHEATED, Failed, guarded, log_line
from ..rules import facts
from ..rules.recheck import Rechecker
from .ballots import BallotForm
from .guidance import STYLE, meeting_guidance
from .questions import QuestionsPanel
from .record import NEW, RecordForm, Scope
from .review import ReviewBar
from .session import Session
from .transfer import WorkbookPanel

# (tab title, what it holds): records get the generated form, two stages have their own panel
TABS: list[tuple[str, tuple]] = [
    ("支部与党员", (Branch, Member, Tenure)),
    ("会议", (Meeting,)),
    ("会前学习", (Study,)),
    ("征求意见", (Opinion,)),
    ("谈心谈话", (Talk,)),
    ("对照检查", (Material,)),
    ("出席", (Attendance,)),
    ("批评与自我批评", (Criticism,)),
    ("回应问题", (QuestionsPanel,)),
    ("民主测评", (BallotForm,)),
    ("评定等次", (Rating,)),
    ("整改", (Rectification,)),
    ("工作簿", (WorkbookPanel,)),
]


class FormsApp:
    def __init__(self, db=None, *, as_of: dt.date | None = None, profile=None, first_tab: int = 1,
                 actor=None, defer_guidance: bool = False) -> None:
        # ``actor``: the logged-in account (or its name); every read and save is checked against it in the store
        self.session = db if isinstance(db, Session) else Session(db, as_of=as_of, profile=profile, actor=actor)
        self.scope = Scope()
        self.forms: dict[object, object] = {}  # record class / panel class → built form
        self.branch = w.Dropdown(description="支部", layout=w.Layout(width="360px"))
        self.branch.add_class("f-branch")
        self.meeting = w.Dropdown(description="会议", layout=w.Layout(width="460px"))
        self.meeting.add_class("f-meeting")
        self.guidance = w.HTML("")
        self.guidance.add_class("f-guidance")
        self._guidance_turn, self._guidance_lock = 0, threading.Lock()
        # after a save only the rules the saved record can affect run again (a talk: one rule, not 48)
        self._rechecker = Rechecker(self.session.profile, self.session.as_of)
        self._muted = False
        self.tabs = w.Tab(children=[w.VBox([]) for _ in TABS])
        for index, (title, _) in enumerate(TABS):
            self.tabs.set_title(index, title)
        self._reload_branches()
        # before any form is built: it sets whether the chosen meeting is locked
        self.review = ReviewBar(self.session, self.scope, on_changed=self._reviewed)
        # the page's own resets of these drop-downs (new options) are not choices: _muted keeps them quiet
        self.failure = w.HTML("")
        self.failure.add_class("f-failure")
        # an unexpected error in a choice is shown with its id (the traceback goes to the server's log)
        guard = guarded(self._show_failure)
        self.branch.observe(guard(lambda change: self._muted or self.choose_branch(change["new"])), "value")
        self.meeting.observe(guard(lambda change: self._muted or self.choose_meeting(change["new"])), "value")
        self.tabs.observe(guard(lambda change: self.open_tab(change["new"])), "selected_index")
        self.open_tab(first_tab)
        self.tabs.selected_index = first_tab
        # behind the login the app is built after the visitor arrives: the checks behind the guidance then run in
        # the notebook's next cell (``finish``), while the page loads, instead of before the form shows
        self._deferred = defer_guidance
        if defer_guidance:
            self.guidance.value = "<p>正在计算实时提示……</p>"
        else:
            self.refresh_guidance()
        self.header = w.HTML(_header(self.session))
        side = w.VBox([w.HTML("<h3>实时提示</h3>"), self.guidance], layout=w.Layout(width="42%"))
        side.add_class("f-main--side")
        form = w.Box([self.tabs], layout=w.Layout(width="58%"))
        form.add_class("f-main--form")
        choice, main = w.HBox([self.branch, self.meeting]), w.HBox([form, side])
        choice.add_class("f-choice")
        main.add_class("f-main")
        self.widget = w.VBox([self.header, self.failure, choice, self.review.widget, main])
        self.widget.add_class("orglife-forms")

    def _show_failure(self, html: str) -> None:
        self.failure.value = html

    # ---- the page's choice -------------------------------------------------------------------------------------

    def _reload_branches(self, select: str | None = None) -> None:
        names = self.session.branches()
        wanted = select or self.scope.branch_id
        with self._quiet():
            self.branch.options = [(f"{name}（{bid}）", bid) for bid, name in names.items()]
            self.branch.value = wanted if wanted in names else next(iter(names), None)
        self.scope.branch_id = self.branch.value
        self._reload_meetings()

    def _reload_meetings(self, select: str | None = None) -> None:
        meetings = self.session.meetings(self.scope.branch_id) if self.scope.branch_id else None
        options = []
        if meetings is not None:
            for row in meetings.sort_values("date", ascending=False).itertuples():
                kind = MeetingKind.label_of(row.kind) or ""
                planned = facts.planned_mark(row.date, self.session.as_of)
                options.append((f"{row.date}{planned} {kind} {row.topic or ''}".strip(), row.meeting_id))
        wanted = select or self.scope.meeting_id
        ids = [value for _, value in options]
        with self._quiet():
            self.meeting.options = options
            self.meeting.value = wanted if wanted in ids else (ids[0] if ids else None)
        self.scope.meeting_id = self.meeting.value

    @contextmanager
    def _quiet(self) -> Iterator[None]:
        self._muted = True
        try:
            yield
        finally:
            self._muted = False

    def choose_branch(self, branch_id: str | None) -> None:
        if branch_id == self.scope.branch_id:
            return
        self.scope.branch_id = branch_id
        self.scope.meeting_id = None
        self._reload_meetings()
        self.review.show()
        self._refresh_forms()
        self.refresh_guidance()

    def choose_meeting(self, meeting_id: str | None) -> None:
        if meeting_id == self.scope.meeting_id:
            return
        self.scope.meeting_id = meeting_id
        self.review.show()
        self._refresh_forms()
        self.refresh_guidance()

    def _refresh_forms(self, skip=None) -> None:
        for kind, form in self.forms.items():
            if form is skip:
                continue
            if isinstance(form, RecordForm):
                form.refresh(select=self._followed(kind))
            else:
                form.refresh()

    def _followed(self, kind):
        """The branch and meeting forms show the record chosen at the top of the page."""
        return {Branch: self.scope.branch_id, Meeting: self.scope.meeting_id}.get(kind)

    # ---- tabs ----------------------------------------------------------------------------------------------------

    def open_tab(self, index: int | None) -> None:
        if index is None or self.tabs.children[index].children:
            return
        parts = [self.form(kind).widget for kind in TABS[index][1]]
        self.tabs.children[index].children = parts

    def form(self, kind):
        """The form of a record class (or panel class), built on first use."""
        if kind not in self.forms:
            if isinstance(kind, type) and kind in (BallotForm, WorkbookPanel, QuestionsPanel):
                self.forms[kind] = kind(self.session, self.scope, on_saved=self._saved)
            else:
                form = RecordForm(self.session, kind, self.scope, on_saved=self._saved)
                if self._followed(kind):
                    form.refresh(select=self._followed(kind))
                self.forms[kind] = form
        return self.forms[kind]

    def _saved(self, form) -> None:
        """After a save: the choices that depend on it, the other open forms, the guidance."""
        record = getattr(form, "record", None)
        chosen = form.chooser.value if isinstance(form, RecordForm) and form.chooser.value != NEW else None
        if record is Branch or isinstance(form, WorkbookPanel):
            self._reload_branches(select=chosen)
        elif record is Meeting:
            self._reload_meetings(select=chosen)
        self.review.show()  # the chosen meeting may be another now; an open history shows the save
        if record in (Branch, Member, Meeting) or isinstance(form, WorkbookPanel):
            self._refresh_forms(skip=form)
        self.refresh_guidance()

    def _reviewed(self) -> None:
        """After a review step: the forms (locked or not) and the guidance."""
        self._refresh_forms()
        self.refresh_guidance()

    def arrive(self, store) -> None:
        """Behind the login: the visitor is known. The app was built before on a session without a store (nothing
        read); now ``store`` (the visitor's account) fills in what its scope shows."""
        self.session.store = store
        self.header.value = _header(self.session)
        self._reload_branches()
        self.review.show()  # before the forms: it tells them whether the chosen meeting is locked
        self._refresh_forms()

    def finish(self, background: bool = True) -> None:
        """The notebook's last cell: compute what was deferred. In the background, once the page has its widgets
        (Voila sends the page's scripts only after the last cell): the form is usable while the checks run; a
        choice made meanwhile wins."""
        if self._deferred:
            self._deferred = False
            if background:
                _after_page_loaded(lambda: _background(self.refresh_guidance))
            else:
                self.refresh_guidance()

    def refresh_guidance(self) -> None:
        with self._guidance_lock:
            self._guidance_turn += 1
            turn = self._guidance_turn
        if not (self.scope.branch_id and self.scope.meeting_id):
            value = "<p>选择支部和会议后，这里显示谈心谈话、批评与自我批评的覆盖情况、检查结果和时间节点。</p>"
        else:
            frames = self.session.frames(self.scope.branch_id)
            value = meeting_guidance(frames, self.scope.meeting_id, rechecker=self._rechecker)
        with self._guidance_lock:
            if turn == self._guidance_turn:  # a later refresh (the visitor chose meanwhile) is the one shown
                self.guidance.value = value


PAGE_LOAD_WAIT = 5.0  # seconds after which deferred work starts even if the page never asked for its widgets


def _after_page_loaded(run) -> None:
    """Call ``run`` once, when the page has fetched its widgets' states from this kernel (the widget manager's
    ``request_states``, answered first), or after PAGE_LOAD_WAIT seconds: deferred work does not slow the reply."""
    done = threading.Lock()

    def once() -> None:
        if done.acquire(blocking=False):
            run()

    original = w.Widget.__dict__["_handle_control_comm_msg"].__func__

    def handle(cls, msg) -> None:
        original(cls, msg)
        if (msg.get("content") or {}).get("data", {}).get("method") == "request_states":
            once()

    w.Widget._handle_control_comm_msg = classmethod(handle)
    timer = threading.Timer(PAGE_LOAD_WAIT, once)
    timer.daemon = True
    timer.start()


def _background(work) -> None:
    """``work`` in a thread of the lowest priority (Linux: per thread): the page and the other visitors come first."""
    def run() -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        except (AttributeError, OSError):
            pass
        work()

    threading.Thread(target=run, daemon=True).start()


def _header(session: Session) -> str:
    actor = getattr(session.store, "actor", None)  # no store yet: built before the visitor arrived
    return (f"{STYLE}<h2>组织生活会 · 民主生活会 · 民主评议党员 · 录入</h2>"
            f"<p class='f-who'>{_who(actor)}检查日期：{session.as_of}</p>")


def _who(actor) -> str:
    """Who is logged in (never where the store is: its address may carry a password)."""
    if actor is None:
        return ""
    return (f"当前账号：<b>{esc(actor.name)}</b>（{esc(actor.role.label)}；范围：{esc(actor.scope_text)}）"
            "　<a href='logout' class='f-logout'>退出登录</a>；")


class LoginNeeded:
    """What a kernel of the login server shows when no valid identity reached it (the login expired meanwhile)."""

    def __init__(self) -> None:
        self.widget = w.HTML(f"{STYLE}<h2>组织生活会 · 民主生活会 · 民主评议党员 · 录入</h2>"
                             "<p class='f-login-needed'>登录已过期或未登录，请<a href='./'>重新登录</a>。</p>")

    def finish(self) -> None:
        pass


def app(db=None, **options) -> FormsApp | LoginNeeded | Failed:
    """Build the app on ``db`` (default: ``ORGLIFE_DB``, as ``orglife serve`` sets it for the kernels). Behind the
    login server the account comes from the server (``auth.identity``), never from the page. A failure shows the
    visitor a Chinese message with an error id; the traceback goes to the server's log under that id."""
    try:
        return _app(db, **options)
    except Exception as error:  # whatever it was, the visitor gets words and an id, the log the traceback
        w.Widget.close_all()
        return Failed(error)


def _app(db=None, **options) -> FormsApp | LoginNeeded:
    from ..auth.identity import behind_login, request_identity
    from ..errors import OrglifeError

    db = db if db is not None else os.environ.get("ORGLIFE_DB")
    if not behind_login() or "actor" in options:
        return FormsApp(db, **options)
    # what does not depend on who asks is done while the preheated kernel waits for its visitor: the store opened,
    # the profile loaded and the whole page built, on a session without a store, so that nothing is read before
    # the visitor's scope is known (the page's widgets reach the browser only after the visitor arrives)
    session = Session(db, as_of=options.pop("as_of", None), profile=options.pop("profile", None))
    store, session.store = session.store, None
    forms = FormsApp(session, defer_guidance=True, **options)
    log_line(PREHEATED)  # ``orglife serve`` counts these to say how many kernels are ready
    name = request_identity()
    try:
        store = store.as_actor(name) if name else None
    except OrglifeError:  # the account was disabled or removed since the login
        store = None
    if store is None:
        w.Widget.close_all()  # the empty page built in advance is not shown
        return LoginNeeded()
    forms.arrive(store)
    return forms

__all__ = ["FormsApp", "app", "TABS"]
