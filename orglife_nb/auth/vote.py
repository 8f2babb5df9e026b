"""The phone page of the electronic 民主测评 (``/vote``), served by the forms server without a kernel.

A member scans the slip's QR code (``…/vote#CODE``) or opens ``…/vote`` and types the code. The code travels only in
the URL fragment, which browsers never send, and then in a POST body: no access log, proxy log or Referer can
carry it. The page is plain HTML with one small inline script (fills the code from the fragment, stops a second
tap on submit), no external resources, readable at 360 px and in the WeChat browser. A code-bearer has no account:
the code is the credential (``Store.ballot_page``/``cast_vote``), and the form carries tornado's XSRF token like
every other form of the server.
"""
from __future__ import annotations

import asyncio
import functools
import html
import secrets
import sqlite3
from concurrent.futures import ThreadPoolExecutor

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import JupyterHandler
from sqlalchemy.exc import SQLAlchemyError
from tornado import web
from tornado.log import app_log

from ..errors import OrglifeError
from ..models import SCHEME_LEVELS, VoterType
from .throttle import Throttle, Throttled
from ..store.voting import VoteRefused, well_formed

# Votes take turns in one thread of their own: they would only queue for the store's write lock anyway, and
# SQLite's busy wait (sleeping in growing steps) made the slowest of 200 votes several times slower.
_VOTES = ThreadPoolExecutor(max_workers=1, thread_name_prefix="orglife-vote")
GUESSES = 60  # wrong codes per address within the window: a whole meeting room may share one address
PATH = "vote"

_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>民主测评</title>
<style>
* {{ box-sizing: border-box; }}
body {{ margin: 0; background: #f4f4f4; color: #222; font: 17px/1.6 "PingFang SC", "Noto Sans CJK SC",
       "Microsoft YaHei", sans-serif; -webkit-text-size-adjust: 100%; }}
header {{ background: #b71c1c; color: #fff; padding: .7rem 1rem; }}
header h1 {{ font-size: 1.15rem; margin: 0; }}
header p {{ margin: .1rem 0 0; font-size: .9rem; opacity: .9; }}
main {{ max-width: 32rem; margin: 0 auto; padding: .8rem .75rem 2rem; }}
.note {{ font-size: .9rem; color: #555; margin: .3rem 0 .8rem; }}
.message {{ padding: .7rem .9rem; margin: .2rem 0 1rem; background: #fdecea; color: #8a1c1c; border-radius: 6px; }}
.done {{ background: #e8f4e8; color: #1e5e1e; }}
label.code {{ display: block; margin-bottom: .3rem; }}
input[type=text] {{ width: 100%; font-size: 1.3rem; padding: .55rem .6rem; letter-spacing: .08em;
                   border: 1px solid #aaa; border-radius: 6px; text-transform: uppercase; }}
button {{ display: block; width: 100%; margin-top: 1rem; padding: .8rem; font-size: 1.1rem; color: #fff;
         background: #b71c1c; border: 0; border-radius: 6px; }}
button[disabled] {{ background: #999; }}
fieldset {{ border: 0; background: #fff; margin: 0 0 .6rem; padding: .55rem .6rem .65rem; border-radius: 6px;
           box-shadow: 0 1px 2px rgba(0,0,0,.08); }}
legend {{ float: left; width: 100%; padding: 0; margin-bottom: .35rem; font-weight: bold; }}
/* flex with margins, not grid or gap: the WeChat browser on older Android phones is an old WebView */
.levels {{ clear: both; display: -webkit-box; display: -webkit-flex; display: flex; margin: 0 -.18rem; }}
.levels label {{ position: relative; display: block; -webkit-box-flex: 1; -webkit-flex: 1 1 0; flex: 1 1 0;
                margin: 0 .18rem; min-width: 0; }}
.levels input {{ position: absolute; opacity: 0; }}
.levels span {{ display: block; text-align: center; padding: .5rem 0; border: 1px solid #bbb; border-radius: 5px;
               font-size: .95rem; white-space: nowrap; background: #fafafa; }}
.levels input:checked + span {{ background: #b71c1c; border-color: #b71c1c; color: #fff; font-weight: bold; }}
.levels input:focus-visible + span {{ outline: 2px solid #1565c0; outline-offset: 1px; }}
</style></head>
<body><header><h1>民主测评</h1><p>{subtitle}</p></header>
<main>{body}</main>
<script nonce="{nonce}">
(function () {{
  var entry = document.getElementById("code-form");
  var hash = window.location.hash.replace(/^#/, "");
  if (entry && hash) {{
    // the code came in the fragment: drop it from the address bar and history, then ask for the ballot
    if (window.history && history.replaceState) {{ history.replaceState(null, "", window.location.pathname); }}
    entry.elements.code.value = decodeURIComponent(hash);
    entry.submit();
  }}
  var ballot = document.getElementById("ballot");
  if (ballot) {{
    // a second tap on the chosen level clears it (abstain), as on paper; ES5 only, for old WebViews
    var radios = ballot.querySelectorAll("input[type=radio]");
    for (var i = 0; i < radios.length; i++) {{
      radios[i].addEventListener("click", function () {{
        if (this.getAttribute("data-on") === "1") {{ this.checked = false; this.setAttribute("data-on", "0"); return; }}
        var group = ballot.querySelectorAll("input[name='" + this.name + "']");
        for (var j = 0; j < group.length; j++) {{ group[j].setAttribute("data-on", "0"); }}
        this.setAttribute("data-on", "1");
      }});
    }}
    ballot.addEventListener("submit", function (event) {{
      var button = ballot.querySelector("button");
      if (button.disabled) {{ event.preventDefault(); return; }}
      button.disabled = true;
      button.textContent = "正在提交……";
    }});
  }}
}})();
</script>
</body></html>"""


def _store(handler):
    store = getattr(handler.identity_provider, "store", None)
    if store is None:  # a server without the accounts' identity provider (JupyterHub's single-user server)
        from ..store import Store

        app = handler.settings.setdefault("orglife_vote_store", {})
        store = app.get("store") or app.setdefault("store", Store())
    return store


class VoteHandler(JupyterHandler):
    """GET: the code entry; POST: the ballot for a code, or the ballot itself (``submit``)."""

    @property
    def _nonce(self) -> str:
        # made on first use: tornado sets the default headers (the policy below) before initialize() runs
        if "_script_nonce" not in self.__dict__:
            self._script_nonce = secrets.token_urlsafe(16)
        return self._script_nonce

    @property
    def content_security_policy(self) -> str:
        # nothing from elsewhere, no framing, forms post only here, the one inline script by its nonce
        return ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
                f"frame-ancestors 'none'; base-uri 'none'; script-src 'nonce-{self._nonce}'")

    def set_default_headers(self) -> None:
        super().set_default_headers()
        self.set_header("Cache-Control", "no-store")
        self.set_header("Referrer-Policy", "same-origin")  # no-referrer would make Chromium send Origin: null
        self.set_header("X-Content-Type-Options", "nosniff")

    def _render(self, body: str, *, subtitle: str = "请用测评票上的测评码投票", status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(_PAGE.format(body=body, subtitle=html.escape(subtitle), nonce=self._nonce))

    def _entry(self, message: str = "", *, status: int = 200) -> None:
        note = f'<p class="message">{html.escape(message)}</p>' if message else ""
        self._render(
            f'{note}<form id="code-form" method="post" action="{html.escape(self.request.path)}" autocomplete="off">'
            f'{self.xsrf_form_html()}<label class="code" for="code">测评码（测评票上的 12 位字母和数字）</label>'
            '<input type="text" id="code" name="code" inputmode="text" autocapitalize="characters" '
            'spellcheck="false" maxlength="20" placeholder="例如 K7Q2-M9ZX-R4PD" required>'
            '<button type="submit">下一步</button></form>'
            '<p class="note">扫描测评票上的二维码会自动填入测评码。测评不记名：系统不记录您的身份、时间和设备。</p>',
            status=status)

    @allow_unauthenticated
    def get(self) -> None:
        self._entry()

    @allow_unauthenticated
    async def post(self) -> None:
        code = self.get_argument("code", "").strip()[:40]
        address = self.request.remote_ip or ""
        throttle: Throttle = self.settings.setdefault("orglife_vote_throttle", Throttle(limit=GUESSES))
        try:
            # admitted and counted before the lookup: codes sent at once cannot overtake the limit; while the
            # codes still being looked up could fill it, wait for them (a right code is never refused for them)
            while not throttle.take(address):
                await asyncio.sleep(0.05)
        except Throttled:
            self._entry("输入错误的测评码次数过多，请几分钟后再试。", status=429)
            return
        wrong = True  # a lookup that ended in an error counts as a wrong code: no unlimited tries through errors
        try:
            wrong = await self._answer(code)
        finally:
            throttle.settle(address, failed=wrong)

    async def _answer(self, code: str) -> bool:
        """The ballot for a code, the ballot stored, or why not; True when the code is no code at all."""
        store = _store(self)
        loop = asyncio.get_running_loop()
        try:
            if self.get_argument("submit", None) is None:
                page = await loop.run_in_executor(None, store.ballot_page, code)
                self._ballot(code, page)
                return False
            levels = {name[len("level-"):]: value for name, value in
                      ((n, self.get_body_argument(n, "")) for n in self.request.body_arguments)
                      if name.startswith("level-")}
            await loop.run_in_executor(_VOTES, functools.partial(store.cast_vote, code, levels, scrub=False))
        except VoteRefused as refused:
            if refused.reason == "empty":
                page = await loop.run_in_executor(None, store.ballot_page, code)
                self._ballot(code, page, message=str(refused))
                return False
            self._entry(str(refused))
            return refused.reason == "unknown"
        except OrglifeError as error:  # the store busy or unreachable: nothing was spent, the member may retry
            self._entry(f"{error}。您的测评码仍然有效，请稍后重新提交。", status=503)
            return False
        self._render('<p class="message done">您的测评票已经收到，谢谢！<br>测评不记名，提交后不能修改。'
                     '现在可以关闭本页。</p>', subtitle="投票完成")
        # the store's log still holds the state before this vote: emptied now, after the receipt went out (two
        # fsyncs, tens of ms) and before the next vote is taken, since votes take turns in _VOTES
        loop.run_in_executor(_VOTES, _scrub, store)
        return False

    def _ballot(self, code: str, page, message: str = "") -> None:
        levels = SCHEME_LEVELS[page.scheme]
        rows = []
        for member_id, name in page.members:
            choices = "".join(
                f'<label><input type="radio" name="level-{html.escape(member_id)}" value="{level.value}">'
                f'<span>{html.escape(level.label)}</span></label>' for level in levels)
            rows.append(f'<fieldset><legend>{html.escape(name)}</legend><div class="levels">{choices}</div></fieldset>')
        who = "群众代表" if page.voter_type == VoterType.public.value else "党员"
        note = f'<p class="message">{html.escape(message)}</p>' if message else ""
        self._render(
            f'{note}<p class="note">测评方案：{html.escape(page.scheme.label)}。请为每位同志选择一个等次，'
            f'不选视为弃权（再点一次已选的等次可取消）。提交后不能修改。</p>'
            f'<form id="ballot" method="post" action="{html.escape(self.request.path)}" autocomplete="off">'
            f'{self.xsrf_form_html()}<input type="hidden" name="code" value="{html.escape(code)}">'
            f'<input type="hidden" name="submit" value="1">{"".join(rows)}'
            f'<button type="submit">提交测评票</button></form>',
            subtitle=f"{page.title}（{who}测评票）")

    def log_exception(self, typ, value, tb) -> None:
        # tornado's line names the address; a refused phone request is logged without it (and never with a body)
        if isinstance(value, web.HTTPError) and value.status_code < 500:
            self.log.warning("phone ballot page: request refused (%d)", value.status_code)
            return
        super().log_exception(typ, value, tb)

    def write_error(self, status_code: int, **kwargs) -> None:
        if status_code == 403:  # the XSRF token: a page kept open too long, or cookies refused
            self._entry("页面已过期，请重新扫描二维码或重新输入测评码。", status=403)
            return
        self._render('<p class="message">服务器暂时无法处理，请稍后再试。</p>', status=status_code)


def _scrub(store) -> None:
    try:
        store.scrub_votes()
    except (sqlite3.Error, SQLAlchemyError):  # the next vote's scrub, or the close's, tries again
        app_log.warning("phone ballot: the store's log could not be emptied after a vote")


def is_vote_request(handler) -> bool:
    return isinstance(handler, VoteHandler)


__all__ = ["VoteHandler", "PATH", "is_vote_request", "well_formed"]
