"""JupyterHub: the store's accounts log in to the hub, and each account's forms run in its own single-user server.

- ``OrglifeAuthenticator`` checks the name and password against the store's accounts (argon2, disabled accounts
  refused, failed logins throttled and audited), exactly as the login page of ``orglife serve`` does.
- The single-user server (``python -m orglife_nb.auth.hub``, the Spawner's ``cmd``) is the forms server of
  ``orglife serve`` (preheated kernels, kernel owners and caps, Host allow-list, no code execution from the page)
  with its identity from the hub's OAuth instead of a login page: only the server's owner (``JUPYTERHUB_USER``)
  gets in, and the kernel receives that name signed by the server, as behind the login server. A JupyterLab or
  ``jupyterhub-singleuser`` server would let the user run code next to the store's credentials instead.

``deploy/jupyterhub_config.py`` shows the whole set-up.
"""
from __future__ import annotations

import asyncio
import os
import secrets
import sys
from pathlib import Path

from jupyterhub.auth import Authenticator
from jupyterhub.singleuser.extension import JupyterHubIdentityProvider
from tornado import web
from traitlets import Unicode, default

from .identity import IDENTITY_HEADER, KEY_ENV, sign_identity
from .throttle import LoginGate, Throttled


def _enabled(store, name: str) -> bool:
    from ..errors import OrglifeError
    from .accounts import get_account

    try:
        return not get_account(store, name).disabled
    except OrglifeError:
        return False


class OrglifeAuthenticator(Authenticator):
    """Hub logins checked against the store's accounts (``orglife user add``)."""

    db = Unicode("", config=True, help="the store (SQLAlchemy URL); default the ORGLIFE_DB environment variable")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._store = None
        self._logins = LoginGate()

    @property
    def store(self):
        if self._store is None:
            from ..store import Store

            from ..serving import ServeSettings

            self._store = Store(self.db or ServeSettings().db or None)
        return self._store

    def normalize_username(self, username: str) -> str:
        # account names are case-sensitive in the store (sec-B001); the hub's default lower-casing would lose them
        from .accounts import check_name
        from ..errors import OrglifeError

        try:
            return check_name(username)
        except OrglifeError:
            return username.strip()

    @default("any_allow_config")
    def _any_allow_config(self) -> bool:
        # who may log in is the store's list of enabled accounts (check_allowed), not the hub's allow settings:
        # without this the hub warns at every start that nobody can log in
        return True

    def check_allowed(self, username: str, authentication=None) -> bool:
        # every enabled account of the store may use the hub; nothing else may
        return _enabled(self.store, username)

    async def authenticate(self, handler, data: dict) -> dict | None:
        from .accounts import login

        address = handler.request.remote_ip if handler is not None else ""
        try:  # argon2 takes a noticeable time: off the hub's event loop
            account = await asyncio.to_thread(login, self.store, self._logins, data.get("username") or "",
                                              data.get("password") or "", address)
        except Throttled:
            self.log.warning("login throttled from %s", address)
            raise web.HTTPError(429, "登录失败次数过多，请稍后再试") from None
        if account is None:
            return None
        # never a hub admin: a hub admin may open other users' servers, and would act as them there
        return {"name": account.name, "admin": False}

    async def refresh_user(self, user, handler=None):
        # an account disabled since the login must log in again (and will be refused)
        return await asyncio.to_thread(_enabled, self.store, user.name)


class HubIdentityProvider(JupyterHubIdentityProvider):
    """The single-user forms server's visitor: the hub's OAuth user, who must be this server's owner."""

    def _store(self):
        if getattr(self, "_opened", None) is None:
            from ..store import Store

            from ..serving import ServeSettings

            self._opened = Store(ServeSettings(config=self.config).db or None)
        return self._opened

    async def get_user(self, handler):
        from jupyterhub import __version__

        handler.set_header("X-JupyterHub-Version", __version__)  # the hub checks it answers a compatible server
        # the identity header is the server's word only: whatever the visitor sent under that name is dropped
        if IDENTITY_HEADER in handler.request.headers:
            del handler.request.headers[IDENTITY_HEADER]
        user = await super().get_user(handler)
        if user is None:
            return None
        owner = os.environ.get("JUPYTERHUB_USER")
        if user.username != owner:
            raise web.HTTPError(403, "这是另一个账号的录入页面")
        if not await asyncio.to_thread(_enabled, self._store(), owner):  # disabled since the hub's last check
            raise web.HTTPError(403, "账号已停用")
        handler.request.headers[IDENTITY_HEADER] = sign_identity(owner)
        return user


def singleuser_arguments(environ=os.environ) -> list[str]:
    """The forms server's command line from what the hub puts in a spawned server's environment (its
    ``ORGLIFE_*`` settings: ``orglife_nb.serving.ENVIRONMENT``, kept by the hub's ``Spawner.env_keep``)."""
    from urllib.parse import urlparse

    from ..resources import notebook
    from ..serving import ServeSettings
    from ..voila import voila_arguments

    url = urlparse(environ["JUPYTERHUB_SERVICE_URL"])
    prefix = environ.get("JUPYTERHUB_SERVICE_PREFIX", "/")
    settings = ServeSettings(environ=environ)
    return voila_arguments(notebook("forms.ipynb"), url.port or 80, ip=url.hostname or "127.0.0.1",
                           pool_size=settings.pool_size, login=settings) + [
        f"--Voila.base_url={prefix}",
        "--OrglifeVoila.identity_provider_class=orglife_nb.auth.hub.HubIdentityProvider",
    ]


def main() -> None:
    """The Spawner's command: run the forms server for the hub user this process was spawned for."""
    from .server import _voila_class

    if "JUPYTERHUB_SERVICE_URL" not in os.environ:
        sys.exit("orglife_nb.auth.hub 由 JupyterHub 启动（见 deploy/jupyterhub_config.py），不能直接运行")
    os.environ[KEY_ENV] = secrets.token_hex(32)  # the kernels inherit it: it signs the identity handed to them
    os.chdir(Path(singleuser_arguments()[0]).parent)
    _voila_class().launch_instance(singleuser_arguments())


if __name__ == "__main__":
    main()
