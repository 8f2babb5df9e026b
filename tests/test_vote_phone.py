"""The phone page of the electronic 民主测评 against a real ``orglife serve`` server, in real Chromium emulating a
360 px Android phone: vote with a code from the QR link, reuse, unknown and closed codes, a double submit, XSRF,
no external resources, and neither the codes nor the votes in the server log."""
from __future__ import annotations

import http.cookiejar
import json
import re
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import expect
from sqlalchemy.engine import make_url

from orglife_nb.auth.vote import GUESSES
from orglife_nb.models import Ballot
from orglife_nb.store import Store
from orglife_nb.store.voting import CLOSED, SPENT, UNKNOWN, grouped, unpack
from orglife_nb.serving import ServeSettings
from orglife_nb.voila import start

import votekit
from votekit import BOX, MEETING, MEMBERS, NAMES, PRESENT, branch_store, dump, one_state, raw_files



@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("vote")
    db = branch_store(folder, ("admin", "admin", "vote-test-pass-1"))
    with Store(db) as store:
        poll = store.open_poll(MEETING, PRESENT, public=2)
    notebook = folder / "empty.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), notebook)
    log = folder / "voila.log"
    server = start(notebook, db=db, preheat=False, log=log, cull_idle=0, login=ServeSettings())
    server.db, server.log, server.codes = db, log, [s.code for s in poll.slips]
    yield server
    server.stop()


@pytest.fixture
def phone(playwright, browser):
    context = browser.new_context(**playwright.devices["Galaxy S8"])
    page = context.new_page()
    yield page
    context.close()


def ballots(server) -> int:
    with Store(server.db) as store:
        return len(store.read(Ballot)), store.poll(MEETING)


def shot(page, name: str) -> None:
    votekit.shot(page, name, full_page=True)  # the whole phone page, below the fold too


def test_a_member_votes_on_a_phone_by_the_qr_link_and_the_code_works_once(server, phone):
    requests = []
    phone.on("request", lambda request: requests.append(request.url))
    code = server.codes[0]
    phone.goto(server.url + "vote#" + code)
    expect(phone.locator("legend").first).to_have_text(NAMES[0])
    assert "#" not in phone.url and code not in phone.url  # the code left the address bar
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling at 360 px
    shot(phone, "ballot-360")
    for i, member in enumerate(MEMBERS[:5]):
        phone.locator(f"input[name=level-{member}] + span").nth(i % 4).click()
    phone.locator(f"input[name=level-{MEMBERS[4]}] + span").first.click()  # a second tap: abstain after all
    assert phone.locator(f"input[name=level-{MEMBERS[4]}]:checked").count() == 0
    shot(phone, "ballot-360-filled")
    phone.click("button[type=submit]")
    expect(phone.locator(".done")).to_contain_text("您的测评票已经收到")
    shot(phone, "done-360")
    assert ballots(server)[1].used == 1
    with Store(server.db) as store:  # what this member chose, and nothing for the member she left out
        poll = store.poll(MEETING)
    box = [unpack(b, poll) for b in json.loads(dump(server.db)["ballot_polls"][0][8])]
    assert box == [("member", {MEMBERS[0]: "excellent", MEMBERS[1]: "qualified", MEMBERS[2]: "basic",
                               MEMBERS[3]: "unqualified"})]
    assert all(url.startswith(server.url) for url in requests)  # nothing from elsewhere
    phone.goto("about:blank")  # the same slip scanned again opens a fresh page
    phone.goto(server.url + "vote#" + code)
    expect(phone.locator(".message")).to_have_text(SPENT)
    shot(phone, "used-360")


def test_a_typed_code_unknown_and_closed_codes(server, phone):
    phone.goto(server.url + "vote")
    phone.fill("#code", "abcd-efgh-jkmn")
    phone.click("button[type=submit]")
    expect(phone.locator(".message")).to_have_text(UNKNOWN)
    shot(phone, "unknown-360")
    phone.fill("#code", grouped(server.codes[1]).lower())  # typed by hand, in lower case
    phone.click("button[type=submit]")
    expect(phone.locator("legend")).to_have_count(len(MEMBERS))
    phone.locator(f"input[name=level-{MEMBERS[5]}] + span").first.click()
    # a double tap on submit stores one ballot
    phone.locator("button[type=submit]").dblclick()
    expect(phone.locator(".done")).to_be_visible()
    assert ballots(server)[1].used == 2


def _session(server):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(server.url + "vote", timeout=30) as response:
        token = re.search(r'name="_xsrf" value="([^"]+)"', response.read().decode()).group(1)
    return opener, token


def _post(opener, server, fields: dict) -> str:
    body = urllib.parse.urlencode(fields).encode()
    try:
        with opener.open(server.url + "vote", data=body, timeout=30) as response:
            return response.read().decode()
    except urllib.error.HTTPError as error:
        return f"{error.code} {error.read().decode()}"


def test_the_same_ballot_posted_twice_at_once_is_stored_once_and_xsrf_is_required(server, phone):
    # (``phone`` only keeps this test in its place, before the close: pytest groups tests by browser)
    code = server.codes[2]
    opener, token = _session(server)
    fields = {"_xsrf": token, "code": code, "submit": "1", f"level-{MEMBERS[0]}": "excellent"}
    with ThreadPoolExecutor(4) as pool:
        pages = list(pool.map(lambda _: _post(opener, server, fields), range(4)))
    assert sum("您的测评票已经收到，谢谢" in page for page in pages) == 1
    assert sum(SPENT in page for page in pages) == 3
    stranger = urllib.request.build_opener()  # no XSRF cookie or token: refused, nothing spent
    page = _post(stranger, server, {"code": server.codes[3], "submit": "1", f"level-{MEMBERS[0]}": "excellent"})
    assert page.startswith("403") and "页面已过期" in page
    assert ballots(server)[1].used == 3
    # once the server has emptied the log (right after the receipt), a copy of the store's files holds the box and
    # the spent codes as they are, no earlier state to pair them
    wal = Path(make_url(server.db).database + "-wal")
    deadline = time.monotonic() + 60
    while wal.exists() and wal.stat().st_size and time.monotonic() < deadline:
        time.sleep(0.05)
    tables = dump(server.db)
    box, spent = json.loads(tables["ballot_polls"][0][8]), json.loads(tables["ballot_spent"][0][1])
    raw = raw_files(server.db)
    assert len(box) == len(spent) == 3 and BOX.findall(raw)
    one_state(raw, spent, box)


def test_after_the_close_codes_get_the_closed_message_and_nothing_leaks(server, phone):
    used = ballots(server)[1].used
    with Store(server.db) as store:
        store.close_count(MEETING)
        stored = store.read(Ballot)
    assert stored.ballot_no.nunique() == used
    phone.goto(server.url + "vote#" + server.codes[5])
    expect(phone.locator(".message")).to_have_text(CLOSED)
    shot(phone, "closed-360")
    log = server.log.read_text(errors="replace")
    tables = repr(dump(server.db))
    for code in server.codes:
        for text in (code, grouped(code), code.lower()):
            assert text not in log and text not in tables
    # no access line for the phone page: nothing gives a vote an address or a time
    assert not [line for line in log.splitlines() if "/vote" in line or "POST" in line]
    assert "excellent" not in log and "level-" not in log


def test_wrong_codes_sent_at_once_are_counted_before_any_is_checked(server, phone):
    # (after the close: the address ends this test with no guesses left; ``phone`` keeps it in its place)
    opener, token = _session(server)
    with ThreadPoolExecutor(40) as pool:
        pages = list(pool.map(lambda i: _post(opener, server, {"_xsrf": token, "code": f"WRONG-{i:04d}"}),
                              range(100)))
    checked = sum(UNKNOWN in page for page in pages)
    refused = sum(page.startswith("429") and "次数过多" in page for page in pages)
    # never more than the limit looked up, however many arrive at once (one more was typed earlier in the module)
    assert checked + refused == len(pages) and checked <= GUESSES
