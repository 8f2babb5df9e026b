"""Starting ``orglife serve``/``training`` from tests: the line that says where it listens."""
from __future__ import annotations

import pytest


def started_url(process, lines: int = 6) -> str:
    """The URL ``orglife serve``/``training`` prints once Voila answers (after its 正在启动 line); fails the test
    with what the command printed when it never says 已启动."""
    seen = []
    for _ in range(lines):
        line = process.stdout.readline()
        seen.append(line)
        if "已启动：" in line:
            return line.split("：", 1)[1].split()[0]
        if not line:
            break
    process.kill()
    pytest.fail("orglife serve 未启动：" + "".join(seen) + (process.stdout.read() or ""))
