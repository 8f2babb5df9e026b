"""When a page fails: the visitor reads a Chinese message with a short error id, and the server's log gets the
traceback under the same id (an administrator finds it with ``grep 错误编号 <id>``). Voila's own message is English
and names an option ``orglife serve`` does not have; a widget callback's error would otherwise vanish silently.

A kernel's ``sys.__stderr__`` is the server's own output (``orglife serve`` sends it to its log file), and Voila
strips stderr from the page, so nothing of the traceback reaches the browser.
"""
from __future__ import annotations

import functools
import secrets
import sys
import traceback
from typing import Callable

import ipywidgets as w

from ..present.html import esc

MARKER = "orglife-log"  # lines the server's parent reads back from the log (``voila.serve_forever``)
PREHEATED = "kernel-preheated"


def log_line(kind: str, text: str = "") -> None:
    """One line for the server's log (and, for MARKER lines, for ``orglife serve``'s progress)."""
    stream = sys.__stderr__
    if stream is not None:
        stream.write(f"[{MARKER}] {kind} {text}".rstrip() + "\n")
        stream.flush()


def record(error: BaseException) -> str:
    """Write ``error``'s traceback to the server's log under a new short id; the id."""
    error_id = secrets.token_hex(4)
    trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    log_line("error", f"错误编号 {error_id}\n{trace}")
    return error_id


def message(error_id: str) -> str:
    """The visitor's words for an unexpected failure (HTML)."""
    return (f"<p class='f-failed' role='alert'>抱歉，页面出错了（错误编号 <b>{esc(error_id)}</b>）。"
            "刚才的操作没有完成；请刷新页面重试，如仍出错，请把错误编号告诉管理员。</p>")


class Failed:
    """The page shown when building the forms failed."""

    def __init__(self, error: BaseException) -> None:
        self.error_id = record(error)
        self.widget = w.HTML(message(self.error_id))

    def finish(self) -> None:
        pass


def guarded(show: Callable[[str], None]) -> Callable[[Callable], Callable]:
    """Wrap a widget callback: an unexpected error is recorded and ``show``n to the visitor (HTML), not lost."""
    def wrap(callback: Callable) -> Callable:
        @functools.wraps(callback)
        def run(*args, **kwargs):
            try:
                return callback(*args, **kwargs)
            except Exception as error:  # anything unexpected: the visitor must not see a silent page
                show(message(record(error)))
                return None
        return run
    return wrap


__all__ = ["Failed", "guarded", "record", "message", "log_line", "MARKER", "PREHEATED"]
