"""Benchmark: what the login adds to the forms, in Chromium, on the bundled demo store (14 branches).

Both servers preheat a pool of kernels (``orglife serve``'s mode) on the same notebook (``notebooks/forms.ipynb``):
- without login (plain Voila): navigation → the meeting form's save button enabled;
- behind the login server: the login form submitted → the same button enabled (the password check, the redirect,
  the identity handed to the preheated kernel and the forms built for the account's scope);
- the difference, median of the rounds (goal: ≤ 0.2 s added). Both servers run at once and their rounds alternate,
  so that both see the same load on a shared machine; each round waits for both pools to refill first;
- where the time goes, from the page's Navigation Timing (medians): the login POST with its redirect, the page
  request to its first byte, the page's HTML (Voila streams it while the kernel runs the notebook's cells for the
  visitor), and the page's scripts and widgets after the HTML until the form is usable.

    python benchmarks/login_bench.py [--rounds N]
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import psutil
from playwright.sync_api import sync_playwright

from orglife_nb.browser import launch_args
from orglife_nb.demo import DEMO_PASSWORD, demo_accounts, save_demo
from orglife_nb.store import Store
from orglife_nb.serving import ServeSettings
from orglife_nb.voila import running

READY = ".f-meetings--save:not([disabled])"
PHASES = ("login POST + redirect", "page request → first byte", "page HTML (notebook cells)",
          "scripts + widgets → usable")
# Navigation Timing of the page, from the navigation's start (the click that submitted the login form, or goto)
_TIMING = """() => { const n = performance.getEntriesByType('navigation')[0];
    const login = n.redirectEnd || n.fetchStart;
    return [login, n.responseStart - login, n.responseEnd - n.responseStart, performance.now() - n.responseEnd]
        .map(ms => ms / 1000); }"""


def pool_ready(server, size: int, timeout: float = 180, settled: int = 3) -> None:
    """Wait until the server holds ``size`` kernels (the pool's and the pages' ones), all idle in ``settled``
    checks in a row (on a shared machine one quiet moment is not yet a refilled pool)."""
    deadline, quiet = time.monotonic() + timeout, 0
    while time.monotonic() < deadline and quiet < settled:
        children = [p for p in psutil.Process(server.process.pid).children(recursive=True)
                    if "ipykernel" in " ".join(p.cmdline())]
        idle = len(children) >= size and all(p.cpu_percent(interval=0.2) < 5 for p in children)
        quiet = quiet + 1 if idle else 0
        time.sleep(0.5)


def plain(browser, url: str) -> tuple[float, list[float]]:
    page = browser.new_context().new_page()
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_selector(READY, timeout=180_000)
    elapsed = time.perf_counter() - started
    phases = page.evaluate(_TIMING)
    page.context.close()
    return elapsed, phases


def behind_login(browser, url: str, account: str) -> tuple[float, list[float]]:
    page = browser.new_context().new_page()
    page.goto(url)  # → the login page
    page.fill("#username", account)
    page.fill("#password", DEMO_PASSWORD)
    started = time.perf_counter()
    page.click("button[type=submit]")
    page.wait_for_selector(READY, timeout=180_000)
    elapsed = time.perf_counter() - started
    phases = page.evaluate(_TIMING)
    page.context.close()
    return elapsed, phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = f"sqlite:///{Path(folder) / 'demo.db'}"
        with Store(db) as store:
            save_demo(store)
            demo_accounts(store)
        figures: dict[str, list[float]] = {"plain": [], "login": []}
        phases: dict[str, list[list[float]]] = {"plain": [], "login": []}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(**launch_args())
            with ExitStack() as servers:
                login = ServeSettings(max_kernels_per_user=50, max_kernels=50)
                by_mode = {mode: servers.enter_context(running("forms.ipynb", db=db, pool_size=1, cull_idle=0,
                                                                login=login if mode == "login" else None))
                            for mode in figures}
                for _ in range(args.rounds):
                    for mode, server in by_mode.items():
                        for other, each in by_mode.items():
                            pool_ready(each, 1 + len(figures[other]))
                        took, parts = plain(browser, server.url) if mode == "plain" else behind_login(
                            browser, server.url, "admin")
                        figures[mode].append(took)
                        phases[mode].append(parts)
            browser.close()
    for mode, values in figures.items():
        print(f"{mode:6s} first form usable: median {statistics.median(values):.2f} s "
              f"(min {min(values):.2f}, max {max(values):.2f}, {len(values)} rounds)")
    added = statistics.median(figures["login"]) - statistics.median(figures["plain"])
    print(f"added by the login: {added:+.2f} s (goal ≤ 0.20 s)")
    print("where the time goes (medians, s):")
    for index, name in enumerate(PHASES):
        print(f"  {name:28s} " + "  ".join(f"{mode} {statistics.median(p[index] for p in phases[mode]):5.2f}"
                                           for mode in phases))
    for mode in phases:
        for took, parts in zip(figures[mode], phases[mode]):
            print(f"  {mode} round: {took:.2f} s = " + " + ".join(f"{x:.2f}" for x in parts)
                  + f" (+ {took - sum(parts):.2f} outside the page's timing)")
    print(f"machine load (1, 5, 15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
