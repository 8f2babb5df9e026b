"""JupyterHub with the store's accounts: a real hub (and its configurable-http-proxy) on localhost, started from the
shipped deploy/jupyterhub_config.py; two accounts log in through Chromium and each gets her own forms server that
shows only her scope; nobody opens another's server; wrong passwords and disabled accounts are refused."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from orglife_nb.auth import add_account, set_disabled
from orglife_nb.auth.hub import OrglifeAuthenticator, singleuser_arguments
from orglife_nb.demo import DEMO_PASSWORD, demo_accounts, save_demo
from orglife_nb.store import Store
from orglife_nb.voila import free_port

CONFIG = Path(__file__).resolve().parents[1] / "deploy" / "jupyterhub_config.py"
TIMEOUT = 180_000  # a first login spawns the account's forms server, which preheats its kernel


def _proxy_available() -> None:
    if shutil.which("configurable-http-proxy") is None:
        if os.environ.get("CI"):
            pytest.fail("configurable-http-proxy is missing: .ci/run installs it with npm")
        pytest.skip("configurable-http-proxy (npm) is not installed")


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    _proxy_available()
    folder = tmp_path_factory.mktemp("hub")
    db = f"sqlite:///{folder / 'demo.db'}"
    with Store(db) as store:
        save_demo(store)
        demo_accounts(store)
        add_account(store, "gone", "analyst", DEMO_PASSWORD)
        set_disabled(store, "gone")
    port = free_port()
    env = {**os.environ, "ORGLIFE_DB": db, "ORGLIFE_HUB_DIR": str(folder / "state"),
           "ORGLIFE_HUB_URL": f"http://127.0.0.1:{port}", "ORGLIFE_HUB_PORT": str(free_port()),
           "ORGLIFE_PROXY_API_PORT": str(free_port())}
    log = open(folder / "hub.log", "wb")
    process = subprocess.Popen(["jupyterhub", "-f", str(CONFIG)], cwd=folder, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        assert process.poll() is None, (folder / "hub.log").read_text()[-3000:]
        try:
            with urllib.request.urlopen(url + "/hub/login", timeout=2):
                break
        except (urllib.error.URLError, OSError):
            assert time.monotonic() < deadline, (folder / "hub.log").read_text()[-3000:]
            time.sleep(0.5)
    yield {"url": url, "db": db, "log": folder / "hub.log"}
    process.terminate()  # the hub stops the servers it spawned, then its proxy
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def hub_login(page: Page, hub, name: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(hub["url"] + "/hub/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.click("#login_submit")


def branch_options(page: Page) -> list[str]:
    """The branch ids the page offers (each option reads 名称（编号）)."""
    return [re.search(r"（([^（）]+)）$", text).group(1)
            for text in page.locator(".f-branch select option").all_inner_texts()]


def test_two_accounts_each_get_their_own_forms_with_their_own_scope(hub, browser):
    with Store(hub["db"]) as store:
        expected = {name: sorted(store.as_actor(name).visible()) for name in ("sec-B001", "superior")}
    assert len(expected["sec-B001"]) == 1 and len(expected["superior"]) > 1  # the two scopes differ
    pages = {}
    for name in expected:  # both logged in at once, each in her own browser
        pages[name] = browser.new_context().new_page()
        hub_login(pages[name], hub, name)
    # the wait page shown while a server starts is checked through the hub's own template loader (a test below):
    # here it may be gone, or half replaced by the forms, at any moment
    for name, page in pages.items():
        expect(page.locator(".f-who")).to_contain_text(f"当前账号：{name}", timeout=TIMEOUT)
        assert page.url.startswith(f"{hub['url']}/user/{name}/")
        expect(page.locator(".f-branch select option")).to_have_count(len(expected[name]), timeout=30_000)
        assert sorted(branch_options(page)) == expected[name]

    with Store(hub["db"]) as store:
        logins = store.history()
    assert set(expected) <= set(logins[logins.action == "login"].record_key)  # the hub's logins are audited

    # the secretary cannot open the superior's forms server (she would act as the superior there)
    secretary = pages["sec-B001"]
    response = secretary.goto(f"{hub['url']}/user/superior/")
    # the hub refuses her: 403 from its OAuth when the superior's server runs (it does here), 404 when it does not
    assert response.status == 403 and "/hub/api/oauth2/authorize" in secretary.url
    assert secretary.locator(".f-who").count() == 0
    assert "superior" not in secretary.content().split("<body", 1)[-1].replace("/user/superior/", "")

    # an account disabled after its login is turned away by its own forms server at the next request
    with Store(hub["db"]) as store:
        set_disabled(store, "sec-B001")
    try:
        response = secretary.context.request.get(f"{hub['url']}/user/sec-B001/")  # with her cookies
        assert response.status == 403 and "f-who" not in response.text()
    finally:
        with Store(hub["db"]) as store:
            set_disabled(store, "sec-B001", False)

    # the hub's own pages a logged-in account sees are Chinese: home (her server running), the wait page (read
    # through the hub's template engine, as the hub renders it while a server starts), not running
    home = pages["superior"]
    home.goto(f"{hub['url']}/hub/home")
    expect(home.locator("#start")).to_contain_text("进入我的录入页面")
    expect(home.locator("#stop")).to_have_text("停止我的录入页面")
    expect(home.locator("#logout")).to_contain_text("退出登录")
    expect(home.locator("nav")).to_contain_text("首页")
    for english in ("Start My Server", "My Server", "Token", "Logout", "Home"):
        assert english not in home.locator("body").inner_text()
    assert home.title() == "组织生活会录入"

    # logging out of the forms ends the hub login too
    page = pages["superior"]
    page.goto(f"{hub['url']}/user/superior/")
    page.locator(".f-logout").click(timeout=TIMEOUT)
    page.wait_for_url("**/hub/**")
    page.goto(f"{hub['url']}/user/superior/")
    expect(page.locator("input[name=username]")).to_be_visible(timeout=30_000)
    for context in {p.context for p in pages.values()}:
        context.close()


def test_the_hub_log_does_not_warn_that_nobody_can_log_in(hub):
    # the store's enabled accounts are the hub's allow list (check_allowed); the hub must not say otherwise
    assert "No allow config found" not in hub["log"].read_text(errors="replace")
    assert OrglifeAuthenticator().any_allow_config


def test_the_hubs_wait_and_not_running_pages_are_chinese():
    """Rendered through the hub's own template loader from the shipped paths (as the hub does for these pages)."""
    from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader
    from jupyterhub._data import DATA_FILES_PATH

    import orglife_nb.auth

    stock = str(Path(DATA_FILES_PATH) / "templates")
    ours = str(Path(orglife_nb.auth.__file__).parent / "hub_templates")
    # the hub's own loader (JupyterHub.init_tornado_settings), on the paths the shipped config sets
    env = Environment(loader=ChoiceLoader([PrefixLoader({"templates": FileSystemLoader([stock])}, "/"),
                                           FileSystemLoader([ours, stock])]), autoescape=True)
    context = dict(static_url=lambda *a, **k: "", base_url="/hub/", prefix="/", logo_url="", user=None,
                   parsed_scopes=set(), login_url="/hub/login", logout_url="/hub/logout", xsrf_token="",
                   progress_url="/p", spawn_url="/hub/spawn", server_name="", announcement=None)
    pending = env.get_template("spawn_pending.html").render(**context)
    assert "正在启动您的录入页面" in pending and "Your server is starting up" not in pending
    assert 'id="progress-bar"' in pending and "Event log" not in pending and "Stop Server<" not in pending
    stopped = env.get_template("not_running.html").render(**context, failed=False, implicit_spawn_seconds=0)
    assert "录入页面未运行" in stopped and "Server not running" not in stopped
    failed = env.get_template("not_running.html").render(**context, failed=True, failed_message="<b>x</b>")
    assert "录入页面启动失败" in failed and "&lt;b&gt;x&lt;/b&gt;" in failed
    refused = env.get_template("error.html").render(**context, status_code=403, status_message="Forbidden")
    assert "无权访问" in refused and "Forbidden" not in refused


def test_a_wrong_password_or_a_disabled_account_does_not_get_in(hub, page: Page):
    for name, password in (("sec-B001", "not-the-password"), ("gone", DEMO_PASSWORD), ("nobody", DEMO_PASSWORD)):
        hub_login(page, hub, name, password)
        expect(page.locator(".login_error")).to_have_text("账号或密码不对，或账号已停用", timeout=30_000)
        assert "/hub/login" in page.url
        assert page.locator(".f-who").count() == 0
    # the refusals and the hub's logins are in the store's audit trail (an unknown name is not kept as typed)
    with Store(hub["db"]) as store:
        entries = store.history()
    failed = entries[entries.action == "login_failed"]
    assert {"sec-B001", "gone"} <= set(failed.record_key) and "nobody" not in set(failed.record_key)


def test_the_hub_keeps_account_names_as_the_store_has_them():
    authenticator = OrglifeAuthenticator()
    assert authenticator.normalize_username(" sec-B001 ") == "sec-B001"  # the hub would lower-case it


def test_the_spawned_server_is_the_forms_server_under_the_users_prefix():
    arguments = singleuser_arguments({"JUPYTERHUB_SERVICE_URL": "http://127.0.0.1:45678/user/sec-B001/",
                                      "JUPYTERHUB_SERVICE_PREFIX": "/user/sec-B001/",
                                      "ORGLIFE_ALLOW_HOSTS": "party.example.cn"})
    assert arguments[0].endswith("forms.ipynb")
    assert "--port=45678" in arguments and "--Voila.ip=127.0.0.1" in arguments
    assert "--Voila.base_url=/user/sec-B001/" in arguments
    assert "--OrglifeVoila.identity_provider_class=orglife_nb.auth.hub.HubIdentityProvider" in arguments
    assert any("party.example.cn" in a for a in arguments if a.startswith("--ServeSettings.allowed_hosts"))
