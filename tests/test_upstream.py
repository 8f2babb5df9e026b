"""The Jupyter internals orglife_nb copies or overrides are the ones it was written against.

Where no documented extension point does the job, orglife_nb copies an upstream function or overrides a private one,
and pins the package to the tested release (pyproject.toml). Each override below stores a hash of the upstream code
as it was when copied; a new release that changes that code fails here, naming the upstream function and ours, so
the copy is brought up to date before the pin is raised.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import inspect
import io
import textwrap
import tokenize
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def normalised(source: str) -> str:
    """The code's tokens without comments, blank lines or layout: reformatting upstream is not a change."""
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    tokens = tokenize.generate_tokens(io.StringIO(textwrap.dedent(source)).readline)
    return " ".join(token.string for token in tokens if token.type not in skip)


def upstream_hash(path: str) -> str:
    """sha256 of the normalised source of ``module:Qual.name``."""
    module, _, qualname = path.partition(":")
    target = importlib.import_module(module)
    for part in qualname.split("."):
        target = getattr(target, part)
    return hashlib.sha256(normalised(inspect.getsource(target)).encode()).hexdigest()


@dataclass(frozen=True)
class Override:
    ours: str  # where orglife_nb copies or relies on the upstream code
    how: str
    upstream: dict[str, str]  # upstream function → sha256 of its normalised source in the release copied from


# the releases the hashes below were taken from (the ones pinned in pyproject.toml)
COPIED_FROM = {"nbconvert": "7.17.2", "papermill": "2.7.0", "nbclient": "0.11.0", "jupyter_client": "8.10.0",
               "voila": "0.5.13"}


OVERRIDES = [
    Override("orglife_nb.reports.export.report_exporter_class → ReportExporter.from_notebook_node",
             "copies the stock method up to its closing BeautifulSoup pass, with its private _init_resources and "
             "_nb_metadata",
             {"nbconvert.exporters.html:HTMLExporter.from_notebook_node":
              "1f38fc4bd21cda65ec5352e0c9c8e346d8e9e85739c6dfdb26e2096b55499df7"}),
    Override("orglife_nb.reports.warm._register → WarmNBClientEngine.execute_managed_notebook",
             "copies the stock engine's argument handling to build its client on a kept kernel client",
             {"papermill.engines:NBClientEngine.execute_managed_notebook":
              "49c793276e73ae9f23bc94037f42662757807f69331c318b8838e652d4b77a94"}),
    Override("orglife_nb.reports.warm._register → WarmClient.__init__",
             "gives papermill's client a kernel client; nbclient then neither starts nor stops a kernel",
             {"papermill.clientwrap:PapermillNotebookClient.__init__":
              "e154608c48d4ff49b1764d8ed1b14744cea1841b62d2deecfea646f4fe271cf3",
              "nbclient.client:NotebookClient.async_setup_kernel":
              "e60c3b277f2f9c6045bc94e168b303eb33e5bbbfb6fc117ccc2edc6d6011781e"}),
    Override("orglife_nb.reports.engines.limited_kernel_manager → LimitedKernelManager._async_post_start_kernel",
             "overrides a private step that start_kernel calls right after the launch",
             {"jupyter_client.manager:KernelManager._async_post_start_kernel":
              "9bdad3ac27292ea0edb138699a3ae3fa5171cfe4854da42a7395e0c5f6c43e47",
              "jupyter_client.manager:KernelManager._async_start_kernel":
              "738d1a1930c2611a9f484cfa3835720583acea126fe91113574669aed4544543"}),
    Override("orglife_nb.auth.server._voila_class → OrglifeVoila.start/listen",
             "relies on Voila's start() routing every handler under the host pattern '.*$' and then calling "
             "listen(), which calls self.app.listen(port, ip)",
             {"voila.app:Voila.start":
              "e5c36635c97b623a338f3b909c4fb317f334adf57cb3653706551782000ad0d2",
              "voila.app:Voila.listen":
              "db577308a4be140414239bfe2cb1c253f6522638c4bedf820fda1fc7b92574e6"}),
    Override("orglife_nb.auth.server._voila_class → OrglifeVoila.init_handlers",
             "rewrites Voila's handler list: the login routes under the base URL, its page and kernel-shutdown "
             "handlers replaced by the capped and owner-checked ones",
             {"voila.app:Voila.init_handlers":
              "a5b31e7c6b08beb5806edba8322a8f20e60fc984163103dbb6e8c30d4e0dfd09"}),
    Override("orglife_nb.auth.server._voila_class → OrglifeVoila._url",
             "overrides Voila's private _url (the address printed at start)",
             {"voila.app:Voila._url":
              "4d364a4cb5ae64d33bd28a612932b840eed6459b13e23a03ed04427856c42a4e"}),
    Override("orglife_nb.auth.server._install_owner_hook",
             "replaces voila.handler's RequestInfoSocketHandler to see which kernel a page took",
             {"voila.handler:VoilaHandler.get_generator":
              "0f28de9144a205719d6c0fa0394f03667d7cb92eb6d5d6bde9a49fbcdfb244b5",
              "voila.request_info_handler:RequestInfoSocketHandler.send_updates":
              "b1112be12903eea308118700cf0d44932a734a56c2cd89d336dad6037e2aac17"}),
]


@pytest.mark.parametrize("override", OVERRIDES, ids=lambda o: o.ours.rpartition(" → ")[2] or o.ours)
def test_the_upstream_code_an_override_copies_is_unchanged(override):
    changed = {path: (stored, upstream_hash(path)) for path, stored in override.upstream.items()
               if upstream_hash(path) != stored}
    assert not changed, "\n".join(
        f"upstream {path} changed: the installed code ({_release(path)}) is not the code of {_copied_from(path)} "
        f"(sha256 {stored[:16]}… → {now[:16]}…). {override.ours} {override.how}: bring it up to date with the new "
        "code, then update the hash here and the upper bound in pyproject.toml."
        for path, (stored, now) in changed.items())


def _distribution(path: str) -> str:
    return importlib.metadata.packages_distributions()[path.partition(".")[0].partition(":")[0]][0]


def _release(path: str) -> str:
    return f"{_distribution(path)} {importlib.metadata.version(_distribution(path))}"


def _copied_from(path: str) -> str:
    top = path.partition(".")[0].partition(":")[0]
    return f"{top} {COPIED_FROM[top]}"


def test_normalising_ignores_layout_and_comments_but_not_code():
    one = "def f(a, b):\n    # why\n    return a + b\n"
    assert normalised(one) == normalised("def f(a,\n      b):\n\n    return a + b  # because\n")
    assert normalised(one) != normalised("def f(a, b):\n    return a - b\n")


def declared_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = [r for group in project["optional-dependencies"].values() for r in group]
    return [Requirement(r) for r in [*project["dependencies"], *extras]]


@pytest.mark.parametrize("requirement", declared_requirements(), ids=str)
def test_installed_versions_lie_within_the_pinned_ranges(requirement):
    installed = importlib.metadata.version(requirement.name)
    assert requirement.specifier.contains(installed, prereleases=True), (
        f"{requirement.name} {installed} 不在 pyproject.toml 声明的范围 {requirement.specifier} 内")


# ---- where Voila's structure is relied on at run time, the server refuses to start rather than serve unguarded ----

def _handler_for(app, host: str, path: str = "/page"):
    from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine

    request = HTTPServerRequest(start_line=RequestStartLine("GET", path, "HTTP/1.1"),
                                headers=HTTPHeaders({"Host": host}))
    return app.find_handler(request).handler_class


def test_the_forms_server_answers_only_its_host_names():
    from tornado.web import Application, RequestHandler

    from orglife_nb.auth.server import RefusedHost, answer_only

    class Page(RequestHandler):
        pass

    app = Application()
    app.add_handlers(".*$", [(r"/page", Page)])  # what Voila's start() does with every route
    answer_only(app, ["localhost", "forms.example"])
    assert _handler_for(app, "forms.example:8866") is _handler_for(app, "localhost") is Page
    assert _handler_for(app, "evil.example") is RefusedHost
    assert _handler_for(app, "forms.example.evil.example") is RefusedHost


def test_the_forms_server_refuses_to_start_when_voila_routes_hosts_otherwise():
    from tornado.web import Application, RequestHandler

    from orglife_nb.auth.server import answer_only

    app = Application()
    app.add_handlers(r"forms\.example$", [(r"/page", RequestHandler)])
    with pytest.raises(RuntimeError, match="host pattern"):
        answer_only(app, ["localhost"])


@pytest.fixture
def forms_app(tmp_path, monkeypatch):
    """The forms server's Voila application, initialised in this process (no kernel, no port)."""
    import nbformat
    import tornado.web

    from orglife_nb.auth.server import _voila_class

    monkeypatch.setenv("ORGLIFE_DB", f"sqlite:///{tmp_path / 'store.db'}")
    notebook = tmp_path / "empty.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), notebook)
    app = _voila_class()()
    app.initialize([str(notebook), "--no-browser"])
    app.app = tornado.web.Application(**app.init_settings())
    return app


def test_the_forms_server_caps_pages_and_checks_kernel_owners(forms_app, monkeypatch):
    classes = {spec[1].__name__ for spec in forms_app.init_handlers() if len(spec) > 1}
    assert {"CappedVoilaHandler", "OwnedShutdown"} <= classes
    assert not {"TornadoVoilaHandler", "VoilaShutdownKernelHandler"} & classes

    import voila.app
    from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler

    stock = voila.app.Voila.init_handlers
    monkeypatch.setattr(voila.app.Voila, "init_handlers", lambda self: [  # a release that renamed the shutdown route
        spec for spec in stock(self) if len(spec) < 2 or spec[1] is not VoilaShutdownKernelHandler])
    with pytest.raises(RuntimeError, match="kernel-shutdown route"):
        forms_app.init_handlers()
