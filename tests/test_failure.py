"""A page that fails says so in Chinese with a short error id, and the server's log holds the traceback under the
same id; Voila's English "There was an error when executing cell" never reaches a visitor."""
from __future__ import annotations

import re

import pandas as pd

from orglife_nb.forms import app as build_app
from orglife_nb.forms.app import FormsApp
from orglife_nb.forms.failure import Failed
from orglife_nb.models import Branch, Meeting, Member
from orglife_nb.store import Store


def _id(html: str) -> str:
    match = re.search(r"错误编号 <b>([0-9a-f]{8})</b>", html)
    assert match, html
    return match.group(1)


def test_a_page_that_cannot_be_built_shows_an_error_id_and_logs_the_traceback(tmp_path, capfd):
    page = build_app(db=str(tmp_path / "no-such-folder" / "x.db"))
    assert isinstance(page, Failed)
    error_id = _id(page.widget.value)
    assert "页面出错了" in page.widget.value and "Traceback" not in page.widget.value
    log = capfd.readouterr().err
    assert f"错误编号 {error_id}" in log and "Traceback (most recent call last)" in log


def test_an_error_in_a_choice_is_shown_with_its_id_not_lost(tmp_path, capfd, monkeypatch):
    with Store(f"sqlite:///{tmp_path / 's.db'}") as store:
        store.save({Branch: pd.DataFrame([{"branch_id": "B1", "name": "一支部"}]),
                    Member: pd.DataFrame([{"member_id": "M1", "branch_id": "B1", "name": "张三"}]),
                    Meeting: pd.DataFrame([{"meeting_id": "MA", "branch_id": "B1", "kind": "regular", "topic": "甲",
                                            "date": pd.Timestamp("2026-03-01")},
                                           {"meeting_id": "MB", "branch_id": "B1", "kind": "regular", "topic": "乙",
                                            "date": pd.Timestamp("2026-05-01")}])})
        forms = FormsApp(store, defer_guidance=True)

        def broken(meeting_id):
            raise RuntimeError("secret-detail-for-the-log-only")

        monkeypatch.setattr(forms, "choose_meeting", broken)
        other = next(value for _, value in forms.meeting.options if value != forms.meeting.value)
        forms.meeting.value = other  # the visitor picks another meeting: the observer fails
        error_id = _id(forms.failure.value)
        assert "secret-detail" not in forms.failure.value
        log = capfd.readouterr().err
        assert f"错误编号 {error_id}" in log and "secret-detail-for-the-log-only" in log
