"""``orglife ballot open|status|close`` and the slips: the QR code on every slip of slips.pdf (and slips.docx, as
LibreOffice prints it) decodes to the phone page's URL with a code that votes; bad input is one Chinese line, exit
2, nothing issued or written; scope with ``--as``; the close prints the tally."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from orglife_nb.auth import add_account
from orglife_nb.cli import main
from orglife_nb.store import Store
from orglife_nb.store.voting import grouped

from votekit import MEETING, MEMBERS, fill
from clikit import cli as run

URL = "https://dangjian.example.gov.cn/"


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with Store(url) as store:
        fill(store)
        add_account(store, "sec-B1", "secretary", "pass-word-1", branches=["B1"])
        add_account(store, "analyst", "analyst", "pass-word-1")
    return url


def decoded(pdf, tmp_path, resolution: int = 100) -> list[str]:
    prefix = tmp_path / f"raster-{pdf.stem}-{pdf.parent.name}"
    subprocess.run(["pdftoppm", "-r", str(resolution), "-png", str(pdf), str(prefix)], check=True)
    found = []
    for image in sorted(tmp_path.glob(prefix.name + "*.png")):
        result = subprocess.run(["zbarimg", "-q", "--raw", str(image)], capture_output=True, text=True)
        found += result.stdout.split()
    return found


@pytest.mark.skipif(not shutil.which("zbarimg") or not shutil.which("pdftoppm"),
                    reason="needs zbar-tools and poppler-utils (Debian)")
def test_every_slip_has_a_qr_code_of_a_vote_url_whose_code_votes_once(capsys, db, tmp_path):
    code, out, err = run(capsys, "ballot", "open", "--meeting", MEETING, "--voters", "9", "--public", "2",
                         "--out", str(tmp_path / "slips"), "--url", URL, "--db", db, "--as", "sec-B1")
    assert code == 0, err
    assert "已投票 0 / 发放测评码 11（党员 0/9，群众代表 0/2）" in out
    pdf = tmp_path / "slips" / "slips.pdf"
    urls = decoded(pdf, tmp_path)
    assert len(urls) == 11 and len(set(urls)) == 11
    assert all(re.fullmatch(re.escape(URL) + r"vote#[0-9A-Z]{12}", url) for url in urls)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    codes = [url.rsplit("#", 1)[1] for url in urls]
    assert all(grouped(c) in text for c in codes)  # the typed code is the QR code's
    assert text.count("群众代表") == 2
    with Store(db) as store:
        store.cast_vote(codes[0], {MEMBERS[0]: "excellent"})
    if shutil.which("soffice"):  # the .docx, printed by LibreOffice, carries the same codes
        folder = tmp_path / "docx"
        subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(folder),
                        str(tmp_path / "slips" / "slips.docx")], capture_output=True, timeout=180)
        assert sorted(decoded(folder / "slips.pdf", tmp_path, 150)) == sorted(urls)
    code, out, _ = run(capsys, "ballot", "status", "--meeting", MEETING, "--db", db)
    assert code == 0 and "已投票 1 / 发放测评码 11（党员 1/9，群众代表 0/2）" in out
    code, out, err = run(capsys, "ballot", "close", "--meeting", MEETING, "--db", db, "--as", "sec-B1")
    assert code == 0, err
    assert "作废未用测评码 10 个" in out and "测评票共 1 张" in out
    row = next(line for line in out.splitlines() if line.startswith("王建国"))
    assert row.split() == ["王建国", "1", "0", "0", "0", "1"]


@pytest.mark.parametrize("argv, message", [
    (["--voters", "11"], "多于可投票的党员"),
    (["--voters", "3", "--url", "ftp://x"], "网址无效"),
    (["--voters", "3", "--meeting", "NOPE"], "没有编号为 NOPE 的会议"),
    (["--voters", "3", "--as", "analyst"], "analyst"),
    (["--voters", "abc"], "--voters"),
])
def test_bad_input_is_one_chinese_line_and_nothing_is_issued_or_written(capsys, db, tmp_path, argv, message):
    base = ["ballot", "open", "--meeting", MEETING, "--out", str(tmp_path / "slips"), "--db", db]
    if "--meeting" in argv:
        base = base[:2] + base[4:]
    code, out, err = run(capsys, *base, *argv)
    assert code == 2 and message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "slips" / "slips.pdf").exists() and not (tmp_path / "slips" / "slips.docx").exists()
    with Store(db) as store:
        assert store.poll(MEETING) is None


def test_slips_that_cannot_be_written_issue_no_code(capsys, db, tmp_path):
    (tmp_path / "taken").write_text("a file where the folder should be")
    code, _, err = run(capsys, "ballot", "open", "--meeting", MEETING, "--voters", "3", "--out",
                       str(tmp_path / "taken" / "slips"), "--db", db)
    assert code == 2 and "无法写入" in err
    with Store(db) as store:
        assert store.poll(MEETING) is None
    code, _, err = run(capsys, "ballot", "status", "--meeting", MEETING, "--db", db)
    assert code == 2 and "没有开启手机测评" in err


def test_slips_docx_is_tagged_simplified_chinese():
    """Word chooses fonts and line breaking for Han text by its East Asian language: every run of slips.docx, and
    the styles' defaults (text typed into it later), say zh-CN, and no part of the file says another one."""
    import datetime as dt
    import io
    import zipfile

    from lxml import etree

    from orglife_nb.documents.slips import slips_docx
    from orglife_nb.store.voting import Poll, Slip

    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    now = dt.datetime(2026, 1, 5, 9, 0)
    poll = Poll(MEETING, "four", MEMBERS[:2], 1, 1, now, now + dt.timedelta(hours=2), None, title="第一支部 · 2025",
                slips=[Slip("ABCDEFGHJK", "member"), Slip("BCDEFGHJKL", "public")])
    package = zipfile.ZipFile(io.BytesIO(slips_docx(poll, URL)))
    document = etree.fromstring(package.read("word/document.xml"))
    runs = list(document.iter(f"{w}r"))
    assert len(runs) > 10
    assert [run.find(f"{w}rPr/{w}lang").get(f"{w}eastAsia") for run in runs] == ["zh-CN"] * len(runs)
    styles = etree.fromstring(package.read("word/styles.xml"))
    defaults = styles.find(f"{w}docDefaults/{w}rPrDefault/{w}rPr/{w}lang")
    assert defaults.get(f"{w}eastAsia") == "zh-CN"
    for name in package.namelist():
        if name.endswith(".xml"):
            tags = {tag.get(f"{w}eastAsia") for tag in etree.fromstring(package.read(name)).iter(f"{w}lang")}
            assert tags <= {"zh-CN", None}, (name, tags)
