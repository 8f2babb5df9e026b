"""The fast tier's marking (tests/conftest.py): what names a subprocess, a report run or a browser is slow."""
from __future__ import annotations

import subprocess

import pytest
from conftest import _calls_slow


def _orglife(*argv):  # a helper as the CLI tests have them
    return subprocess.run(["orglife", *argv], capture_output=True)


def _through_a_helper():
    return _orglife("--help")


def _report_run(url):
    from orglife_nb.reports.runner import run_reports

    return run_reports(url)


def _in_process():
    from orglife_nb.cli import main

    return main(["rules"])


def _slow(function) -> bool:
    return _calls_slow(function.__code__, function.__globals__, set())


def test_a_subprocess_or_a_report_run_is_slow_even_through_a_helper():
    assert _slow(_orglife) and _slow(_through_a_helper) and _slow(_report_run)
    assert _slow(lambda: [_through_a_helper() for _ in range(2)])  # nested code is followed too


def test_in_process_work_stays_in_the_fast_tier():
    assert not _slow(_in_process)
    assert not _slow(test_in_process_work_stays_in_the_fast_tier)


def test_the_tier_markers_are_registered_and_a_plain_test_carries_none(request):
    registered = {line.partition(":")[0] for line in request.config.getini("markers")}
    assert {"slow", "browser"} <= registered  # pyproject.toml: an unknown -m name would select nothing silently
    assert not {mark.name for mark in request.node.iter_markers()} & {"slow", "browser"}
