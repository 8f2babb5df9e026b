"""``orglife`` run in the test process (as nbgrader's tests run ``run_nbgrader``): the one helper of the CLI tests.

A subprocess per call paid the package's import (~2 s) each time; the command's own code is the same either way:
``main`` turns every error into a Chinese message and an exit code, which is what the tests assert. Tests that need
a real process (bounded memory, ``/dev/stdout``, Ctrl-C, a fresh interpreter) start one themselves.
"""
from __future__ import annotations

import contextlib
import io
from subprocess import CompletedProcess

import pytest

from orglife_nb.cli import main


def orglife(*argv) -> CompletedProcess:
    """``orglife ARGV``: its exit code and what it printed, as ``subprocess.run(..., text=True)`` gives them."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = _exit_code(lambda: main([str(a) for a in argv]))
    return CompletedProcess(["orglife", *map(str, argv)], code, out.getvalue(), err.getvalue())


def cli(capsys, *argv) -> tuple[int, str, str]:
    """``orglife ARGV`` under pytest's ``capsys``: (exit code, stdout, stderr)."""
    code = _exit_code(lambda: main([str(a) for a in argv]))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _exit_code(run) -> int:
    with pytest.raises(SystemExit) as exit_info:  # the command always ends with its exit code
        run()
    code = exit_info.value.code
    return code if isinstance(code, int) else (0 if code is None else 1)
