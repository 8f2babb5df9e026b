"""The review bar in real Chromium behind the login: a superior returns a submitted meeting with a reason, the
secretary (on a phone-sized screen) then sees 退回 and the reason; a secretary submits and the bar shows 已提交
without a reload. ``ORGLIFE_SHOTS=<folder>`` keeps screenshots."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Browser, Page, expect

from orglife_nb.auth import add_account
from orglife_nb.auth.review import review
from orglife_nb.models import Branch, Meeting, Member
from orglife_nb.store import Store
from orglife_nb.serving import ServeSettings
from orglife_nb.voila import start

TIMEOUT = 90_000  # ms: a page that finds the kernel pool empty waits for a fresh kernel
PASSWORD = "review-ui-pass-1"
REASON = "缺少会议记录<b>请补充</b>"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("review-ui")
    db = f"sqlite:///{folder / 'store.db'}"
    with Store(db) as store:
        store.save({Branch: pd.DataFrame([{"branch_id": "B1", "name": "第一党支部", "superior": "机关党委"}]),
                    Member: pd.DataFrame([{"member_id": "M1", "branch_id": "B1", "name": "张书记",
                                           "role": "secretary"},
                                          {"member_id": "M2", "branch_id": "B1", "name": "王党员"}]),
                    Meeting: pd.DataFrame([{"meeting_id": "MT", "branch_id": "B1", "kind": "regular",
                                            "topic": "年度组织生活会",  # past its deadlines: the checks find
                                            # errors, so the submission keeps its explanation
                                            "date": dt.date.today() - dt.timedelta(days=120)},
                                           {"meeting_id": "MA", "branch_id": "B1", "kind": "regular",
                                            # planned: nothing overdue, so it is submitted with no explanation
                                            "topic": "专题学习会", "date": dt.date.today() + dt.timedelta(days=40)},
                                           {"meeting_id": "MD", "branch_id": "B1", "kind": "regular",
                                            # a planned draft: the secretary submits it in the page
                                            "topic": "主题党日", "date": dt.date.today() + dt.timedelta(days=50)}])})
        add_account(store, "sec1", "secretary", PASSWORD, branches=["B1"])
        add_account(store, "sup1", "superior", PASSWORD, superior="机关党委")
        review(store.as_actor("sec1"), "submit", "MT", reason="会议记录正在整理")
        review(store.as_actor("sec1"), "submit", "MA")
    server = start("forms.ipynb", db=db, pool_size=1, cull_idle=0, log=folder / "voila.log",
                   login=ServeSettings(max_kernels=6, max_kernels_per_user=2))
    server.db = db
    yield server
    server.stop()


def log_in(browser: Browser, server, account: str, width: int) -> Page:
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto(server.url + "login")
    page.fill("#username", account)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".f-review--state")).to_contain_text("审核状态", timeout=TIMEOUT)
    return page


def choose_meeting(page: Page, text: str) -> None:
    select = page.locator(".f-meeting select")
    expect(select).to_contain_text(text, timeout=TIMEOUT)
    labels = select.locator("option").all_text_contents()
    select.select_option(index=next(i for i, label in enumerate(labels) if text in label))


def shot(page: Page, name: str) -> None:
    folder = os.environ.get("ORGLIFE_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=False)


def test_a_superior_returns_the_meeting_and_the_secretary_sees_the_reason(server, browser):
    superior = log_in(browser, server, "sup1", 1366)
    choose_meeting(superior, "年度组织生活会")
    bar = superior.locator(".f-review")
    expect(bar.locator(".f-review--state")).to_contain_text("已提交")
    expect(bar.locator(".f-review--state")).to_contain_text("提交说明：会议记录正在整理")
    expect(bar.locator(".f-review--approve")).to_be_visible()
    shot(superior, "superior-1366")
    bar.locator(".f-review--return").click()  # no reason yet: refused in words, nothing changes
    expect(bar.locator(".f-review--message")).to_contain_text("退回须说明理由")
    expect(bar.locator(".f-review--state")).to_contain_text("已提交")
    bar.locator(".f-review--text textarea").fill(REASON)
    bar.locator(".f-review--return").click()
    expect(bar.locator(".f-review--state")).to_contain_text("退回理由：" + REASON)
    expect(bar.locator(".f-review--return")).to_be_hidden()
    expect(bar.locator(".f-review--message")).to_contain_text("会议现在是“退回”")
    row = stored(server, "MT")
    assert (row.state, row.reason, row.updated_by) == ("returned", REASON, "sup1")
    superior.context.close()

    secretary = log_in(browser, server, "sec1", 390)
    choose_meeting(secretary, "年度组织生活会")
    state = secretary.locator(".f-review--state")
    expect(state).to_contain_text("退回")
    expect(state).to_contain_text("sup1")
    expect(state.locator(".f-review--reason")).to_have_text("退回理由：" + REASON)  # shown as text, not markup
    expect(secretary.locator(".f-review--submit")).to_be_visible()
    for hidden in ("approve", "return", "reopen"):
        expect(secretary.locator(f".f-review--{hidden}")).to_be_hidden()
    # on a phone the bar stays within the screen
    width = secretary.evaluate("document.querySelector('.f-review').getBoundingClientRect().right")
    assert width <= 390
    shot(secretary, "secretary-390")
    secretary.context.close()


def test_a_superior_approves_a_submitted_meeting_end_to_end(server, browser):
    """The fresh-install blocker: the review frame's text columns hold pd.NA (pandas 3's string dtype), which the
    bar once tested for truth — the page crashed for everyone once a meeting was submitted."""
    superior = log_in(browser, server, "sup1", 1366)
    choose_meeting(superior, "专题学习会")
    bar = superior.locator(".f-review")
    expect(bar.locator(".f-review--state")).to_contain_text("已提交", timeout=TIMEOUT)
    bar.locator(".f-review--approve").click()
    expect(bar.locator(".f-review--state")).to_contain_text("已审核", timeout=TIMEOUT)
    expect(bar.locator(".f-review--state")).to_contain_text("记录已锁定")
    expect(bar.locator(".f-review--reopen")).to_be_visible()
    expect(bar.locator(".f-review--approve")).to_be_hidden()
    expect(superior.locator("text=There was an error")).to_have_count(0)
    row = stored(server, "MA")
    assert (row.state, row.updated_by) == ("approved", "sup1")
    superior.context.close()


def test_a_secretary_submits_and_the_bar_shows_the_new_state_without_a_reload(server, browser):
    """The store said 已提交 while the page kept 草稿: the bar crashed reading back a submission without an
    explanation, silently."""
    secretary = log_in(browser, server, "sec1", 390)
    choose_meeting(secretary, "主题党日")
    bar = secretary.locator(".f-review")
    expect(bar.locator(".f-review--state")).to_contain_text("草稿", timeout=TIMEOUT)
    bar.locator(".f-review--submit").click()
    message = bar.locator(".f-review--message")
    expect(message).not_to_contain_text("正在提交审核", timeout=TIMEOUT)  # the step said it runs, and ran
    if "处违规" in message.inner_text():  # the checks found errors (today's rules): explain, then submit
        bar.locator(".f-review--text textarea").fill("会议记录正在整理")
        bar.locator(".f-review--submit").click()
    expect(bar.locator(".f-review--state")).to_contain_text("已提交")
    expect(message).to_contain_text("会议现在是“已提交”")
    expect(bar.locator(".f-review--submit")).to_be_hidden()
    expect(secretary.locator(".f-failed")).to_have_count(0)
    assert stored(server, "MD")[["state", "updated_by"]].tolist() == ["submitted", "sec1"]
    secretary.context.close()


def stored(server, meeting: str) -> pd.Series:
    """The meeting's review row as the store has it."""
    from orglife_nb.store.review import review_frame

    with Store(server.db) as store, store.engine.connect() as connection:
        return review_frame(connection, [meeting]).iloc[0]
