"""``orglife demo``: build the demo store (``demo``), say what it holds, run the checks and write every report.

The command's floor (7): it calls the generator, the checks and the report runner, which know nothing of it.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Callable

from .demo import (COMPLIANT_BRANCHES, DEFAULT_SEED, DEMO_AS_OF, DEMO_PASSWORD, PHONE_VOTE_MEETING, demo_accounts,
                   save_demo, vote_on_phones)
from .errors import OrglifeError
from .models import RECORDS, Branch, Meeting


def run_demo(out: Path, db: str | None = None, branches: int | None = None, seed: int | None = None,
             echo: Callable[[str], None] = print, reports: bool = True, workers: int = 1) -> Path | str:
    """Build the demo store, say what it holds, run the checks and (``reports``) write every branch report, the
    summary and the index page into ``out``. Without ``db`` the store is ``out/demo.db``, made fresh."""
    from sqlalchemy.engine import make_url

    from .models import MeetingKind, UnitType
    from .outputs import output_dir
    from .store import Store

    seed = DEFAULT_SEED if seed is None else seed
    out = Path(out)
    if db is None:
        output_dir(out)
        target: Path | str = out / "demo.db"
        for suffix in ("", "-wal", "-shm"):  # the demo's own file: start from scratch every run
            Path(f"{target}{suffix}").unlink(missing_ok=True)
    else:
        target = db
    with Store(target) as store:
        save_demo(store, branches, seed)
        phone = vote_on_phones(store, PHONE_VOTE_MEETING, seed) if branches is None else None
        accounts = demo_accounts(store)
        counts = store.counts()
        branch_frame = store.read(Branch)
        meeting_frame = store.read(Meeting)
        shown = make_url(store.url).render_as_string(hide_password=True) if db is not None else str(target)
    echo(f"演示数据库：{shown}")
    echo("各表行数：" + "，".join(f"{record.sheet} {counts[record]}" for record in RECORDS))
    by_unit = branch_frame["unit_type"].value_counts()
    echo("支部（按单位类型）：" + "，".join(f"{u.label} {int(by_unit[u.value])}" for u in UnitType
                                          if u.value in by_unit))
    by_kind = meeting_frame["kind"].value_counts()
    echo("会议（按类型）：" + "，".join(f"{k.label} {int(by_kind[k.value])}" for k in MeetingKind
                                      if k.value in by_kind))
    if branches is None:
        echo(f"其中完全合规的支部：{'、'.join(COMPLIANT_BRANCHES)}；其余支部按规则目录埋设了问题，供检查演示。")
    echo(f"演示数据以 {DEMO_AS_OF.isoformat()} 为“今天”：此后召开的会议处于准备阶段。")
    if phone is not None:
        echo(f"会议 {PHONE_VOTE_MEETING} 的民主测评用手机完成（一次性测评码、不记名）：{phone.turnout()}，已结束计票。")
    if accounts:
        echo(f"演示账号（密码均为 {DEMO_PASSWORD}，仅供演示）：" + "，".join(accounts)
             + f"；启动表单：orglife serve --db {shown}")
    if branches is None:
        _echo_checks(target, echo)
    if reports:
        _write_reports(target, out, workers, echo)
    return target


def _write_reports(target, out: Path, workers: int, echo) -> None:
    from .reports.runner import run_reports

    echo("正在生成报告（每个支部一份，另有汇总报告）……")
    run = run_reports(str(target), as_of=DEMO_AS_OF, out=out, workers=workers, echo=echo)
    echo(run.describe())
    echo(f"报告索引页：{run.index.resolve()}")
    if run.failed:
        raise OrglifeError(f"有 {run.failed} 份报告生成失败，详见 {run.index.resolve()}")


def _echo_checks(target, echo) -> None:
    """Run every rule on the demo store (as of DEMO_AS_OF) and print the counts per rule."""
    from .frames import load
    from .rules import run_checks
    from .rules.engine import counts
    from .rules.registry import SEVERITY_LABELS

    findings = run_checks(load(target), None, DEMO_AS_OF)
    total = counts(findings)
    echo("检查结果（截至 " + DEMO_AS_OF.isoformat() + "）：" +
         "，".join(f"{SEVERITY_LABELS[s]} {n} 条" for s, n in total.items()))
    from .rules.registry import RULES

    order = {rule.id: position for position, rule in enumerate(RULES)}
    per_rule = findings.groupby(["rule", "severity"], sort=False).size()
    for (rule, severity), number in sorted(per_rule.items(), key=lambda item: order[item[0][0]]):
        echo(f"  {rule}  {SEVERITY_LABELS[severity]} {int(number)}")
    today = dt.date.today()
    if today != DEMO_AS_OF:  # the same store counts differently on another day: say which day each uses
        echo(f"以上按演示基准日 {DEMO_AS_OF.isoformat()} 检查；orglife check、orglife status 和录入表单默认以今天"
             f"（{today.isoformat()}）为检查日期，结果会不同。要得到与上面相同的结果，请加 --as-of {DEMO_AS_OF.isoformat()}。")
