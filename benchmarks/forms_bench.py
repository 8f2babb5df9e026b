"""Benchmark: the Voila forms in Chromium, on the bundled demo store (14 branches).

Prints, in one run on the same notebook (``notebooks/forms.ipynb``):
- navigation → first form interactive (the meeting form's save button enabled), with the preheated kernel pool
  (``orglife serve``'s mode) and with plain ``voila`` (no pool); goal < 1 s with the pool;
- a save round trip: click 保存 → the “已保存” message in the page (goal < 300 ms);
- memory per kernel (RSS and USS of each ipykernel under Voila);
- for comparison, the same navigation on a notebook with one button: Voila's floor on this machine.

    python benchmarks/forms_bench.py [--rounds N]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
import psutil
from playwright.sync_api import sync_playwright

from orglife_nb.browser import launch_args
from orglife_nb.demo import save_demo
from orglife_nb.store import Store
from orglife_nb.voila import running

READY = ".f-meetings--save:not([disabled])"
REFILL_SECONDS = 12  # a used pool kernel is replaced by one that has run the notebook again


def kernels(server) -> list[psutil.Process]:
    return [p for p in psutil.Process(server.process.pid).children(recursive=True)
            if "ipykernel" in " ".join(p.cmdline())]


def first_interactive(browser, url: str, ready: str = READY) -> float:
    page = browser.new_page()
    try:
        started = time.perf_counter()
        page.goto(url)
        page.wait_for_selector(ready, timeout=120_000)
        return time.perf_counter() - started
    finally:
        page.close()


def save_round_trips(browser, url: str, rounds: int) -> list[float]:
    page = browser.new_page()
    page.goto(url)
    page.wait_for_selector(READY, timeout=120_000)
    topic = page.locator(".f-meetings-topic input")
    times = []
    for number in range(rounds):
        topic.fill(f"基准测试主题 {number}")
        page.wait_for_timeout(1100)  # typing has reached the kernel; the message's clock has moved on
        # timed inside the page: click → the status text changes to the new “已保存” message
        times.append(page.evaluate("""() => new Promise(resolve => {
            const el = document.querySelector('.f-meetings--status');
            const before = el.textContent;
            const t0 = performance.now();
            const watch = new MutationObserver(() => {
                if (el.textContent !== before && el.textContent.includes('已保存')) {
                    watch.disconnect(); resolve((performance.now() - t0) / 1000);
                }
            });
            watch.observe(el, {subtree: true, childList: true, characterData: true});
            document.querySelector('.f-meetings--save').click();
        })"""))
        page.wait_for_timeout(1500)  # the guidance refresh after the save finishes before the next round
    page.close()
    return times


def memory(server) -> list[tuple[float, float]]:
    out = []
    for process in kernels(server):
        info = process.memory_full_info()
        out.append((info.rss / 2**20, info.uss / 2**20))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3, help="navigations per mode")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="orglife-forms-bench-"))
    db = f"sqlite:///{folder / 'demo.db'}"
    with Store(db) as store:
        save_demo(store)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**launch_args())
        results = {}
        floor = folder / "one_button.ipynb"  # Voila's own floor here: page scripts + widget manager, one widget
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
            "import ipywidgets\nipywidgets.Button(description='保存')")]), floor)
        modes = (("预热内核池（orglife serve）", "forms.ipynb", True, READY),
                 ("普通 voila（无预热）", "forms.ipynb", False, READY),
                 ("对照：只有一个按钮的笔记本，预热", floor, True, "button"))
        for label, notebook, preheat, ready in modes:
            with running(notebook, db=db, preheat=preheat, pool_size=1) as server:
                if preheat:
                    time.sleep(REFILL_SECONDS)  # the pool's first kernel runs the notebook
                first_interactive(browser, server.url, ready)  # warm the browser cache, as a returning clerk has it
                times = []
                for _ in range(args.rounds):
                    if preheat:
                        time.sleep(REFILL_SECONDS)
                    times.append(first_interactive(browser, server.url, ready))
                results[label] = times
                if notebook == "forms.ipynb" and preheat:
                    time.sleep(REFILL_SECONDS)
                    trips = save_round_trips(browser, server.url, 10)
                    time.sleep(REFILL_SECONDS)
                    kernel_memory = memory(server)
        browser.close()
    print("首个表单可操作（导航 → 会议表单“保存”可点）：")
    for label, times in results.items():
        print(f"  {label}: 中位数 {statistics.median(times):.2f} s（{', '.join(f'{t:.2f}' for t in times)}）")
    print(f"保存往返（点击保存 → 页面显示“已保存”）：中位数 {statistics.median(trips) * 1000:.0f} ms，"
          f"最大 {max(trips) * 1000:.0f} ms（{len(trips)} 次）")
    rss = statistics.median(r for r, _ in kernel_memory)
    uss = statistics.median(u for _, u in kernel_memory)
    print(f"每个内核的内存（{len(kernel_memory)} 个内核的中位数）：RSS {rss:.0f} MiB，独占（USS）{uss:.0f} MiB")


if __name__ == "__main__":
    main()
