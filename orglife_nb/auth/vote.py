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
from . import pages
from .throttle import Throttle, Throttled
from ..store.voting import VoteRefused, well_formed

# Votes take turns in one thread of their own: they would only queue for the store's write lock anyway, and
# SQLite's busy wait (sleeping in growing steps) made the slowest of 200 votes several times slower.
_VOTES = ThreadPoolExecutor(max_workers=1, thread_name_prefix="orglife-vote")
GUESSES = 60  # wrong codes per address within the window: a whole meeting room may share one address
PATH = "vote"

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

    def _render(self, template: str, *, subtitle: str = "请用测评票上的测评码投票", status: int = 200,
                **context) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(pages.render(template, subtitle=subtitle, nonce=self._nonce, action=self.request.path,
                                 xsrf=pages.trusted(self.xsrf_form_html()), **context))

    def _entry(self, message: str = "", *, status: int = 200) -> None:
        self._render("vote_entry.html", message=message, status=status)

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
        self._render("vote_done.html", subtitle="投票完成")
        # the store's log still holds the state before this vote: emptied now, after the receipt went out (two
        # fsyncs, tens of ms) and before the next vote is taken, since votes take turns in _VOTES
        loop.run_in_executor(_VOTES, _scrub, store)
        return False

    def _ballot(self, code: str, page, message: str = "") -> None:
        who = "群众代表" if page.voter_type == VoterType.public.value else "党员"
        self._render("vote_ballot.html", subtitle=f"{page.title}（{who}测评票）", message=message, code=code,
                     scheme=page.scheme.label, members=page.members, levels=SCHEME_LEVELS[page.scheme])

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
        self._render("vote_message.html", message="服务器暂时无法处理，请稍后再试。", status=status_code)


def _scrub(store) -> None:
    try:
        store.scrub_votes()
    except (sqlite3.Error, SQLAlchemyError):  # the next vote's scrub, or the close's, tries again
        app_log.warning("phone ballot: the store's log could not be emptied after a vote")


def is_vote_request(handler) -> bool:
    return isinstance(handler, VoteHandler)


__all__ = ["VoteHandler", "PATH", "is_vote_request", "well_formed"]
