"""The system Chromium (Debian package) driven by Playwright: Playwright's own browser download is not available.

Used for printing reports, checklists and vote slips to PDF, and by the browser tests.
"""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from typing import Iterator

from .errors import OrglifeError

# Without the background-networking switches Chromium keeps dialling out on a closed network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def chromium_path() -> str:
    path = os.environ.get("ORGLIFE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise OrglifeError("找不到 Chromium 浏览器：请安装 Debian 软件包 chromium（apt-get install chromium），"
                           "或用环境变量 ORGLIFE_CHROMIUM 指定路径")
    return path


def launch_args() -> dict:
    """Keyword arguments for ``playwright.chromium.launch`` (also the pytest-playwright launch fixture)."""
    return {"executable_path": chromium_path(), "args": CHROMIUM_ARGS, "headless": True}


@contextmanager
def chromium_page() -> Iterator[object]:
    """A page in the system Chromium, reused for every PDF of a batch."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**launch_args())
        try:
            yield browser.new_page()
        finally:
            browser.close()
