"""The secretary's side in the forms: open a phone vote (slips to download once), watch the turnout without
seeing any vote, mix in paper ballots, close: the tally per member equals the ballots submitted."""
from __future__ import annotations

import base64
import re

import pytest

from orglife_nb.auth import add_account
from orglife_nb.forms import BallotForm, Scope, Session
from orglife_nb.models import Ballot, RatingScheme
from orglife_nb.store import Store
from orglife_nb.store.voting import tally_table

from votekit import MEETING, MEMBERS, NAMES, PRESENT, fill


@pytest.fixture
def form(sqlite_url):
    with Store(sqlite_url) as store:
        fill(store)
        add_account(store, "sec-B1", "secretary", "pass-word-1", branches=["B1"])
        session = Session(store.as_actor("sec-B1"))
        yield BallotForm(session, Scope(branch_id="B1", meeting_id=MEETING))


def test_open_watch_the_turnout_mix_paper_and_close_with_the_tally(form):
    phone = form.phone
    assert "未开启手机测评" in phone.turnout.value and phone.voters.value == PRESENT
    phone.voters.value = PRESENT - 1
    assert not phone.open()  # no address for the QR codes yet
    assert "网址" in form.status.value
    phone.url.value = "https://dangjian.example.gov.cn/"
    assert phone.open(), form.status.value
    links = dict(re.findall(r"download='[^']+(\.pdf|\.docx)' href='data:[^;]+;base64,([^']+)'", phone.links.value))
    assert base64.b64decode(links[".pdf"]).startswith(b"%PDF") and base64.b64decode(links[".docx"])[:2] == b"PK"
    assert phone.opening.layout.display == "none"  # codes are issued once
    assert "已投票 0 / 发放测评码 9" in phone.turnout.value

    # members vote on their phones: the codes come from the slips the secretary downloaded
    codes = _codes(base64.b64decode(links[".pdf"]))
    assert len(codes) == PRESENT - 1
    store = form.session.store
    submitted = [{MEMBERS[0]: "excellent", MEMBERS[1]: "qualified"}, {MEMBERS[0]: "qualified"},
                 {MEMBERS[0]: "excellent", MEMBERS[2]: "unqualified"}]
    for code, levels in zip(codes, submitted):
        store.cast_vote(code, levels)
    phone.refresh_button.click()
    assert "已投票 3 / 发放测评码 9" in phone.turnout.value
    assert form.tally.value == "" and "优秀" not in phone.turnout.value + form.count.value

    # one paper ballot typed in, as before
    form.set_levels(**{MEMBERS[0]: "basic"})
    assert form.save()
    form.confirm.value = True
    assert form.close_count()
    assert "未用的测评码已作废" in form.status.value and "手机测评已结束" in phone.turnout.value
    ballots = store.read(Ballot)
    assert ballots.ballot_no.nunique() == 4
    tally = tally_table(ballots, RatingScheme.four, dict(zip(MEMBERS, NAMES)))
    assert tally.loc[NAMES[0]].to_dict() == {"优秀": 2, "合格": 1, "基本合格": 1, "不合格": 0, "合计": 4}
    assert tally.loc[NAMES[2], "不合格"] == 1 and tally.loc["合计", "合计"] == 6
    shown = form.tally.value
    assert "测评统计" in shown and NAMES[0] in shown


def _codes(pdf: bytes) -> list[str]:
    import subprocess
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "slips.pdf"
        path.write_bytes(pdf)
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    return re.findall(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b", text)
