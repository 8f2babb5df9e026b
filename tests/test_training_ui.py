"""The training notebook in a real browser (system Chromium via pytest-playwright): Voila serves it, the trainee
ticks answers in the practice case, presses 检查答案 and sees the score; the deadline calculator downloads .ics."""
from __future__ import annotations

import datetime as dt

import pytest

from orglife_nb.training import make_case
from orglife_nb.training.practice import DEFAULT_SEED
from orglife_nb.voila import running

from test_training import ics_events

LOAD_TIMEOUT = 180_000  # ms: Voila executes the whole notebook before the page shows; slow on 2 shared cores


@pytest.fixture(scope="module")
def training_server(tmp_path_factory):
    log = tmp_path_factory.mktemp("voila") / "voila.log"
    with running("training.ipynb", preheat=False, log=log) as server:
        yield server


@pytest.fixture(scope="module")
def case():
    return make_case(DEFAULT_SEED)  # the notebook's default parameters


def _open(page, server):
    page.set_default_timeout(LOAD_TIMEOUT)
    page.goto(server.url, timeout=LOAD_TIMEOUT)
    page.locator(".practice-candidates input[type=checkbox]").first.wait_for()


def _tick(page, keys):
    for key in keys:
        page.locator(f".candidate-{key} input[type=checkbox]").check()


def test_trainee_ticks_answers_and_sees_the_score(page, training_server, case):
    _open(page, training_server)
    boxes = page.locator(".practice-candidates input[type=checkbox]")
    assert boxes.count() == len(case.candidates)
    for candidate in case.candidates:  # the page shows the same case as the package builds for this seed
        assert page.get_by_text(candidate.text, exact=True).count() == 1
    missed = case.real[0]
    _tick(page, [c.key for c in case.real[1:]])
    page.get_by_role("button", name="检查答案").click()
    result = page.locator(".practice-result")
    # the default case has 4 real problems (test_training.py pins it): 3 found of 4 is 75, written out here
    result.get_by_text("得分 75 分（满分 100）：真实问题 4 个，找到 3 个，漏掉 1 个，误判 0 个").wait_for()
    assert result.locator(f'.miss[data-rule="{missed.rule}"]').count() == 1
    assert missed.source in result.inner_text()
    _tick(page, [missed.key])
    page.get_by_role("button", name="检查答案").click()
    result.get_by_text("得分 100 分").wait_for()
    assert "全部判断正确" in result.inner_text()


def test_deadline_calculator_downloads_ics(page, training_server):
    _open(page, training_server)
    link = page.locator(".deadline-calculator a[download$='.ics']")
    assert page.locator(".deadline-calculator table tr").count() > 5
    with page.expect_download() as download:
        link.click()
    path = download.value.path()
    assert download.value.suggested_filename.endswith(".ics")
    name, events = ics_events(open(path, "rb").read())
    rows = page.locator(".deadline-calculator table tr").count() - 1  # less the header row
    # the notebook's defaults: a 组织生活会 today; one event per row of the table, each a whole day
    assert name.startswith("组织生活会 ") and name.endswith(" 时间表") and len(events) == rows
    assert [summary for _, _, summary in events][0] == "【组织生活会】会议方案报上级党组织审核"
    assert all(summary.startswith("【组织生活会】") and (end - start).days == 1 for start, end, summary in events)
    meeting_day = dt.date.fromisoformat(name.split()[1])
    # the meeting's own event: on its day, or the working day before it when that is a day off
    (held,) = [start for start, _, summary in events if summary == "【组织生活会】召开组织生活会"]
    assert dt.timedelta(0) <= meeting_day - held <= dt.timedelta(days=9)
