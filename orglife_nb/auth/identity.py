"""The identity a forms kernel receives from the login server, signed so that only the server's word counts.

Light on purpose (no Jupyter server imports): the forms kernel imports it.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time

IDENTITY_HEADER = "X-Orglife-Identity"
IDENTITY_ENV = "HTTP_X_ORGLIFE_IDENTITY"  # how Voila names the header in the kernel's request info
KEY_ENV = "ORGLIFE_IDENTITY_KEY"  # per-server random key, in the server's and its kernels' environment only
QUERY_URL_ENV = "ORGLIFE_QUERY_URL"  # where a preheated kernel fetches its request info (plain, loopback only)




def _key() -> bytes:
    key = os.environ.get(KEY_ENV)
    if not key:
        raise RuntimeError(f"{KEY_ENV} is not set: the forms server sets it for itself and its kernels")
    return key.encode()


def sign_identity(name: str, *, now: float | None = None) -> str:
    stamp = int(now if now is not None else time.time())
    payload = base64.urlsafe_b64encode(json.dumps([name, stamp]).encode()).decode()
    mac = hmac.new(_key(), payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{mac}"


def verify_identity(value: str | None, *, max_age: float = 3600, now: float | None = None) -> str | None:
    """The account name in a signed identity, None when it is missing, forged or too old."""
    if not value or "." not in value:
        return None
    payload, mac = value.rsplit(".", 1)
    expected = hmac.new(_key(), payload.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac, expected):
        return None
    try:
        name, stamp = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except (ValueError, TypeError):
        return None
    if (now if now is not None else time.time()) - stamp > max_age:
        return None
    return name


def identity_from_environ(environ=os.environ) -> str | None:
    """In a kernel: the logged-in account the server vouched for (after ``voila.utils.wait_for_request``)."""
    return verify_identity(environ.get(IDENTITY_ENV))


def behind_login(environ=os.environ) -> bool:
    """True in a kernel of the login server (it gives its kernels the signing key)."""
    return bool(environ.get(KEY_ENV))


def request_identity() -> str | None:
    """In a forms kernel behind the login server: wait for the page request (a preheated kernel ran the notebook
    before anyone asked), then the account the server vouched for, or None."""
    from voila.utils import wait_for_request

    wait_for_request(os.environ.get(QUERY_URL_ENV))
    return identity_from_environ()
