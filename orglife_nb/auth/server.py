"""The forms server behind a login: Voila standalone with an identity provider backed by the store's accounts.

Run as ``python -m orglife_nb.auth.server NOTEBOOK [Voila options]`` (``orglife serve`` does). What it adds to Voila:

- a Chinese login page (``/login``) and ``/logout``; every page and kernel API needs the signed login cookie, so an
  anonymous request gets the login page and never a kernel; failed logins are throttled per account and address;
- the identity reaches the visitor's (preheated) kernel from the server only: after the cookie is checked, the
  server *sets* the ``X-Orglife-Identity`` request header (dropping any the visitor sent) to the account name
  signed with a per-server key; Voila hands that header to the kernel (``http_header_envs``; preheated kernels get
  it through ``voila.utils.wait_for_request`` from a loopback-only port) and the kernel checks the signature
  (``identity_from_environ``);
- a kernel belongs to the account whose page took it: nobody else may open its websocket or API;
- caps on kernels per account and in total (held from a page's request on, so parallel requests cannot overrun
  them), idle logins expire, a logout or password change ends every session of the account, a Host allow-list
  (DNS rebinding), XSRF cookies, secure cookies and HTTPS with HSTS (``certfile``/``keyfile``).
"""
from __future__ import annotations

import json
import os
import re
import time
from contextvars import ContextVar
from urllib.parse import urlparse

from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.auth.identity import IdentityProvider, User
from jupyter_server.base.handlers import JupyterHandler
from tornado import web
from traitlets import default

from ..serving import ServeSettings
from . import pages
from .identity import (IDENTITY_ENV, IDENTITY_HEADER, KEY_ENV, QUERY_URL_ENV,  # noqa: F401 (re-exported)
                       identity_from_environ, sign_identity, verify_identity)
from .throttle import (ADDRESS_FAILURES, LOGIN_FAILURES, LOGIN_WINDOW, LoginGate, Throttle,  # noqa: F401
                       Throttled)

COOKIE = "orglife-login"


# ---------------------------------------------------------------------------------------------------------------
# Kernels and their owners


class _Slot:
    """A page request's place under the kernel caps, held from its admission until its kernel is claimed (then
    the kernel counts instead) or the request ends."""

    def __init__(self, name: str) -> None:
        self.name, self.held = name, True


# the page request being served in this asyncio task (tornado runs each request in a task of its own)
_SLOT: ContextVar[_Slot | None] = ContextVar("orglife_page_slot", default=None)


class KernelOwners:
    """Which account's page took which kernel (one registry per server process), and the page requests admitted
    that have no kernel yet."""

    owners: dict[str, str] = {}
    waiting: dict[str, int] = {}

    @classmethod
    def claim(cls, kernel_id: str, payload) -> None:
        """``payload``: the request info (preheated kernel) or environment (kernel started for the page) that the
        kernel was given, holding the signed identity."""
        name = verify_identity(payload.get(IDENTITY_ENV))
        if name:
            cls.owners[kernel_id] = name
            slot = _SLOT.get()
            if slot is not None and slot.name == name:
                cls.release(slot)

    @classmethod
    def admit(cls, name: str, kernel_manager, per_account: int, total: int) -> _Slot:
        """Hold a place for one more page of ``name``, or refuse (HTTPError 429: the account's cap, 503: the
        server's). Counting and holding are one step without an ``await``: pages asked for at the same time
        cannot all pass the check before any of their kernels exists."""
        owners = cls.live(kernel_manager)
        if sum(1 for owner in owners.values() if owner == name) + cls.waiting.get(name, 0) >= per_account:
            raise web.HTTPError(429, reason="Too many pages")
        if len(owners) + sum(cls.waiting.values()) >= total:
            raise web.HTTPError(503, reason="Server busy")
        cls.waiting[name] = cls.waiting.get(name, 0) + 1
        return _Slot(name)

    @classmethod
    def release(cls, slot: _Slot) -> None:
        if slot.held:
            slot.held = False
            cls.waiting[slot.name] -= 1
            if not cls.waiting[slot.name]:
                del cls.waiting[slot.name]

    @classmethod
    def live(cls, kernel_manager) -> dict[str, str]:
        alive = set(kernel_manager.list_kernel_ids())
        for kernel_id in [k for k in cls.owners if k not in alive]:
            del cls.owners[kernel_id]
        return cls.owners

    @classmethod
    def of(cls, name: str, kernel_manager) -> list[str]:
        return [k for k, owner in cls.live(kernel_manager).items() if owner == name]


def _install_owner_hook() -> None:
    """Voila hands a preheated kernel its request info through ``RequestInfoSocketHandler.send_updates``: record
    the kernel's owner there (the payload holds the signed identity the server set).

    Voila has no hook for this: its handler's module-level name is replaced (tests/test_upstream.py watches the
    upstream code this relies on)."""
    import voila.handler
    from voila.request_info_handler import RequestInfoSocketHandler

    if not issubclass(getattr(voila.handler, "RequestInfoSocketHandler", type), RequestInfoSocketHandler):
        # without the hook no kernel has an owner and every page would be refused its kernel: say why at start
        raise RuntimeError("voila.handler no longer uses RequestInfoSocketHandler: orglife_nb.auth.server needs "
                           "updating for this Voila version")

    class OwnedRequestInfo(RequestInfoSocketHandler):
        @classmethod
        def send_updates(cls, msg: dict) -> None:
            KernelOwners.claim(msg["kernel_id"], msg.get("payload") or {})
            super().send_updates(msg)

    voila.handler.RequestInfoSocketHandler = OwnedRequestInfo


def _owned_kernels(base: type) -> type:
    """The kernel manager class: a kernel started for a page (no preheated one was free) is claimed for the
    account whose signed identity is in its environment, as a preheated one is when a page takes it."""

    class OwnedKernelManager(base):
        async def start_kernel(self, *args, **kwargs):
            kernel_id = await super().start_kernel(*args, **kwargs)
            KernelOwners.claim(kernel_id, kwargs.get("env") or {})
            return kernel_id

    return OwnedKernelManager


class OwnerAuthorizer(Authorizer):
    """A logged-in account may use only the kernels its own pages took."""

    def is_authorized(self, handler, user: User, action: str, resource: str) -> bool:
        if resource != "kernels":
            return True
        kernel_id = (getattr(handler, "path_kwargs", None) or {}).get("kernel_id")
        if kernel_id is None:  # listing or starting kernels is not something a forms page does
            return False
        return KernelOwners.live(handler.kernel_manager).get(kernel_id) == user.username


# ---------------------------------------------------------------------------------------------------------------
# Login


LOGINS = LoginGate()

def _safe_next(value: str | None, default: str) -> str:
    """Only a path on this server (no scheme, no host, no ``//``): a login link cannot send anyone elsewhere."""
    if not value:
        return default
    parsed = urlparse(value)
    if parsed.scheme or parsed.netloc or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value


class LoginHandler(JupyterHandler):
    """GET shows the form, POST checks the password (argon2) against the store's accounts."""

    def _page(self, message: str = "", kind: str = "", status: int = 200) -> None:
        next_url = _safe_next(self.get_argument("next", None), self.base_url)
        self.set_status(status)
        self.set_header("Cache-Control", "no-store")
        self.finish(pages.render("login.html", title="登录", message=message, kind=kind, base_url=self.base_url,
                                 next_url=next_url, xsrf=pages.trusted(self.xsrf_form_html())))

    @allow_unauthenticated
    def get(self) -> None:
        if self.current_user:
            self.redirect(_safe_next(self.get_argument("next", None), self.base_url))
            return
        self._page()

    @allow_unauthenticated
    def post(self) -> None:
        from .accounts import login, session_generation

        store = self.identity_provider.store
        try:
            account = login(store, LOGINS, self.get_argument("username", ""), self.get_argument("password", ""),
                            self.request.remote_ip)
        except Throttled as throttled:
            self._page(f"登录失败次数过多，请 {int(throttled.wait // 60) + 1} 分钟后再试", status=429)
            return
        if account is None:
            self.log.warning("failed login for an account name from %s", self.request.remote_ip)
            self._page("账号或密码不对，或账号已停用", status=403)
            return
        self.identity_provider.login(self, account.name, session_generation(store, account.name))
        self.log.info("login: %s", account.name)
        self.redirect(_safe_next(self.get_argument("next", None), self.base_url))


class LogoutHandler(JupyterHandler):
    """Ends every session of the account (any cookie saved before no longer counts) and shuts down its kernels
    (its pages stop; memory is freed at once)."""

    @allow_unauthenticated
    async def get(self) -> None:
        from .accounts import end_sessions

        user = self.current_user
        self.identity_provider.clear_login_cookie(self)
        if user:
            end_sessions(self.identity_provider.store, user.username, self.request.remote_ip)
            for kernel_id in KernelOwners.of(user.username, self.kernel_manager):
                await self.kernel_manager.shutdown_kernel(kernel_id)
        self.set_header("Cache-Control", "no-store")
        self.finish(pages.render("logout.html", title="已退出", message="已退出登录。", kind="info",
                                 base_url=self.base_url))


class OrglifeIdentityProvider(IdentityProvider):
    """Who is asking: the account in the signed login cookie, if it is still enabled, not idle too long, and the
    session has not been ended since (logout, password change: ``session_generation``)."""

    @property
    def serving(self) -> ServeSettings:
        if getattr(self, "_serving", None) is None:
            self._serving = ServeSettings(parent=self)
        return self._serving

    @property
    def auth_enabled(self) -> bool:
        return True

    @property
    def login_available(self) -> bool:
        return True

    @property
    def logout_available(self) -> bool:
        return True

    @default("login_handler_class")
    def _login_handler_default(self):
        return LoginHandler

    @default("logout_handler_class")
    def _logout_handler_default(self):
        return LogoutHandler

    @property
    def store(self):
        if getattr(self, "_store", None) is None:
            from ..store import Store

            self._store = Store(self.serving.db or None)
        return self._store

    def get_handlers(self) -> list:
        return [(r"/login", LoginHandler), (r"/logout", LogoutHandler)]

    def _cookie_options(self, handler) -> dict:
        return {"httponly": True, "samesite": "Lax", "path": handler.base_url,
                "secure": handler.request.protocol == "https"}

    def login(self, handler, name: str, generation: int | None) -> None:
        handler.set_secure_cookie(COOKIE, json.dumps([name, int(time.time()), generation]), expires_days=None,
                                  **self._cookie_options(handler))

    def clear_login_cookie(self, handler) -> None:
        handler.clear_cookie(COOKIE, path=handler.base_url)

    async def get_user(self, handler) -> User | None:
        # the identity header is the server's word only: whatever the visitor sent under that name is dropped
        if IDENTITY_HEADER in handler.request.headers:
            del handler.request.headers[IDENTITY_HEADER]
        raw = handler.get_secure_cookie(COOKIE, max_age_days=1)
        if not raw:
            return None
        try:
            name, stamp, generation = json.loads(raw)
        except (ValueError, TypeError):
            return None
        now = time.time()
        if now - stamp > self.serving.idle_minutes * 60:
            return None
        from .accounts import session_generation

        # unknown or disabled accounts have none; a logout or a password change has raised it since
        if generation is None or session_generation(self.store, name) != generation:
            return None
        websocket = handler.request.headers.get("Upgrade", "").lower() == "websocket"
        if not websocket and now - stamp > 60:  # sliding expiry: activity keeps the login
            self.login(handler, name, generation)
        handler.request.headers[IDENTITY_HEADER] = sign_identity(name)
        return User(username=name, name=name, display_name=name)


# ---------------------------------------------------------------------------------------------------------------
# The Voila application


class RefusedHost(web.RequestHandler):
    message = "拒绝访问：不认识的主机名（Host）。请用服务器管理员给出的网址访问。\n"

    def prepare(self) -> None:
        self.set_status(403)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(self.message)


class RefusedQuery(RefusedHost):
    """Voila's ``/voila/query/<kernel-id>`` hands whoever connects first a kernel's request info (the signed
    identity among it): on the public port nobody gets it; the kernels ask the loopback-only port."""

    message = "拒绝访问：此地址只供服务器自己的内核使用。\n"


def answer_only(app, hosts) -> None:
    """Route ``app``'s requests only for these host names: Voila's ``start()`` put every route under the host
    pattern ``.*$``; a request naming any other host (DNS rebinding) then matches no rule but the refusal."""
    from tornado.routing import HostMatches, Rule

    pattern = "^(" + "|".join(re.escape(h.strip("[]")) for h in dict.fromkeys(hosts)) + ")$"
    rules = app.default_router.rules
    anyhost = [i for i, rule in enumerate(rules)
               if isinstance(rule.matcher, HostMatches) and rule.matcher.host_pattern.pattern == ".*$"]
    if len(anyhost) != 1:  # serving every host name would be silent: refuse to start instead
        raise RuntimeError("Voila's start() no longer routes under the host pattern '.*$': "
                           "orglife_nb.auth.server needs updating for this Voila version")
    rules[anyhost[0]] = Rule(HostMatches(pattern), rules[anyhost[0]].target)
    app.wildcard_router.add_rules([(r".*", RefusedHost)])


def _voila_class():
    from voila.app import Voila
    from voila.tornado.handler import TornadoVoilaHandler

    class CappedVoilaHandler(TornadoVoilaHandler):
        """The page that takes a kernel: refused when the account or the server has too many already."""

        @web.authenticated
        async def get(self, path=None):
            app = self.settings["orglife_app"]
            slot = KernelOwners.admit(self.current_user.username, self.kernel_manager,
                                      app.serving.max_kernels_per_user, app.serving.max_kernels)
            token = _SLOT.set(slot)
            try:
                return await super().get(path)
            finally:  # the page got no kernel (an error, a redirect, the visitor gone): its place is free again
                _SLOT.reset(token)
                KernelOwners.release(slot)

        def write_error(self, status_code: int, **kwargs) -> None:
            messages = {429: f"您已打开 {self.settings['orglife_app'].serving.max_kernels_per_user} 个录入页面，"
                             "请先关闭不用的页面（关闭后几分钟内释放），再刷新本页。",
                        503: "服务器正忙：同时打开的录入页面已达上限，请稍后再试。"}
            if status_code not in messages:
                return super().write_error(status_code, **kwargs)
            self.finish(pages.render("busy.html", title="请稍后", message=messages[status_code], kind=""))

    from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler

    class OwnedShutdown(VoilaShutdownKernelHandler):
        """A page shuts its kernel down when it closes; only the kernel's own account may do that."""

        @web.authenticated
        async def post(self, kernel_id):
            if KernelOwners.live(self.kernel_manager).get(kernel_id) != self.current_user.username:
                raise web.HTTPError(403)
            return await super().post(kernel_id)

    class OrglifeVoila(Voila):
        name = "orglife-forms"
        classes = [*Voila.classes, ServeSettings]  # --ServeSettings.* options and config sections are its own

        @property
        def serving(self) -> ServeSettings:
            """The settings ``orglife serve`` and the hub give (orglife_nb.serving), read once."""
            if getattr(self, "_serving", None) is None:
                self._serving = ServeSettings(parent=self)
            return self._serving

        @default("identity_provider_class")
        def _identity_provider_default(self):
            return OrglifeIdentityProvider

        def initialize(self, argv=None) -> None:
            super().initialize(argv)
            # Voila copies these request headers into the kernel's request info (the only way in for preheated
            # kernels); get_user sets this one, so only the server's word arrives
            self.voila_configuration.http_header_envs = [IDENTITY_HEADER]
            self.voila_configuration.multi_kernel_manager_class = _owned_kernels(
                self.voila_configuration.multi_kernel_manager_class)
            if self.voila_configuration.preheat_kernel:
                # a preheated kernel fetches its request info (the identity) over a websocket that carries no
                # login cookie; that route is served in plain text on loopback only, never on the public port
                # (where anyone knowing a kernel id could take the identity, and over TLS a kernel would have to
                # trust the certificate)
                from jupyter_server.utils import url_path_join

                self._query_port = _free_loopback_port()
                os.environ[QUERY_URL_ENV] = f"ws://127.0.0.1:{self._query_port}" + url_path_join(
                    self.server_url or self.base_url or "/", "voila/query")

        def init_settings(self) -> dict:
            settings = super().init_settings()
            settings["xsrf_cookies"] = True
            if self.serving.https:  # the XSRF cookie never over plain HTTP, and browsers are told to use HTTPS only
                settings["xsrf_cookie_kwargs"] = {**settings.get("xsrf_cookie_kwargs", {}), "secure": True}
                settings["headers"] = {**settings.get("headers", {}),
                                       "Strict-Transport-Security": "max-age=31536000"}
            settings["orglife_app"] = self
            from jupyter_server.log import log_request

            from .vote import is_vote_request

            log_function = settings.get("log_function") or log_request
            # the phone ballot page leaves no line (address, time) in the log unless the server failed
            settings["log_function"] = lambda handler: (
                None if is_vote_request(handler) and handler.get_status() < 500 else log_function(handler))
            settings["authorizer"] = self.authorizer = OwnerAuthorizer(
                parent=self, log=self.log, identity_provider=self.identity_provider)
            return settings

        def init_handlers(self) -> list:
            from jupyter_server.utils import url_path_join

            from voila.request_info_handler import RequestInfoSocketHandler

            from .vote import PATH, VoteHandler

            # the phone page of the electronic 民主测评: no login, no kernel (the one-time code is the credential)
            handlers = [(url_path_join(self.server_url or self.base_url or "/", PATH), VoteHandler)]
            # Voila adds the identity provider's routes without the base URL; the server may live under a prefix
            # (JupyterHub serves it under /user/NAME/)
            own = {spec[0] for spec in self.identity_provider.get_handlers()}
            served = set()
            for spec in super().init_handlers():
                if spec[0] in own and not spec[0].startswith(self.server_url.rstrip("/") + "/"):
                    spec = (url_path_join(self.server_url, spec[0]), *spec[1:])
                if len(spec) > 1 and spec[1] is TornadoVoilaHandler:
                    spec = (spec[0], CappedVoilaHandler, *spec[2:])
                elif len(spec) > 1 and spec[1] is VoilaShutdownKernelHandler:
                    spec = (spec[0], OwnedShutdown, *spec[2:])
                elif len(spec) > 1 and spec[1] is RequestInfoSocketHandler:
                    spec = (spec[0], RefusedQuery, *spec[2:])
                served.add(spec[1] if len(spec) > 1 else None)
                handlers.append(spec)
            if not {CappedVoilaHandler, OwnedShutdown} <= served:
                # serving without the kernel caps and owner checks would be silent: refuse to start instead
                raise RuntimeError("Voila's page or kernel-shutdown route has changed: orglife_nb.auth.server "
                                   "needs updating for this Voila version")
            return handlers

        def start(self) -> None:
            _install_owner_hook()
            super().start()  # builds self.app from init_settings/init_handlers, then calls self.listen()

        def listen(self) -> None:
            """Before Voila listens: its routes answer only the allowed host names, and TLS when configured."""
            import tornado.web

            hosts = ["localhost", "127.0.0.1", "::1", *self.serving.allowed_hosts]
            if self.ip not in ("", "0.0.0.0", "::"):
                hosts.append(self.ip)
            answer_only(self.app, hosts)
            if self.voila_configuration.preheat_kernel:
                from voila.request_info_handler import RequestInfoSocketHandler

                tornado.web.Application([(r".*/voila/query/(.*)", RequestInfoSocketHandler)]).listen(
                    self._query_port, "127.0.0.1")
            if self.serving.https:
                import ssl

                context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                context.load_cert_chain(self.serving.certfile, self.serving.keyfile or None)
                listen = self.app.listen
                self.app.listen = lambda port, address="", **kw: listen(port, address, ssl_options=context, **kw)
            super().listen()

        def _url(self, ip):  # the address printed at start: https when serving TLS
            url = super()._url(ip)
            return url.replace("http://", "https://", 1) if self.serving.https else url

    return OrglifeVoila


def _free_loopback_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    _voila_class().launch_instance()


if __name__ == "__main__":
    main()
