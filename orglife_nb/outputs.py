"""Every file the project writes goes through here: one Chinese line when it cannot, nothing half-written.

A file is written under a temporary name beside its target (``.<name>.<random>.part``) and renamed over it only
when complete, so a full disk or a Ctrl-C never leaves a truncated report, workbook or CSV under the final name.
A target that exists and is not a regular file (``/dev/stdout``, ``/dev/full``, a FIFO) is written in place instead:
renaming over a device node would replace the device. Any ``OSError`` becomes an ``OrglifeError`` that names the
path and says why in Chinese (目录不存在, 磁盘空间不足, 没有写入权限 …); the CLI prints it and exits 2.
"""
from __future__ import annotations

import errno
import os
import shutil
import sys
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import OrglifeError

PART = ".part"  # suffix of every temporary file (``runner.sweep_parts`` removes a killed run's leftovers)

_REASONS = {
    errno.ENOENT: "目录不存在",
    errno.ENOTDIR: "路径中有一段不是目录",
    errno.EACCES: "没有写入权限",
    errno.EPERM: "没有写入权限",
    errno.ENOSPC: "磁盘空间不足",
    errno.EDQUOT: "超出磁盘配额",
    errno.EROFS: "文件系统只读",
    errno.EISDIR: "这是一个目录，不是文件",
    errno.EEXIST: "已存在同名文件",
    errno.ENAMETOOLONG: "文件名过长",
    errno.EFBIG: "文件过大",
}


def reason(error: OSError) -> str:
    """Why an ``OSError`` happened, in Chinese (the system's own words for an unusual one)."""
    return _REASONS.get(error.errno, f"系统错误（{error.strerror or error}）")


def cannot_write(path: str | os.PathLike, error: OSError) -> OrglifeError:
    return OrglifeError(f"无法写入 {path}：{reason(error)}")


def output_dir(path: str | os.PathLike) -> Path:
    """The directory ``path``, created with its parents if missing; OrglifeError when it cannot be."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OrglifeError(f"无法写入 {path}：已存在同名文件，不是目录")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise cannot_write(path, error) from None
    return path


def _special(path: Path) -> bool:
    """An existing target that is not a regular file (a device, a FIFO): written in place, never replaced."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def check_target(path: str | os.PathLike) -> Path:
    """Fail now, before any work, if ``path`` cannot be a file we write: its folder missing, a directory there.

    What only the write itself reveals (no permission, a full disk) still fails then, with the same message."""
    path = Path(path)
    if path.is_dir():
        raise cannot_write(path, OSError(errno.EISDIR, "is a directory"))
    if _special(path):
        return path
    parent = path.parent
    try:
        if not stat.S_ISDIR(os.stat(parent).st_mode):
            raise OSError(errno.ENOTDIR, "not a directory")
    except OSError as error:
        raise cannot_write(path, error) from None
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


STDOUT = "-"  # as a file argument: standard output, as everywhere on the command line


def is_stdout(path: str | os.PathLike | None) -> bool:
    return path is not None and os.fspath(path) == STDOUT


def _to_stdout() -> Iterator[Path]:
    """The whole output is written to a temporary file first, then to standard output: a failure midway leaves
    nothing half-written in the pipe."""
    handle, temp = tempfile.mkstemp(prefix=".orglife-stdout.", suffix=PART)
    os.close(handle)
    temp = Path(temp)
    try:
        yield temp
        with open(temp, "rb") as source:
            stream = getattr(sys.stdout, "buffer", None)
            if stream is None:  # a text-only stdout (some embedding hosts): UTF-8 text outputs still go through
                sys.stdout.write(source.read().decode("utf-8", "replace"))
            else:
                shutil.copyfileobj(source, stream)
            (stream or sys.stdout).flush()
    finally:
        temp.unlink(missing_ok=True)


@contextmanager
def replacing(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write the whole of ``path`` to; on success it becomes ``path``.

    On any failure the temporary file goes and the target is untouched; an ``OSError`` (in the body or on the
    rename) is raised as ``OrglifeError`` naming ``path``. For a special target the temporary file lies in the
    system's temporary directory and is copied into the target at the end."""
    if is_stdout(path):
        yield from _to_stdout()
        return
    path = check_target(path)
    special = _special(path)  # through any link: /dev/stdout → a pipe or terminal is written in place
    if path.is_symlink() and not special:  # write the file it points to, not a new file over the link
        path = Path(os.path.realpath(path))
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=PART,
                                        dir=None if special else path.parent)
        os.close(handle)
    except OSError as error:
        raise cannot_write(path, error) from None
    temp = Path(temp)
    try:
        yield temp
        if special:
            with open(temp, "rb") as source, open(path, "wb") as target:
                shutil.copyfileobj(source, target)
        else:
            os.chmod(temp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs are ordinary files
            os.replace(temp, path)
    except OSError as error:
        raise cannot_write(path, error) from None
    finally:
        temp.unlink(missing_ok=True)


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    with replacing(path) as temp:
        temp.write_bytes(data)
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """UTF-8, line ends as given (a CSV's ``\\n`` stays ``\\n`` on every system)."""
    return write_bytes(path, text.encode("utf-8"))


# Spreadsheet formula injection (OWASP "CSV Injection"): Excel, WPS and LibreOffice evaluate a cell that begins
# with one of these, so user text like "=HYPERLINK(…)" or "@SUM(…)" would run when a CSV is opened. The full-width
# forms are included because a Chinese IME types them and WPS/Excel may normalise them to the ASCII operator; a text
# legitimately starting with one loses nothing but gains a visible quote.
FORMULA_START = "=+-@\t\r＝＋－＠"


_STARTS = frozenset(FORMULA_START)
_FIRSTS = list(FORMULA_START)


def neutralise(value):
    """A text value that a spreadsheet would read as a formula, prefixed with a single quote (OWASP's advice);
    anything else as it is. Numbers are never touched (-3 in a numeric column stays -3)."""
    return "'" + value if isinstance(value, str) and value[:1] in _STARTS else value


def csv_text(frame) -> str:
    """A frame as CSV text for people: UTF-8 BOM first (Excel then shows the Chinese), every text cell neutralised.
    The one way the project writes CSV. Rows end in CRLF (RFC 4180): the csv module then also quotes a cell that
    holds a bare CR, which with LF endings it writes unquoted and readers take for a row break."""
    import numpy as np
    import pandas as pd

    safe = frame.copy(deep=False)
    # text columns by what they hold, not by dtype name: object, pandas' str and string (python or Arrow storage),
    # an ArrowDtype string, and a categorical of text (select_dtypes misses the last two)
    texts = [name for name, dtype in frame.dtypes.items()
             if pd.api.types.is_string_dtype(dtype)
             or (isinstance(dtype, pd.CategoricalDtype) and pd.api.types.is_string_dtype(dtype.categories.dtype))]
    for name in texts:
        values = frame[name].to_numpy(dtype=object)
        # numpy's cast to one-character strings gives every cell's first character at C speed; only those that
        # start a formula are looked at one by one (a number such as -3 in an object column is one, and stays)
        first = values.astype("U1")
        hits = [i for i in np.flatnonzero(np.isin(first, _FIRSTS)) if isinstance(values[i], str)]
        if hits:
            values = values.copy()
            values[hits] = ["'" + values[i] for i in hits]
            # as its own dtype: a bare object array would be inferred as an Arrow string column, whose conversion
            # back for to_csv costs more than all the rest
            dtype = frame[name].dtype  # a categorical's quoted values are not among its categories
            safe[name] = pd.Series(values, index=frame.index,
                                   dtype=object if isinstance(dtype, pd.CategoricalDtype) else dtype)
    return "\ufeff" + safe.to_csv(index=False, lineterminator="\r\n")


__all__ = ["PART", "reason", "cannot_write", "output_dir", "check_target", "replacing", "write_bytes",
           "write_text", "FORMULA_START",
           "neutralise", "csv_text"]
