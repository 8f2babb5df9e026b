"""User text is escaped in every output: a distinct hostile payload in *every* text and id field of every record
kind (enumerated from the models, not a hand-picked list), then every output is rendered for real — the branch
report (internal and public) and the summary through papermill, the index page, the four .docx documents of every
meeting, and every HTML widget of the forms after each meeting is chosen and each tab opened.

Each HTML output is parsed with an HTML parser: no element or attribute the payloads could create may exist, and
each field's payload must show as text somewhere (so the field was really rendered, and escaped, not dropped).
"""
from __future__ import annotations

import datetime as dt
import re
import zipfile

import pandas as pd
import pytest
from bs4 import BeautifulSoup
from lxml import etree

from orglife_nb import demo
from orglife_nb.models import BRANCH_LEADERSHIP, RECORDS, SUPERIOR, fields_of
from orglife_nb.store import Store

AS_OF = demo.BASELINE_AS_OF
# one letter per kind of id, so that an id's payload says whose id it is
ID_MARK = {"branches": "B", "members": "P", "meetings": "M", "rectifications": "R", "ballots": "T"}
# fields no output shows as text (the forms edit them in text inputs, whose value is never HTML; member ids are
# shown as names; the confidential texts stay in the store)
# (the 回应 sheet's question and answer are confidential: edited in the forms' text inputs, never printed; member
# ids are shown since revision 2's outputs, escaped like every other text)
NEVER_SHOWN = {"meetings.superior_comment", "meetings.summary", "opinions.content", "talks.summary",
               "materials.reviewer", "criticisms.content", "ballots.id", "responses.question", "responses.summary"}


def text_payload(field: str) -> str:
    return f'<img src=x onerror=alert("{field}")><script>/*{field}*/</script>'


def id_payload(entity: str) -> str:
    return f"<img src=x onerror={ID_MARK[entity]}>"


def _hostile_batch() -> tuple[dict, dict[str, str]]:
    """The compliant baseline with a payload appended to every text field of every row, and to every id (the same
    id gets the same payload in every table, so the data stays consistent). Returns (batch, field → payload)."""
    batch = demo.baseline_batch()
    planted: dict[str, str] = {}
    for record in RECORDS:
        frame = batch[record].copy()
        for spec in fields_of(record):
            if spec.kind == "text":
                payload = planted[f"{record.table}.{spec.name}"] = text_payload(f"{record.table}.{spec.name}")
                frame[spec.name] = [f"{value or ''}{payload}" for value in frame[spec.name]]
            elif spec.kind == "id":
                entity = spec.ref or record.table
                payload = planted[f"{entity}.id"] = id_payload(entity)
                frame[spec.name] = [v if v is None or v in (SUPERIOR, BRANCH_LEADERSHIP) else f"{v}{payload}"
                                    for v in frame[spec.name]]
        batch[record] = frame
    # a notice lists only the studies still to come: one study per meeting moves to the day after its notice, so
    # the notice shows a planted study text too
    studies, notices = batch[demo.Study], batch[demo.Meeting].set_index("meeting_id").notice_date
    first = ~studies.meeting_id.duplicated()
    studies.loc[first, "date"] = [pd.Timestamp(notices[m]).date() + dt.timedelta(days=1)
                                  for m in studies.meeting_id[first]]
    return batch, planted


def injected(html: str) -> list[str]:
    """Elements or attributes in ``html`` that a payload created: what would run in a browser."""
    soup = BeautifulSoup(html, "html.parser")
    found = []
    for tag in soup.find_all(True):
        handlers = [name for name in tag.attrs if name.lower().startswith("on")]
        if handlers or (tag.name == "img" and tag.get("src") == "x"):
            found.append(str(tag)[:120])
        if tag.name == "script" and "/*" in (tag.string or "") and "*/" in (tag.string or ""):
            found.append(str(tag)[:120])
    return found


def shown_text(html: str) -> str:
    """The text a reader sees (escaped markup decodes back to the payload's characters)."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(["script", "style"]):
        tag.decompose()
    return soup.get_text(" ")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    batch, planted = _hostile_batch()
    url = f"sqlite:///{root / 'store.db'}"
    with Store(url) as store:
        store.save(batch)
    return url, root, batch, planted


@pytest.fixture(scope="module")
def report_outputs(hostile):
    """Every HTML output of the real report runs: name → html."""
    from orglife_nb.reports.runner import run_reports

    url, root, _, _ = hostile
    outputs = {}
    for audience in ("internal", "public"):
        run = run_reports(url, as_of=AS_OF, out=root / audience, audience=audience, progress=False,
                          echo=lambda _: None)
        assert run.failed == 0, [o.error for o in run.outcomes]
        for path in sorted((root / audience).rglob("*.html")):
            outputs[f"{audience}/{path.relative_to(root / audience)}"] = path.read_text(encoding="utf-8")
    assert len(outputs) == 6  # branch report, summary and index, for each audience
    return outputs


@pytest.fixture(scope="module")
def document_outputs(hostile, tmp_path_factory):
    """The text of every .docx of every meeting: name → XML of its body (parsed, so markup there is a failure)."""
    from orglife_nb.documents import render_documents

    url, _, batch, _ = hostile
    out = tmp_path_factory.mktemp("docs")
    texts = {}
    for meeting_id in batch[demo.Meeting].meeting_id:
        for path in render_documents(url, meeting_id, out / str(len(texts)), AS_OF, ballot=True):
            with zipfile.ZipFile(path) as docx:
                for part in docx.namelist():
                    if re.fullmatch(r"word/(document|header\d*|footer\d*)\.xml", part):
                        tree = etree.fromstring(docx.read(part))  # raw markup would not even parse
                        assert not [e for e in tree.iter() if etree.QName(e).localname in ("img", "script")]
                        texts[f"{path.name}:{part}"] = "".join(tree.itertext())
    assert len(texts) >= 16
    return texts


@pytest.fixture(scope="module")
def form_outputs(hostile):
    """Every HTML widget value of the forms app, for every meeting and every tab: name → html."""
    import ipywidgets as w

    from orglife_nb.forms.app import TABS, FormsApp

    url, _, batch, _ = hostile
    app = FormsApp(url, as_of=AS_OF)
    outputs = {}

    def collect(widget, where):
        if isinstance(widget, w.HTML):
            outputs[f"{where}:{len(outputs)}"] = widget.value
        for child in getattr(widget, "children", ()):
            collect(child, where)

    for meeting_id in batch[demo.Meeting].meeting_id:
        app.meeting.value = meeting_id
        assert app.scope.meeting_id == meeting_id
        for index in range(len(TABS)):
            app.tabs.selected_index = index
        collect(app.widget, meeting_id)
    return outputs


def test_no_payload_becomes_markup_in_the_reports_or_the_index(report_outputs):
    for name, html in report_outputs.items():
        assert injected(html) == [], name


def test_every_field_shown_in_a_report_shows_as_text(report_outputs, hostile):
    _, _, batch, planted = hostile
    internal_branch = next(h for n, h in report_outputs.items() if n.startswith("internal/branches/"))
    public_branch = next(h for n, h in report_outputs.items() if n.startswith("public/branches/"))
    for name, html in report_outputs.items():
        assert planted["branches.name"] in shown_text(html), name
    for name in ("internal/summary.html", "internal/index.html", "public/summary.html", "public/index.html"):
        assert planted["branches.id"] in shown_text(report_outputs[name]), name
    # the branch report's header names the branch (the mutation the issue names: an unescaped header)
    header = BeautifulSoup(internal_branch, "html.parser").find(class_="report-header")
    assert planted["branches.name"] in header.get_text()
    assert planted["branches.name"] in BeautifulSoup(public_branch, "html.parser").find(
        class_="report-header").get_text()
    text = shown_text(internal_branch)
    for field in ("branches.superior", "meetings.topic", "meetings.place", "attendance.reason",
                  "rectifications.problem", "rectifications.goal", "rectifications.measures", "ratings.handling",
                  "meetings.id", "rectifications.id"):
        assert planted[field] in text, field
    # member names are bounded in the report's matrices and charts (a long one is cut and carries its id): the cut
    # name still shows as text, its start literally
    assert planted["members.name"][:10] in text


def test_no_payload_becomes_markup_in_the_documents(document_outputs, hostile):
    _, _, _, planted = hostile
    text = "\n".join(document_outputs.values())
    for field in ("branches.name", "branches.superior", "members.name", "meetings.id", "meetings.topic",
                  "meetings.place", "meetings.superior_attendee", "attendance.reason",
                  "rectifications.problem", "rectifications.goal", "rectifications.measures", "studies.content"):
        assert planted[field] in text, field


def test_no_payload_becomes_markup_in_the_forms(form_outputs, hostile):
    _, _, _, planted = hostile
    for name, html in form_outputs.items():
        assert injected(html) == [], name
    text = "\n".join(shown_text(html) for html in form_outputs.values())
    assert planted["members.name"] in text  # the guidance's coverage tables name the members


def test_every_planted_field_is_shown_somewhere(report_outputs, document_outputs, form_outputs, hostile):
    """A field no output shows would make the checks above vacuous for it: list such fields here, literally."""
    _, _, _, planted = hostile
    everything = "\n".join([*(shown_text(h) for h in report_outputs.values()), *document_outputs.values(),
                            *(shown_text(h) for h in form_outputs.values())])
    unseen = {field for field, payload in planted.items() if payload not in everything}
    assert unseen == NEVER_SHOWN
