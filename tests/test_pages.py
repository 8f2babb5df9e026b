"""The server's whole pages (login, logout, busy, phone vote) are Jinja2 templates with autoescape: text reaches
a page escaped unless the code marks it as tornado's own markup."""
from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from orglife_nb.auth import pages
from orglife_nb.models import SCHEME_LEVELS, RatingScheme

HOSTILE = '<script>alert("x")</script>&<b>'
TEMPLATES = sorted(p.name for p in (Path(pages.__file__).parent / "pages").glob("*.html"))


def test_every_page_escapes_by_default():
    assert pages.environment().autoescape is True
    for name in TEMPLATES:
        source = (Path(pages.__file__).parent / "pages" / name).read_text(encoding="utf-8")
        assert "|safe" not in source.replace(" ", ""), f"{name} marks text as safe"
        assert "autoescape false" not in source, name


@pytest.mark.parametrize("name", [n for n in TEMPLATES if not n.endswith("_base.html")])
def test_hostile_text_is_shown_as_text(name):
    scheme = next(iter(SCHEME_LEVELS))
    markup = pages.render(name, title=HOSTILE, message=HOSTILE, kind="", base_url="/", next_url=HOSTILE,
                          xsrf=pages.trusted('<input type="hidden" name="_xsrf" value="t">'), subtitle=HOSTILE,
                          nonce="n", action="/vote", code=HOSTILE, scheme=HOSTILE,
                          members=[(HOSTILE, HOSTILE)], levels=SCHEME_LEVELS[scheme])
    soup = BeautifulSoup(markup, "html.parser")
    assert [s.get("nonce") for s in soup.find_all("script")] in ([], ["n"])  # no script but the page's own
    assert soup.find("b") is None
    if soup.find("form") is not None:  # tornado's field stays markup
        assert soup.find("form").find("input", attrs={"name": "_xsrf"}) is not None
    if "message" in markup:
        assert HOSTILE in soup.get_text()


def test_login_form_keeps_the_whole_next_address():
    # the return address travels as one query value: its own '&' and '?' stay inside it
    markup = pages.render("login.html", title="登录", kind="", base_url="/", next_url="/voila/render/a.ipynb?x=1&y=2",
                          xsrf=pages.trusted(""))
    action = BeautifulSoup(markup, "html.parser").find("form")["action"]
    from urllib.parse import parse_qs, urlparse

    assert parse_qs(urlparse(action).query) == {"next": ["/voila/render/a.ipynb?x=1&y=2"]}


def test_scheme_levels_render_in_order():
    scheme = next(iter(SCHEME_LEVELS))
    markup = pages.render("vote_ballot.html", subtitle="s", nonce="n", action="/vote", xsrf=pages.trusted(""),
                          code="C", scheme=scheme.label, members=[("M1", "张三")], levels=SCHEME_LEVELS[scheme])
    radios = BeautifulSoup(markup, "html.parser").find_all("input", attrs={"type": "radio"})
    assert [r["value"] for r in radios] == [level.value for level in SCHEME_LEVELS[scheme]]
    assert {r["name"] for r in radios} == {"level-M1"}
