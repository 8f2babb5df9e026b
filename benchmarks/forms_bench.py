"""Benchmark: the Voila forms in Chromium, on the bundled demo store (14 branches).

Prints, in one run on the same notebook (``notebooks/forms.ipynb``):
- navigation → first form interactive (the meeting form's save button enabled), with the preheated kernel pool
  (``orglife serve``'s mode) and with plain ``voila`` (no pool); goal < 1 s with the pool;
- a save round trip: click 保存 → the “已保存” message in the page (goal < 300 ms), and click 保存 → the guidance
  panel redrawn with the new findings (what the clerk waits for: the app refreshes it after the save);
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


def save_round_trips(browser, url: str, rounds: int) -> list[tuple[float, float]]:
    """(click → “已保存”, click → the guidance panel redrawn) per save. The topic alternates between empty and set,
    so each save changes the findings (PREP-TOPIC) and the panel must change: that is what the clerk waits for."""
    page = browser.new_page()
    page.goto(url)
    page.wait_for_selector(READY, timeout=120_000)
    topic = page.locator(".f-meetings-topic input")
    times = []
    for number in range(rounds):
        topic.fill(f"基准测试主题 {number}" if number % 2 else "")
        page.wait_for_timeout(1100)  # typing has reached the kernel; the message's clock has moved on
        # timed inside the page: click → the status text changes to the new “已保存” message, and → the guidance
        # panel's content changes (the app refreshes it after the save)
        saved, guided = page.evaluate("""() => new Promise((resolve, reject) => {
            const status = document.querySelector('.f-meetings--status');
            const guidance = document.querySelector('.f-guidance');
            const before = status.textContent, shown = guidance.innerHTML;
            const t0 = performance.now();
            let saved = null, guided = null;
            const done = () => { if (saved !== null && guided !== null) { watch.disconnect(); resolve([saved, guided]); } };
            const watch = new MutationObserver(() => {
                const now = (performance.now() - t0) / 1000;
                if (saved === null && status.textContent !== before && status.textContent.includes('已保存')) saved = now;
                if (guided === null && guidance.innerHTML !== shown) guided = now;
                done();
            });
            watch.observe(document.body, {subtree: true, childList: true, characterData: true});
            setTimeout(() => { watch.disconnect(); reject(new Error('no save or no guidance refresh in 30 s')); }, 30000);
            document.querySelector('.f-meetings--save').click();
        })""")
        times.append((saved, guided))
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
    saved, guided = [t for t, _ in trips], [g for _, g in trips]
    print(f"保存往返（点击保存 → 页面显示“已保存”）：中位数 {statistics.median(saved) * 1000:.0f} ms，"
          f"最大 {max(saved) * 1000:.0f} ms（{len(trips)} 次）")
    print(f"保存到提示刷新（点击保存 → 右侧“实时提示”重绘，用户等到的结果）：中位数 "
          f"{statistics.median(guided) * 1000:.0f} ms，最大 {max(guided) * 1000:.0f} ms")
    rss = statistics.median(r for r, _ in kernel_memory)
    uss = statistics.median(u for _, u in kernel_memory)
    print(f"每个内核的内存（{len(kernel_memory)} 个内核的中位数）：RSS {rss:.0f} MiB，独占（USS）{uss:.0f} MiB")


if __name__ == "__main__":
    main()
