"""The forms server behind a login, in real Chromium: no page and no kernel without logging in, the identity the
kernel sees comes from the server only, throttling, logout, kernel caps and owners, the Host allow-list; sessions
that end, caps that hold under parallel requests, the kernels' request-info route closed to visitors."""
from __future__ import annotations

import asyncio
import concurrent.futures
import http.cookiejar
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
import time
import urllib.error
import urllib.parse
import urllib.request

import nbformat
import psutil
import pytest
from playwright.sync_api import Page, expect

from orglife_nb.auth import add_account, set_disabled, set_password
from orglife_nb.auth.accounts import login as attempt_login
from orglife_nb.auth.server import (ADDRESS_FAILURES, IDENTITY_HEADER, LoginGate, Throttle, Throttled, _safe_next,
                                    sign_identity, verify_identity)
from orglife_nb.store import Store
from orglife_nb.serving import ServeSettings
from orglife_nb.voila import start

TIMEOUT = 90_000
PASSWORD = "login-test-pass-1"

# A page that shows who the server says is logged in (what the forms notebook does before it opens the store).
WHOAMI = """from orglife_nb.auth.identity import request_identity
import ipywidgets
ipywidgets.HTML(f"<p class='who'>身份：{request_identity()}</p>")"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("login")
    db = f"sqlite:///{folder / 'store.db'}"
    with Store(db) as store:
        for name in ("alice", "bob", "carol", "dave", "erin", "frank", "gina"):
            add_account(store, name, "admin" if name == "alice" else "analyst", PASSWORD)
    notebook = folder / "whoami.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(WHOAMI)]), notebook)
    server = start(notebook, db=db, pool_size=1, log=folder / "voila.log", cull_idle=0,
                   login=ServeSettings(max_kernels_per_user=1, max_kernels=3, allowed_hosts=["dangjian.example.gov.cn"]))
    server.db = db
    yield server
    server.stop()


def kernel_pids(server) -> set[int]:
    """Kernels the server runs (a process a kernel forked shares its command line: not another kernel)."""
    def is_kernel(process) -> bool:
        try:
            return process is not None and "ipykernel" in " ".join(process.cmdline())
        except psutil.Error:  # gone meanwhile
            return False

    return {child.pid for child in psutil.Process(server.process.pid).children(recursive=True)
            if is_kernel(child) and not is_kernel(child.parent())}


def kernels(server) -> int:
    return len(kernel_pids(server))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url: str, headers: dict | None = None) -> tuple[int, dict, str]:
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def http_login(server, name: str, password: str = PASSWORD) -> tuple[int, str | None]:
    """Log in without a browser: the answer's status (302 in, 403 refused, 429 throttled) and the login cookie."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    page = opener.open(server.url + "login", timeout=30).read().decode()
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"_xsrf": xsrf, "username": name, "password": password}).encode()
    try:
        status = opener.open(server.url + "login", data=data, timeout=60).status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, next((c.value for c in jar if c.name == "orglife-login"), None)


def logged_in(server, cookie: str) -> bool:
    """Whether the server takes this saved login cookie (the login page sends a logged-in visitor on)."""
    status, _, _ = fetch(server.url + "login", headers={"Cookie": f"orglife-login={cookie}"})
    assert status in (200, 302)
    return status == 302


def login(page: Page, server, name: str, password: str = PASSWORD) -> None:
    page.goto(server.url + "login")
    page.fill("#username", name)
    page.fill("#password", password)
    page.click("button[type=submit]")


def test_anonymous_requests_get_the_login_page_and_start_no_kernel(server):
    # the pool fills once the server answers (and refills after another test's page took its kernel): wait until
    # the kernels stay the same for a second before looking; whichever tests ran before, no visitor adds one
    deadline, before, steady_since = time.monotonic() + 60, None, time.monotonic()
    while time.monotonic() < deadline:
        now = kernel_pids(server)
        if now != before:
            before, steady_since = now, time.monotonic()
        elif now and time.monotonic() - steady_since >= 1:
            break
        time.sleep(0.2)
    assert before, "the pool never started its kernel"
    for path in ("", "?x=1", "voila/render/whoami.ipynb", "api/kernels"):
        status, headers, _ = fetch(server.url + path)
        assert status in (302, 403), path
        if status == 302:
            assert headers["Location"].startswith("/login?next=")
    assert kernel_pids(server) <= before  # no kernel started for anyone not logged in


def test_a_request_for_another_host_is_refused(server):
    status, _, body = fetch(server.url, headers={"Host": "evil.example"})
    assert status == 403 and "不认识的主机名" in body
    status, _, _ = fetch(server.url + "login", headers={"Host": "evil.example:8866"})
    assert status == 403
    # the allowed name is matched as written: its dots are no wildcards
    status, _, body = fetch(server.url + "login", headers={"Host": "dangjianXexample.gov.cn"})
    assert status == 403 and "不认识的主机名" in body
    status, _, body = fetch(server.url + "login", headers={"Host": "dangjian.example.gov.cn"})
    assert status == 200 and 'id="username"' in body


def test_parallel_pages_of_one_account_stay_within_its_cap(server):
    cookie = f"orglife-login={http_login(server, 'gina')[1]}"
    before = kernels(server)
    # another theme than the preheated kernels': each page would get a kernel started for it, which takes seconds
    # (the moment many requests could pass a check that counts only the kernels already there)
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: fetch(server.url + "?theme=dark", headers={"Cookie": cookie}), range(6)))
    statuses = sorted(status for status, _, _ in answers)
    assert statuses == [200] + [429] * 5  # her cap is one page, however many are asked for at once
    assert kernels(server) == before + 1
    fetch(server.url + "logout", headers={"Cookie": cookie})  # frees her kernel for the tests below
    assert kernels(server) == before


def test_the_kernels_request_info_route_is_closed_to_visitors(server):
    from tornado.httpclient import HTTPClientError
    from tornado.websocket import websocket_connect

    async def connect():
        url = server.url.replace("http://", "ws://") + f"voila/query/{uuid.uuid4()}"
        connection = await websocket_connect(url)
        connection.close()

    # in a thread of its own: Playwright's sync API may keep an event loop running in this one
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        attempt = pool.submit(asyncio.run, connect())
    with pytest.raises(HTTPClientError) as refused:  # anyone knowing a kernel id would take its identity
        attempt.result()
    assert refused.value.code == 403


def test_login_shows_the_identity_the_server_vouches_for(server, browser):
    context = browser.new_context(extra_http_headers={IDENTITY_HEADER: "forged"})
    page = context.new_page()
    page.goto(server.url)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.locator("h1")).to_have_text("组织生活会 · 民主生活会 · 民主评议党员")
    login(page, server, "bob", "wrong-password-0")
    expect(page.locator(".message")).to_have_text("账号或密码不对，或账号已停用")
    login(page, server, "bob")
    # a visitor's own X-Orglife-Identity header is dropped: the kernel hears the server's word only
    expect(page.locator(".who")).to_have_text("身份：bob", timeout=TIMEOUT)
    page.goto(server.url + "logout")
    expect(page.locator(".message")).to_have_text("已退出登录。")
    page.goto(server.url)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    context.close()


def test_one_account_gets_one_page_and_nobody_uses_anothers_kernel(server, browser):
    first = browser.new_context()
    page = first.new_page()
    login(page, server, "alice")
    expect(page.locator(".who")).to_have_text("身份：alice", timeout=TIMEOUT)
    kernel_id = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"|kernel_id\s*=\s*"([0-9a-f-]{36})"|([0-9a-f]{8}-[0-9a-f]{4}-'
                          r'[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})', page.content())
    assert kernel_id
    kernel_id = next(g for g in kernel_id.groups() if g)
    second = first.new_page()  # the same account, a second page: over its cap of one
    response = second.goto(server.url)
    assert response.status == 429
    expect(second.locator(".message")).to_contain_text("您已打开 1 个录入页面")
    other = browser.new_context()
    intruder = other.new_page()
    login(intruder, server, "carol")
    expect(intruder.locator(".who")).to_have_text("身份：carol", timeout=TIMEOUT)
    answer = intruder.request.get(server.url + f"api/kernels/{kernel_id}")
    assert answer.status == 403  # alice's kernel is not carol's to use
    assert page.request.get(server.url + f"api/kernels/{kernel_id}").status == 200
    for context in (first, other):
        context.close()


def test_failed_logins_are_throttled(server, browser):
    page = browser.new_context().new_page()
    for _ in range(5):
        login(page, server, "carol", "not-the-password")
        expect(page.locator(".message")).to_have_text("账号或密码不对，或账号已停用")
    login(page, server, "carol")  # even the right password waits now
    expect(page.locator(".message")).to_contain_text("登录失败次数过多")


def test_the_throttle_and_the_audit_know_a_name_however_it_is_typed(server):
    assert http_login(server, "ｆｒａｎｋ")[0] == 302  # full-width letters name the same account
    for name in ("erin", "ｅrin", "erｉn", " erin", "ｅｒｉｎ"):
        assert http_login(server, name, "not-the-password")[0] == 403
    for name in ("erin", "ｅrin", "erｉn"):  # even the right password waits now, through any variant
        assert http_login(server, name)[0] == 429
    with Store(server.db) as store:
        failed = store.history(user="erin")
    assert list(failed.action) == ["login_failed"] * 5 and set(failed.record_key) == {"erin"}


def test_a_saved_cookie_no_longer_counts_after_logout_password_change_or_disabling(server):
    status, first = http_login(server, "dave")
    _, second = http_login(server, "dave")  # the same account on another device
    assert status == 302 and logged_in(server, first) and logged_in(server, second)
    fetch(server.url + "logout", headers={"Cookie": f"orglife-login={second}"})
    assert not logged_in(server, first) and not logged_in(server, second)  # every session of the account ended
    _, third = http_login(server, "dave")
    assert logged_in(server, third)
    with Store(server.db) as store:
        set_password(store, "dave", "another-pass-2")
    assert not logged_in(server, third)
    assert http_login(server, "dave")[0] == 403
    status, fourth = http_login(server, "dave", "another-pass-2")
    assert status == 302 and logged_in(server, fourth)
    with Store(server.db) as store:
        set_disabled(store, "dave")
    assert not logged_in(server, fourth)


def test_failed_logins_are_counted_per_address_too(store):
    add_account(store, "hana", "analyst", PASSWORD)
    gate = LoginGate()
    for i in range(ADDRESS_FAILURES):  # names that differ: the account's own count never fills up
        assert attempt_login(store, gate, f"guess-{i}", "not-the-password", "10.0.0.9") is None
    with pytest.raises(Throttled):
        attempt_login(store, gate, "hana", PASSWORD, "10.0.0.9")
    assert attempt_login(store, gate, "hana", PASSWORD, "10.0.0.10").name == "hana"


def test_the_login_form_needs_its_xsrf_token(server):
    data = urllib.parse.urlencode({"username": "alice", "password": PASSWORD}).encode()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                         _NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(server.url + "login", data=data, timeout=30)
    assert refused.value.code == 403


def test_signed_identities_and_redirects(monkeypatch):
    monkeypatch.setenv("ORGLIFE_IDENTITY_KEY", "k" * 64)
    signed = sign_identity("王书记", now=1000)
    assert verify_identity(signed, now=1100) == "王书记"
    assert verify_identity(signed, now=1000 + 3601) is None  # too old
    assert verify_identity(signed.replace(signed[-1], "0" if signed[-1] != "0" else "1"), now=1100) is None
    assert verify_identity("王书记", now=1100) is None
    monkeypatch.setenv("ORGLIFE_IDENTITY_KEY", "x" * 64)
    assert verify_identity(signed, now=1100) is None  # another server's key
    for unsafe in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", ""):
        assert _safe_next(unsafe, "/") == "/"
    assert _safe_next("/voila/render/x.ipynb?a=1", "/") == "/voila/render/x.ipynb?a=1"


@pytest.mark.parametrize("failures, waited, allowed", [(4, 0, True), (5, 0, False), (5, 601, True)])
def test_throttle_window(failures, waited, allowed):
    throttle = Throttle(limit=5, window=600)
    for i in range(failures):
        throttle.fail("account:x", now=100 + i * 0.001)
    assert (throttle.wait("account:x", now=100 + waited) == 0) is allowed


def test_tries_at_once_never_overtake_the_limit_and_undecided_ones_only_delay():
    throttle = Throttle(limit=2, window=600)
    assert throttle.take("10.0.0.1") and throttle.take("10.0.0.1")
    assert not throttle.take("10.0.0.1")  # two undecided tries could fill the limit: not yet, not refused either
    throttle.settle("10.0.0.1", failed=False)  # a right code: it never counts
    assert throttle.take("10.0.0.1")
    throttle.settle("10.0.0.1", failed=True)
    throttle.settle("10.0.0.1", failed=True)
    with pytest.raises(Throttled):
        throttle.take("10.0.0.1")
    assert throttle.take("10.0.0.2")  # another address


def test_https_with_a_certificate_and_secure_cookies(tmp_path, browser, monkeypatch):
    import datetime as dt
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    db = f"sqlite:///{tmp_path / 'store.db'}"
    with Store(db) as store:
        add_account(store, "alice", "admin", PASSWORD)
    notebook = tmp_path / "notebooks" / "whoami.ipynb"
    notebook.parent.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(WHOAMI)]), notebook)
    monkeypatch.chdir(tmp_path)  # paths relative to where the command was given (the server runs elsewhere)
    server = start(notebook, db=db, pool_size=1, cull_idle=0, login=ServeSettings(certfile="cert.pem", keyfile="key.pem"))
    try:
        assert server.url.startswith("https://")
        context = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
        context.check_hostname = False
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context),
                                             urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
        with opener.open(server.url + "login", timeout=30) as response:
            page = response.read().decode()
            assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        assert next(c for c in jar if c.name == "_xsrf").secure
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"_xsrf": xsrf, "username": "alice", "password": PASSWORD}).encode()
        with pytest.raises(urllib.error.HTTPError) as redirected:  # a successful login redirects
            opener.open(server.url + "login", data=data, timeout=30)
        assert redirected.value.code == 302
        cookie = next(c for c in jar if c.name == "orglife-login")
        assert cookie.secure and cookie.has_nonstandard_attr("HttpOnly")
        with pytest.raises(OSError):  # plain HTTP on the TLS port gets nothing (reset or refused)
            urllib.request.urlopen(server.url.replace("https://", "http://") + "login", timeout=10)
        # and the preheated kernel still learns who logged in (its request info comes over loopback)
        context = browser.new_context(ignore_https_errors=True)
        page = context.new_page()
        login(page, server, "alice")
        expect(page.locator(".who")).to_have_text("身份：alice", timeout=TIMEOUT)
        context.close()
    finally:
        server.stop()
