"""The server's own whole pages (login, logout, busy, the phone vote page), rendered from Jinja2 templates in
``auth/pages/`` with autoescape on: every value a page shows is escaped unless the code marks it as markup
(``Markup``, only for the XSRF field tornado builds), so escaping is the default, not a habit."""
from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup


@lru_cache(maxsize=1)
def environment() -> Environment:
    # StrictUndefined: a misspelt name fails the page's test instead of showing an empty gap
    return Environment(loader=PackageLoader("orglife_nb.auth", "pages"), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=False)


def render(name: str, **context) -> str:
    """The page ``name`` (a file in ``auth/pages/``) with ``context``; absent ``message`` means no message box."""
    context.setdefault("message", "")
    return environment().get_template(name).render(**context)


def trusted(markup: str) -> Markup:
    """HTML built by tornado itself (``xsrf_form_html``), not text from anyone."""
    return Markup(markup)


__all__ = ["environment", "render", "trusted"]
