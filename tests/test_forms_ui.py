"""The forms in a real browser: the system Chromium drives an ``orglife serve`` started on a free port with a
temporary store (one server for the module; each test works on its own meeting so the order does not matter)."""
from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
from types import SimpleNamespace

import openpyxl
import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from orglife_nb.auth import add_account
from orglife_nb.forms import Session
from orglife_nb.models import Ballot, Branch, Meeting, Member, Talk
from orglife_nb.store import Store
from orglife_nb.voila import free_port
from servekit import started_url
from test_forms import SOON, TODAY, XSS, seed

TIMEOUT = 90_000  # ms: a page that finds the kernel pool empty waits for a fresh kernel
ADMIN, SECRETARY, PASSWORD = "admin1", "sec-b2", "forms-ui-pass-1"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("forms-ui")
    db = f"sqlite:///{folder / 'store.db'}"
    seed(db)
    with Store(db) as store:  # a second branch for the escaping test, so its member shows in no other matrix
        store.save({Branch: pd.DataFrame([{"branch_id": "B2", "name": "第二支部"}]),
                    Member: pd.DataFrame([{"member_id": "N1", "branch_id": "B2", "name": "赵书记",
                                           "role": "secretary"}]),
                    Meeting: pd.DataFrame([{"meeting_id": "N-MT", "branch_id": "B2", "kind": "regular",
                                            "topic": "二支部会议", "date": SOON}])})
        add_account(store, ADMIN, "admin", PASSWORD)
        add_account(store, SECRETARY, "secretary", PASSWORD, branches=["B2"])
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", "from orglife_nb.cli import main; main()", "serve", "--db", db, "--port", str(port),
         "--log", str(folder / "serve.log"),
         "--pool", "2", "--max-kernels", "40", "--max-kernels-per-user", "40"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    url = started_url(process)  # serve prints the URL once Voila answers (or fails within a minute)
    assert url == f"http://127.0.0.1:{port}/"
    said = []  # what serve says while its kernels preheat, until both are ready (it stops waiting after 3 min)
    while not any("预热内核 2/2" in line or "内核仍在预热" in line for line in said):
        line = process.stdout.readline()
        if not line:
            break
        said.append(line)
    yield SimpleNamespace(url=url, db=db, said=said, log=folder / "serve.log")
    process.terminate()  # serve stops its Voila on SIGTERM
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def test_serve_says_what_it_is_doing_while_it_starts(server):
    """No half minute of silence: the preheated kernels are counted as they become ready, with the time taken."""
    assert any(line.startswith("预热内核 1/2") for line in server.said), server.said
    assert any(re.match(r"预热内核 2/2，可以使用了（共用时 \d+ 秒）", line) for line in server.said), server.said
    assert server.log.read_text(encoding="utf-8").count("kernel-preheated") >= 2


def open_app(page: Page, server, meeting: str | None = None, account: str = "admin1") -> Page:
    page.goto(server.url)
    if "/login" in page.url:  # orglife serve asks every visitor to log in first
        page.fill("#username", account)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
    page.wait_for_selector(".f-meetings--save", timeout=TIMEOUT)
    if meeting:
        choose(page, ".f-meeting", meeting)
    return page


def choose(page: Page, css: str, text: str) -> None:
    """Pick the option of the drop-down ``css`` whose label contains ``text``."""
    select = page.locator(f"{css} select")
    expect(select).to_contain_text(text.replace(" ", "\xa0"))  # the widget may still be rendering
    labels = [label.replace("\xa0", " ") for label in select.locator("option").all_text_contents()]
    select.select_option(index=next(i for i, label in enumerate(labels) if text in label))


def tab(page: Page, title: str) -> None:
    page.locator(".lm-TabBar-tab", has_text=title).click()


def message_of(page: Page, css: str):
    """The error message shown beside the input ``css``."""
    return page.locator(f"{css}-error")


def matrix_cell(page: Page, row: str, column: str) -> str:
    return page.evaluate("""([row, column]) => {
        const table = document.querySelector('.f-guidance .g-talks table');
        const heads = [...table.querySelectorAll('thead th')].map(th => th.textContent);
        const tr = [...table.querySelectorAll('tbody tr')].find(tr => tr.querySelector('th').textContent === row);
        return tr.children[heads.indexOf(column)].textContent;
    }""", [row, column])


def test_a_talk_entered_in_the_browser_is_stored_and_fills_its_matrix_cell(server, page: Page):
    open_app(page, server, "第1次会议")
    guidance = page.locator(".f-guidance")
    expect(guidance).to_contain_text("谈心谈话覆盖（会议计划召开，待谈 3 对）", timeout=TIMEOUT)
    assert matrix_cell(page, "张书记", "王党员") == "待"
    tab(page, "谈心谈话")
    choose(page, ".f-talks-talker", "张书记")
    choose(page, ".f-talks-talkee", "王党员")
    page.locator(".f-talks-date input").fill(TODAY.isoformat())
    page.locator(".f-talks-summary textarea").fill("交流思想")
    page.locator(".f-talks--save").click()
    expect(page.locator(".f-talks--status")).to_contain_text("谈心谈话 新增 1 行")
    with Store(server.db) as store:
        stored = store.read(Talk)
    assert stored[stored.meeting_id == "MT1"][["talker", "talkee", "summary"]].values.tolist() == [
        ["M1", "M3", "交流思想"]]
    expect(guidance).to_contain_text("谈心谈话覆盖（会议计划召开，待谈 2 对）")
    assert matrix_cell(page, "张书记", "王党员") == "✓" and matrix_cell(page, "王党员", "张书记") == "✓"


def test_an_invalid_date_shows_its_message_and_stores_nothing(server, page: Page):
    open_app(page, server, "第2次会议")
    tab(page, "谈心谈话")
    choose(page, ".f-talks-talker", "张书记")
    choose(page, ".f-talks-talkee", "李委员")
    save = page.locator(".f-talks--save")
    expect(save).to_be_enabled()
    page.locator(".f-talks-date input").fill("2026-02-30")
    expect(message_of(page, ".f-talks-date")).to_have_text("不是有效的日期（该月没有这一天）")
    expect(save).to_be_disabled()
    page.locator(".f-talks-date input").fill("下周三")
    expect(message_of(page, ".f-talks-date")).to_contain_text("日期格式不对")
    save.click(force=True)  # even a click on the disabled button must not store anything
    # the kernel handles the page's widget messages in order: once the next edit's message shows, the click
    # before it has been dealt with (no fixed wait)
    page.locator(".f-talks-date input").fill("2026-02-31")
    expect(message_of(page, ".f-talks-date")).to_have_text("不是有效的日期（该月没有这一天）")
    with Store(server.db) as store:
        assert store.read(Talk).query("meeting_id == 'MT2'").empty


def test_two_people_editing_one_meeting_the_second_gets_the_conflict(server, browser):
    pages = []
    for _ in range(2):
        context = browser.new_context()
        pages.append(open_app(context.new_page(), server, "第3次会议"))
    first, second = pages
    for page in pages:
        expect(page.locator(".f-meetings--chooser select")).to_have_value(
            next(label for label in page.locator(".f-meetings--chooser option").all_text_contents()
                 if "MT3" in label).replace("\xa0", " "))
    first.locator(".f-meetings-topic input").fill("甲填写的主题")
    second.locator(".f-meetings-topic input").fill("乙填写的主题")
    first.locator(".f-meetings--save").click()
    expect(first.locator(".f-meetings--status")).to_contain_text("已保存")
    second.locator(".f-meetings--save").click()
    status = second.locator(".f-meetings--status")
    expect(status).to_contain_text("已被他人修改")
    expect(status).to_contain_text("甲填写的主题")  # the current values are shown
    with Store(server.db) as store:
        meetings = store.read(Meeting, store_columns=True).set_index("meeting_id")
    assert meetings.topic["MT3"] == "甲填写的主题" and meetings.version["MT3"] == 2
    second.locator(".f-meetings--reload").click()
    expect(second.locator(".f-meetings-topic input")).to_have_value("甲填写的主题")
    for page in pages:
        page.context.close()


def test_the_ballot_tally_stays_hidden_until_the_count_is_closed(server, page: Page):
    open_app(page, server, "第4次会议")
    tab(page, "民主测评")
    for number, levels in enumerate((("优秀", "合格", "合格"), ("合格", "合格", "基本合格")), start=1):
        for member, level in zip(("M1", "M2", "M3"), levels):
            choose(page, f".f-ballots--level-{member}", level)
        page.locator(".f-ballots--save").click()
        expect(page.locator(".f-ballots--status")).to_contain_text(f"已保存第 {number} 号测评票（3 人的等次）")
    expect(page.locator(".f-ballots--count")).to_contain_text("已录入 2 张测评票")
    expect(page.locator(".f-ballots--tally")).to_have_text("")
    assert "测评统计" not in page.content()
    with Store(server.db) as store:
        assert len(store.read(Ballot).query("meeting_id == 'MT4'")) == 6
    close = page.locator(".f-ballots--close")
    expect(close).to_be_disabled()  # needs the confirmation first
    page.locator(".f-ballots--confirm input").check()
    close.click()
    tally = page.locator(".f-ballots--tally")
    expect(tally).to_contain_text("测评统计")
    cells = tally.locator("tr", has_text="王党员").locator("td").all_text_contents()
    assert cells == ["0", "1", "1", "0", "2"]  # 优秀 合格 基本合格 不合格 合计
    totals = tally.locator("tr", has_text="合计").last.locator("td").all_text_contents()
    assert totals[-1] == "6"
    expect(page.locator(".f-ballots--save")).to_be_disabled()
    expect(page.locator(".f-ballots--level-M1 select")).to_be_disabled()
    session = Session(server.db)
    try:
        assert session.count_closed("MT4")
    finally:
        session.close()


def test_a_script_in_user_text_is_shown_as_text_and_never_runs(server, page: Page):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_app(page, server)
    choose(page, ".f-branch", "第二支部")
    expect(page.locator(".f-meetings-meeting-id input")).to_have_value("N-MT")  # the meeting form followed
    page.locator(".f-meetings-topic input").fill(XSS)
    page.locator(".f-meetings--save").click()
    expect(page.locator(".f-meetings--status")).to_contain_text("已保存")
    tab(page, "支部与党员")
    page.locator(".f-members-member-id input").fill("N2")
    page.locator(".f-members-name input").fill(XSS)
    page.locator(".f-members--save").click()
    expect(page.locator(".f-members--status")).to_contain_text("已保存")
    # the HTML guidance (matrix headers) and the drop-downs show the payload literally
    expect(page.locator(".f-guidance .g-talks")).to_contain_text(XSS)
    expect(page.locator(".f-meeting select")).to_contain_text(XSS)
    # the payload's text is on the page (checked above), so the DOM holds its final form: an injected <img> would
    # be there now, and its onerror could only fire if it were
    page.wait_for_function("() => [...document.images].every(image => image.complete)")
    assert page.locator("img[src='x']").count() == 0
    assert dialogs == []
    with Store(server.db) as store:
        assert store.read(Member).set_index("member_id")["name"]["N2"] == XSS


def test_a_workbook_uploaded_with_problems_is_listed_and_not_stored_and_an_export_downloads(
        server, page: Page, tmp_path):
    from orglife_nb.workbook import export_store

    good = tmp_path / "导出.xlsx"
    export_store(good, db=server.db, branches=["B1"])
    book = openpyxl.load_workbook(good)
    sheet = book["会议"]
    headers = [cell.value for cell in sheet[1]]
    sheet.cell(row=2, column=headers.index("召开日期") + 1, value="下周")
    sheet.cell(row=3, column=headers.index("主题") + 1, value="不应写入的主题")
    bad = tmp_path / "有问题.xlsx"
    book.save(bad)
    open_app(page, server)
    tab(page, "工作簿")
    with page.expect_file_chooser() as chooser:
        page.locator(".f-workbook--upload").click()
    chooser.value.set_files(bad)
    expect(page.locator(".f-workbook--upload")).to_contain_text("(1)")  # the file has reached the kernel
    page.locator(".f-workbook--import").click()
    result = page.locator(".f-workbook--result")
    expect(result).to_contain_text("发现 1 个问题，未写入任何内容")
    expect(result.locator("table")).to_contain_text("召开日期")
    with Store(server.db) as store:
        assert "不应写入的主题" not in store.read(Meeting).topic.tolist()
    page.locator(".f-workbook--export").click()
    with page.expect_download() as download:
        page.locator(".f-workbook--link a").click()
    assert download.value.suggested_filename == "导出-B1.xlsx"
    exported = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))
    assert exported["党员"].max_row == 1 + 3


def test_a_secretary_sees_only_her_branch_and_who_she_is(server, browser):
    page = open_app(browser.new_context().new_page(), server, account=SECRETARY)
    options = page.locator(".f-branch select option").all_text_contents()
    assert options == ["第二支部（B2）"]
    who = page.locator(".f-who")
    expect(who).to_contain_text("当前账号：sec-b2（支部书记；范围：支部 B2）")
    assert "sqlite" not in page.content() and server.db not in page.content()  # the store's address never shows
    tab(page, "工作簿")
    page.locator(".f-workbook--scope select").select_option(index=1)  # "all branches" is all of hers
    page.locator(".f-workbook--export").click()
    with page.expect_download() as download:
        page.locator(".f-workbook--link a").click()
    exported = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))
    assert {row[1] for row in exported["党员"].iter_rows(min_row=2, values_only=True)} == {"B2"}
    page.locator(".f-logout").click()
    expect(page.locator(".message")).to_have_text("已退出登录。")


def test_a_closed_page_gives_its_kernel_back_and_an_open_one_keeps_it(tmp_path, browser):
    """Voila shuts down the kernel of a page that was closed once it has been idle (``--idle-minutes``); a page
    still open keeps its kernel however long it idles, and the preheated pool is never culled."""
    import time

    import psutil

    from orglife_nb import voila

    db = f"sqlite:///{tmp_path / 'store.db'}"
    seed(db)

    def kernels(server) -> set[int]:
        found = set()
        for child in psutil.Process(server.process.pid).children(recursive=True):
            try:
                if child.status() != psutil.STATUS_ZOMBIE and "ipykernel" in " ".join(child.cmdline()):
                    found.add(child.pid)
            except psutil.Error:  # gone between the listing and the look
                continue
        return found

    def wait_for(count: int, server, seconds: float = 90) -> set[int]:
        deadline = time.monotonic() + seconds
        while len(found := kernels(server)) != count:  # polling for a condition, not a timed guess
            assert time.monotonic() < deadline, f"expected {count} kernels, found {len(found)}"
            time.sleep(0.2)
        return found

    idle = 12  # seconds: longer than a pooled kernel takes to run the notebook (Voila culls those before that)
    with voila.running("forms.ipynb", db=db, pool_size=1, cull_idle=idle) as server:
        pool = wait_for(1, server)
        context = browser.new_context()
        open_app(context.new_page(), server)
        both = wait_for(2, server)  # the page took the pooled kernel, the pool made a new one
        time.sleep(idle + 4)  # past the idle limit: a page still open keeps its kernel
        assert kernels(server) == both
        context.close()
        left = wait_for(1, server)
        assert left == both - pool  # the page's kernel went; the pool's stayed
        open_app(browser.new_page(), server)  # and still serves the next visitor


def test_every_field_is_named_by_its_label(server, page: Page):
    """Each input's header is its <label for=…>: screen readers announce it, and get_by_label finds the input."""
    from orglife_nb.models import fields_of

    open_app(page, server)
    form = page.locator(".f-meetings")
    shown = [spec for spec in fields_of(Meeting) if form.locator(f".f-meetings-{spec.name.replace('_', '-')}").count()]
    assert len(shown) >= 8
    for spec in shown:
        named = form.get_by_label(re.compile("^" + re.escape(spec.header) + r"\*?$"))
        expect(named).to_have_count(1)
        assert named.evaluate("e => ['INPUT', 'SELECT', 'TEXTAREA'].includes(e.tagName)"), spec.header
    form.get_by_label("主题").fill("用标签找到的主题")
    expect(form.locator(".f-meetings-topic input")).to_have_value("用标签找到的主题")


def test_on_a_phone_no_tab_scrolls_the_page_sideways(server, page: Page):
    """390 px wide (a phone): one column, pickers and fields full width; no tab makes the page scroll sideways."""
    from orglife_nb.forms.app import TABS

    page.set_viewport_size({"width": 390, "height": 844})
    open_app(page, server)
    widths = "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    for title, _ in TABS:
        tab(page, title)
        page.wait_for_timeout(300)  # the tab's form is built on first opening
        scroll, client = page.evaluate(widths)
        assert scroll <= client, (title, scroll, client)
    meeting = page.locator(".f-meeting select").bounding_box()
    assert meeting["x"] >= 0 and meeting["x"] + meeting["width"] <= 390  # the meeting picker is on the screen
