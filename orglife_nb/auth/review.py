"""The review chain of a meeting: 草稿 → 已提交 (the secretary submits; the checks run) → 已审核 (the superior
approves; the records lock) or 退回 (with a reason, back to the secretary) → resubmitted; an approved meeting is
reopened by a reviewer (back to 退回, with a reason). Each step is one transaction with its audit entry.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ..errors import OrglifeError
from ..store import Store, audit, now
from ..store.review import STATES
from ..store.schema import REVIEWS
from ..store.voting import open_poll_of
from ..store.scope import AccountRole, ScopeError

# action → (states it starts from, the state it leads to, roles that may take it)
STEPS = {
    "submit": ({"draft", "returned"}, "submitted", {AccountRole.secretary, AccountRole.admin}),
    "approve": ({"submitted"}, "approved", {AccountRole.superior, AccountRole.admin}),
    "return": ({"submitted"}, "returned", {AccountRole.superior, AccountRole.admin}),
    "reopen": ({"approved"}, "returned", {AccountRole.superior, AccountRole.admin}),
}
NEEDS_REASON = {"return", "reopen"}
ERRORS_SHOWN = 10


class ChecksFailed(OrglifeError):
    """A submission refused because the checks found errors and no explanation was given; ``errors`` are their
    lines (the forms list them without running the checks a second time)."""

    def __init__(self, message: str, errors: list[str]) -> None:
        super().__init__(message)
        self.errors = errors


def meeting_errors(store: Store, meeting_id: str, branch_id: str, as_of: dt.date | None = None,
                   profile=None) -> list[str]:
    """The meeting's violations (severity error) as the checks see them now, as Chinese lines."""
    from ..frames import load
    from ..rules import run_checks

    findings = run_checks(load(store, [branch_id]), profile, as_of)
    errors = findings[(findings.meeting_id == meeting_id) & (findings.severity == "error")]
    return [str(message) for message in errors.message]


def review(store: Store, action: str, meeting_id: str, *, reason: str | None = None, as_of: dt.date | None = None,
           profile=None) -> str:
    """Take one step of the chain as ``store.actor``; returns the new state's label. Refusals are OrglifeErrors."""
    if action not in STEPS:
        raise OrglifeError(f"审核操作只能是 {'、'.join(STEPS)}，而不是 {action}")
    actor = store.actor
    if actor is None:
        raise OrglifeError("审核操作要指明账号：--as 账号（提交由支部书记，审核、退回、重新打开由上级党组织）")
    starts, target, roles = STEPS[action]
    if actor.role not in roles:
        raise ScopeError(f"账号 {actor.name}（{actor.role.label}）不能{_VERB[action]}：只有"
                         f"{'、'.join(r.label for r in AccountRole if r in roles)}可以")
    reason = (reason or "").strip() or None
    if action in NEEDS_REASON and not reason:
        raise OrglifeError(f"{_VERB[action]}须说明理由：--reason 文本")
    branch = store.id_index()["meetings"].get(meeting_id)
    if branch is None:
        raise OrglifeError(f"数据库中没有编号为 {meeting_id} 的会议")
    store.visible([branch])  # the branch must be in the actor's scope
    errors = meeting_errors(store, meeting_id, branch, as_of, profile) if action == "submit" else []
    if errors and not reason:
        shown = "；".join(errors[:ERRORS_SHOWN]) + ("……" if len(errors) > ERRORS_SHOWN else "")
        raise ChecksFailed(f"会议 {meeting_id} 还有 {len(errors)} 处违规：{shown}。改正后再提交，或用 --reason 说明原因后提交",
                           errors)
    with store.transaction() as connection:
        row = connection.execute(select(REVIEWS).where(REVIEWS.c.meeting_id == meeting_id)).mappings().first()
        state = row["state"] if row else "draft"
        if state not in starts:
            raise OrglifeError(f"会议 {meeting_id} 现在是“{STATES[state]}”，不能{_VERB[action]}"
                               f"（只有“{'”或“'.join(STATES[s] for s in sorted(starts))}”的会议可以）")
        poll = open_poll_of(connection, meeting_id) if action in ("submit", "approve") else None
        if poll is not None:  # its ballots reach the records only at the close: they would change a closed file
            raise OrglifeError(f"会议 {meeting_id} 的手机测评还没有结束计票（{poll.turnout()}），不能{_VERB[action]}："
                               f"先结束计票（orglife ballot close --meeting {meeting_id}）")
        stamp = now()
        values = {"state": target, "updated_by": actor.name, "updated_at": stamp}
        if action == "submit":
            values |= {"submitted_at": stamp, "explanation": reason if errors else None, "reason": None}
        elif action in NEEDS_REASON:
            values["reason"] = reason
        if row is None:
            connection.execute(REVIEWS.insert().values(meeting_id=meeting_id, version=1, **values))
        else:
            connection.execute(REVIEWS.update().where(REVIEWS.c.meeting_id == meeting_id)
                               .values(version=REVIEWS.c.version + 1, **values))
        detail = {"state": [STATES[state], STATES[target]]} | ({"reason": reason} if reason else {}) \
            | ({"errors": len(errors)} if errors else {})
        store.log(connection, [audit.entry(action, record="reviews", key=meeting_id, meeting=meeting_id,
                                           branch=branch, detail=detail)])
    return STATES[target]


_VERB = {"submit": "提交", "approve": "审核通过", "return": "退回", "reopen": "重新打开"}
