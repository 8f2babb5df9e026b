"""The secretary's 手机测评 in the served forms (real ``orglife serve``, real Chromium): open it, download the slips,
watch the turnout move as members vote on their phones, close, read the tally."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from types import SimpleNamespace

import pytest
from playwright.sync_api import Page, expect

from orglife_nb.store import Store
from orglife_nb.voila import free_port
from servekit import started_url

from votekit import MEMBERS, NAMES, PRESENT, branch_store, shot

PASSWORD = "vote-forms-pass-1"
TIMEOUT = 120_000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("vote-forms-ui")
    db = branch_store(folder, ("sec-B1", "secretary", PASSWORD, "B1"))
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", "from orglife_nb.cli import main; main()", "serve", "--db", db, "--port", str(port),
         "--pool", "1", "--log", str(folder / "serve.log")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    yield SimpleNamespace(url=started_url(process), db=db)
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def test_open_download_watch_the_turnout_and_close_in_the_forms(server, page: Page):
    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto(server.url)
    page.fill("#username", "sec-B1")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector(".f-meetings--save", timeout=TIMEOUT)
    page.locator(".lm-TabBar-tab", has_text="民主测评").click()
    expect(page.locator(".f-ballots--turnout")).to_contain_text("未开启手机测评")
    # served by orglife serve: the address for the QR codes is filled in, the codes default to those present
    expect(page.locator(".f-ballots--phone-url input")).to_have_value(server.url)
    expect(page.locator(".f-ballots--phone-voters input")).to_have_value(str(PRESENT))
    shot(page, "forms-before")
    page.locator(".f-ballots--phone-open").click()
    link = page.locator(".f-ballots--slips a", has_text="PDF")
    expect(link).to_be_visible(timeout=TIMEOUT)
    with page.expect_download() as download:
        link.click()
    pdf = download.value.path()
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    import re

    codes = re.findall(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b", text)
    assert len(codes) == PRESENT
    expect(page.locator(".f-ballots--turnout")).to_contain_text(f"已投票 0 / 发放测评码 {PRESENT}")
    with Store(server.db) as store:
        for code, level in zip(codes[:3], ("excellent", "qualified", "excellent")):
            store.cast_vote(code, {MEMBERS[0]: level, MEMBERS[1]: "basic"})
    page.locator(".f-ballots--phone-refresh").click()
    expect(page.locator(".f-ballots--turnout")).to_contain_text(f"已投票 3 / 发放测评码 {PRESENT}")
    expect(page.locator(".f-ballots--tally")).to_have_text("")
    shot(page, "forms-turnout")
    page.locator(".f-ballots--confirm input").check()
    page.locator(".f-ballots--close").click()
    tally = page.locator(".f-ballots--tally")
    expect(tally).to_contain_text("测评统计", timeout=TIMEOUT)
    cells = tally.locator("tr", has_text=NAMES[0]).locator("td").all_text_contents()
    assert cells == ["2", "1", "0", "0", "3"]  # 优秀 合格 基本合格 不合格 合计
    expect(page.locator(".f-ballots--turnout")).to_contain_text("手机测评已结束")
    expect(page.locator(".f-ballots--save")).to_be_hidden()  # no more paper slips: the tally is what shows
    tally.scroll_into_view_if_needed()
    shot(page, "forms-closed")
