"""The ``orglife`` command: parse arguments, call the package, print. No logic of its own.

Every failure the user can fix ends as one Chinese line on stderr and exit status 2 (no traceback).
"""
from __future__ import annotations

import datetime as dt
import os
import re
import sys
from pathlib import Path

import click

from .errors import OrglifeError
from .reports.engines import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT

DB_HELP = "数据库：SQLAlchemy 地址或 SQLite 文件路径（默认 ORGLIFE_DB，否则 ./orglife.db）"
# Commands that read or write the store act with this account's scope; without it the command line is admin.
AS_OPTION = click.option("--as", "actor", default=None, metavar="账号",
                         help="以该账号的范围执行（只看、只改其范围内的支部；默认命令行视为管理员）")
# serve and training: a closed page's kernel is shut down after this many idle minutes (jupyter_server's culler)
IDLE_OPTION = click.option("--idle-minutes", "idle_minutes", type=click.IntRange(min=0), default=10,
                           show_default=True, help="页面关闭后，其内核空闲多少分钟即关闭以释放内存（0 表示不关闭）")
LOG_OPTION = click.option("--log", type=click.Path(dir_okay=False, path_type=Path), default=None,
                          help="服务器日志文件（默认 ~/.local/state/orglife/serve.log）：页面出错时的错误编号在这里查")


class DateType(click.ParamType):
    """A date in any of the workbook's text forms (YYYY-MM-DD, YYYY/MM/DD, YYYY年M月D日), within the range a
    cell may hold: the option is read by the cell's own parser (``models.<parser>``)."""

    name = "日期"
    parser = "parse_date"

    def convert(self, value, param, ctx):
        from . import models

        if not isinstance(value, str):
            return value
        try:
            return getattr(models, self.parser)(value)
        except models.CellError as error:
            self.fail(f"“{value}” {error}", param, ctx)


DATE = DateType()


class YearType(DateType):
    """A year of that date range (``models.parse_year``)."""

    name = "年度"
    parser = "parse_year"


YEAR = YearType()


class KindType(click.ParamType):
    """A meeting kind by code (regular/special/leadership) or Chinese label (组织生活会…)."""

    name = "会议类型"

    def convert(self, value, param, ctx):
        from .deadlines import meeting_kind

        try:
            return meeting_kind(value)
        except OrglifeError as error:
            self.fail(str(error), param, ctx)


KIND = KindType()


class ChoiceType(click.Choice):
    """click.Choice whose refusal is Chinese."""

    def get_invalid_choice_message(self, value, ctx) -> str:
        return f"“{value}”不是可选值，应为：{'、'.join(map(str, self.choices))}"


def _param_name(param) -> str:
    if param is None:
        return "参数"
    return "/".join(param.opts) if getattr(param, "opts", None) else param.human_readable_name


_PATH_PROBLEMS = {"is a directory": "是目录，不是文件", "is a file": "是文件，不是目录", "does not exist": "不存在",
                  "is not writable": "不可写", "is not readable": "不可读"}


def _chinese(error: click.ClickException) -> str:
    """click's English usage errors, said in Chinese."""
    if isinstance(error, click.NoSuchOption):
        return f"未知选项 {error.option_name}（用 --help 查看可用选项）"
    if isinstance(error, click.MissingParameter):
        if isinstance(error.param, click.Argument):
            return f"缺少参数 {error.param.human_readable_name}（用 --help 查看用法）"
        return f"缺少选项 {_param_name(error.param)}"
    if isinstance(error, click.BadParameter):
        message = error.message
        out_of_range = re.match(r"(.+) is not in the range (.+)\.$", message)
        path_problem = re.match(r"(?:File|Directory|Path) '(.+)' (is a directory|is a file|does not exist|is not "
                                r"writable|is not readable)\.$", message)
        if path_problem:
            message = f"{path_problem.group(1)} {_PATH_PROBLEMS[path_problem.group(2)]}"
        elif out_of_range:
            message = f"{out_of_range.group(1)} 超出允许范围（{out_of_range.group(2)}）"
        elif message.startswith("'") and "is not a valid integer" in message:
            message = f"{message.split(chr(39))[1]} 不是整数"
        elif "is not one of" in message:
            message = f"只能是 {message.split('is not one of')[1].strip().rstrip('.')}"
        return f"{_param_name(error.param)} 的值无效：{message}"
    if isinstance(error, click.BadOptionUsage):
        return f"选项 {error.option_name} 用法不对：{error.message}"
    if isinstance(error, click.UsageError):
        message = error.message
        if message.startswith("No such command"):
            name = message.split("'")[1] if "'" in message else message
            return f"没有这个命令：{name}（用 orglife --help 查看可用命令）"
        if message.startswith("Got unexpected extra argument"):
            return f"多余的参数：{message.split('(')[-1].rstrip(')')}"
        return f"用法错误：{message}"
    return error.format_message()



def written(what: str, path) -> None:
    """Say what was written where; when the output itself went to standard output (``-``), say it on stderr."""
    from .outputs import is_stdout

    if is_stdout(path):
        click.echo(f"{what}：标准输出", err=True)
    else:
        click.echo(f"{what}：{path}")

def _profile(name):
    """The rule profile named on the command line; notices about retired parameters on stderr (one line each)."""
    from .rules.profile import load_profile

    notices: list[str] = []
    profile = load_profile(name, notices)
    for notice in notices:
        click.echo(notice, err=True)
    return profile


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """orglife-nb：组织生活会、民主生活会、民主评议党员的数据、检查、报告与表单工具。"""


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="orglife", standalone_mode=False)
    except OrglifeError as error:
        click.echo(f"错误：{error}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("已中止。", err=True)
        sys.exit(130)
    except click.ClickException as error:
        click.echo(f"错误：{_chinese(error)}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("已中止。", err=True)
        sys.exit(130)
    sys.exit(0)


# ---- commands ---------------------------------------------------------------------------------------------------


@cli.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("orglife-demo"),
              show_default=True, help="输出目录（演示数据库和报告写在这里）")
@click.option("--db", default=None, help="把演示数据写入此数据库，而不是输出目录下的 demo.db")
@click.option("--branches", type=click.IntRange(min=1), default=None, help="生成 N 个支部（用于基准测试）")
@click.option("--seed", type=int, default=None, help="随机种子（默认固定，结果可复现）")
@click.option("--reports/--no-reports", default=True, show_default=True, help="是否为每个支部生成报告和汇总报告")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="并行生成报告的进程数")
def demo(out: Path, db: str | None, branches: int | None, seed: int | None, reports: bool, workers: int) -> None:
    """用内置演示数据建库，运行检查，为每个支部生成报告，并说明结果在哪里。"""
    from .demo_command import run_demo

    run_demo(out=out, db=db, branches=branches, seed=seed, echo=click.echo, reports=reports, workers=workers)


@cli.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def template(out: Path) -> None:
    """写出空白交换工作簿（表头批注、下拉列表、日期格式）。"""
    from .workbook.template import write_template

    write_template(out)
    written("已写出空白工作簿", out)


@cli.command(name="import")
@click.argument("workbooks", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--db", default=None, help=DB_HELP)
@AS_OPTION
def import_(workbooks: tuple[Path, ...], db: str | None, actor: str | None) -> None:
    """校验并导入工作簿：每个文件整体通过才写入，否则列出全部问题、不写入任何内容。"""
    from .workbook.read import import_files

    ok = import_files(list(workbooks), db=db, echo=click.echo, actor=actor)
    if not ok:
        sys.exit(2)


@cli.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--db", default=None, help=DB_HELP)
@click.option("--branch", "branches", multiple=True, help="只导出这些支部（可多次给出）")
@AS_OPTION
def export(out: Path, db: str | None, branches: tuple[str, ...], actor: str | None) -> None:
    """把数据库内容写回交换工作簿。"""
    from .workbook.write import export_store

    summary = export_store(out, db=db, branches=list(branches) or None, actor=actor)
    written(f"已导出（{summary}）", out)


@cli.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--db", default=None, help=DB_HELP)
def backup(out: Path, db: str | None) -> None:
    """备份数据库：SQLite 用在线备份（表单或导入正在写入时也一致）；PostgreSQL 用 pg_dump。"""
    from .store.backup import backup as backup_store

    click.echo(backup_store(out, db))


@cli.command()
@click.argument("source", metavar="IN", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--db", default=None, help=DB_HELP)
@click.option("--force", is_flag=True, help="目标数据库已有数据时也覆盖")
def restore(source: Path, db: str | None, force: bool) -> None:
    """从备份恢复数据库：检查结构版本、逐表核对；目标已有数据时须加 --force。"""
    from .store.backup import restore as restore_store

    click.echo(restore_store(source, db, force=force))


@cli.command()
@click.option("--kind", type=KIND, required=True,
              help="会议类型：regular/special/leadership，或 组织生活会/专题组织生活会/民主生活会")
@click.option("--date", "meeting_date", type=DATE, required=True, help="会议召开日期")
@click.option("--profile", default=None, help="规则配置：内置名称（default、lenient）或 YAML 文件（默认 default）")
@click.option("--format", "fmt", type=ChoiceType(["table", "ics"]), default="table", show_default=True,
              help="table：终端表格；ics：日历提醒文件")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="ics 文件路径（默认 deadlines-<类型>-<日期>.ics；- 为标准输出）")
@click.option("--holidays", "holidays_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="自备节假日清单（YAML 或 CSV：日期、名称、类型 放假/上班），优先于内置日历")
def deadlines(kind, meeting_date, profile: str | None, fmt: str, out: Path | None,
              holidays_file: Path | None) -> None:
    """列出会议各环节的时间节点（通知、方案、学习、报告、通报等），可导出日历提醒。"""
    from . import deadlines as deadlines_module

    calendar = (deadlines_module.HolidayCalendar.from_file(holidays_file) if holidays_file
                else deadlines_module.HolidayCalendar())
    frame = deadlines_module.timeline(kind, meeting_date, _profile(profile), calendar)
    if fmt == "ics":
        path = deadlines_module.write_ics(frame, meeting_date, kind, out)
        written(f"已写出日历提醒（{len(frame)} 项）", path)
    else:
        click.echo(deadlines_module.format_table(frame))


@cli.command()
@click.option("--db", default=None, help=DB_HELP)
@click.option("--branch", "branches", multiple=True, help="只为这些支部出报告（可多次给出；默认全部）")
@click.option("--as-of", "as_of", type=DATE, default=None, help="截止日期（默认今天）")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"), show_default=True,
              help="输出目录")
@click.option("--audience", type=ChoiceType(["internal", "public"]), default="internal", show_default=True,
              help="internal：内部版（全部内容）；public：公示版（不含任何保密内容）")
@click.option("--pdf", is_flag=True, help="同时打印 PDF（需要 Debian 软件包 chromium）")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="并行运行的报告数")
@click.option("--profile", default=None, help="规则配置：内置名称（default、lenient）或 YAML 文件")
@click.option("--resume", is_flag=True,
              help="续跑：报告比该支部最后一次数据修改和笔记本都新的，跳过不重跑（依据输出目录中的清单）")
@click.option("--scheduler", default=None, metavar="地址",
              help="把报告发到已有的 Dask 集群运行，例如 tcp://10.0.0.5:8786"
                   "（各工作节点需装有同版本 orglife-nb，并能访问数据库）")
@click.option("--engine", type=ChoiceType(["warm", "papermill"]), default="warm", show_default=True,
              help="warm：每个工作进程保留一个预热内核（快）；papermill：每份报告新起内核（原版，慢）")
@click.option("--ipynb", is_flag=True, help="同时保存运行后的笔记本（notebooks/ 下，带 papermill 注入的参数和元数据）")
@click.option("--max-memory", "max_memory", type=click.IntRange(min=1024), default=DEFAULT_MEMORY_MB,
              show_default=True, metavar="MB", help="每个报告内核的内存上限（MB）：超出的那份报告失败，其余照常")
@click.option("--timeout", type=click.IntRange(min=1), default=DEFAULT_TIMEOUT, show_default=True, metavar="秒",
              help="每份报告的时限（秒）：超时的那份报告失败，其余照常")
@AS_OPTION
def report(db, branches, as_of, out: Path, audience: str, pdf: bool, workers: int, profile, resume: bool,
           scheduler: str | None, engine: str, ipynb: bool, max_memory: int, timeout: int, actor: str | None) -> None:
    """运行参数化笔记本：每个支部一份 HTML 报告，外加汇总报告、索引页和清单。"""
    from .reports.runner import run_reports

    summary = run_reports(db, branches=list(branches) or None, as_of=as_of, out=out, audience=audience, pdf=pdf,
                          workers=workers, profile=profile, resume=resume, scheduler=scheduler, engine=engine,
                          notebooks=ipynb, timeout=timeout, memory=max_memory, echo=click.echo, actor=actor)
    click.echo(summary.describe())
    for outcome in summary.outcomes:
        if outcome.status == "failed":
            click.echo(f"失败：{outcome.key}：{outcome.error}", err=True)
    click.echo(f"索引页：{summary.index}")
    if summary.failed:
        sys.exit(1)


@cli.command()
@click.argument("workbook", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--db", default=None, help=DB_HELP + "；给出工作簿时不用")
@click.option("--as-of", "as_of", type=DATE, default=None, help="检查日期（默认今天）：此前到期未做的算问题，未到期的算待办")
@click.option("--since", type=DATE, default=None,
              help="频次检查从哪天起（默认各支部第一次有记录的会议起，直到检查日期）")
@click.option("--year", type=YEAR, default=None, help="频次检查只看这一年度")
@click.option("--profile", default=None, help="规则配置：内置名称（default、lenient）或 YAML 文件（默认 default）")
@click.option("--format", "fmt", type=ChoiceType(["table", "json", "csv", "xlsx"]), default="table",
              show_default=True,
              help="table：终端表格；json：一个数组（机器读取，英文字段）；csv：中文表头，带 BOM 的 UTF-8（Excel 可直接打开）；"
                   "xlsx：中文表头的 Excel 工作簿（须给出 --out）")
@click.option("--branch", "branches", multiple=True, help="只看这些支部（可多次给出）")
@click.option("--meeting", "meetings", multiple=True, help="只看这些会议（可多次给出）")
@click.option("--severity", "severities", multiple=True, type=ChoiceType(["error", "warning", "info"]),
              help="只看这些级别（可多次给出）：error 违规、warning 提醒、info 待办")
@click.option("--rule", "rules", multiple=True, help="只运行这些规则（规则编号，可多次给出）")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="写入文件而不是屏幕（- 为标准输出）")
@AS_OPTION
def check(workbook: Path | None, db: str | None, as_of, since, year: int | None, profile: str | None, fmt: str,
          branches: tuple[str, ...], meetings: tuple[str, ...], severities: tuple[str, ...], rules: tuple[str, ...],
          out: Path | None, actor: str | None) -> None:
    """按规则目录检查工作簿或数据库，列出问题（违规、提醒）和待办。"""
    from .rules import filter_findings, run_checks
    from .frames import WorkbookProblems, load_input
    from .reports.text import to_csv, to_json, to_table, to_xlsx
    from .rules.engine import UNREAD_BY_RULES

    if fmt == "xlsx" and out is None:
        raise click.UsageError("--format xlsx 须同时给出 --out 文件（- 为标准输出）")
    chosen = _profile(profile)
    try:
        data = load_input(workbook, db, list(branches) or None, actor=actor, skip=UNREAD_BY_RULES)
    except WorkbookProblems as error:
        click.echo(f"错误：{error}：", err=True)
        for problem in error.problems:
            click.echo("  " + (problem.line() if hasattr(problem, "line") else str(problem)), err=True)
        sys.exit(2)
    if since is not None and since > (as_of or dt.date.today()):
        raise click.BadParameter(f"{since:%Y-%m-%d} 晚于检查日期", param_hint="--since")
    findings = run_checks(data, chosen, as_of, rules=list(rules) or None, year=year, since=since)
    findings = filter_findings(findings, branches, meetings, severities)
    if fmt == "xlsx":
        from .outputs import write_bytes

        write_bytes(out, to_xlsx(findings))
        written(f"已写出 {len(findings)} 条检查结果", out)
        return
    text = {"json": to_json, "csv": to_csv}.get(fmt, lambda f: to_table(f, as_of or dt.date.today()))(findings)
    if out is None:
        click.echo(text)
    else:
        from .outputs import write_text

        write_text(out, text)
        written(f"已写出 {len(findings)} 条检查结果", out)


@cli.command()
@click.option("--db", default=None, help=DB_HELP)
@click.option("--as-of", "as_of", type=DATE, default=None, help="截至日期（默认今天）")
@click.option("--profile", default=None, help="规则配置：内置名称或 YAML 文件（默认 default）")
@click.option("--branch", "branches", multiple=True, help="只看这些支部（可多次给出）")
@AS_OPTION
def status(db: str | None, as_of, profile: str | None, branches: tuple[str, ...], actor: str | None) -> None:
    """各会议还有哪些事项未完成、还剩几天；整改台账按 已销号/超期/10 天内/20 天内/20 天后或未定时限 分组。"""
    from .frames import load_input
    from .reports.text import status_text
    from .rules.engine import UNREAD_BY_RULES
    from .rules.status import status as compute_status

    from .store.review import per_meeting

    chosen = _profile(profile)
    # the review rows come with the frames
    frames = load_input(None, db, list(branches) or None, actor=actor, skip=UNREAD_BY_RULES)
    reviews = per_meeting(frames.reviews, sorted(frames.meetings.meeting_id.dropna()))
    click.echo(status_text(compute_status(frames, as_of, chosen), reviews))


@cli.command()
@click.option("--meeting", "meeting_id", required=True, help="会议编号")
@click.option("--db", default=None, help=DB_HELP)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("orglife-docs"),
              show_default=True, help="输出目录（不存在时创建）")
@click.option("--as-of", "as_of", type=DATE, default=None,
              help="检查日期（默认今天）：用于情况报告中的制度检查，以及未填日期的文书落款")
@click.option("--profile", default=None, help="规则配置：内置名称（default、lenient）或 YAML 文件（默认 default）")
@click.option("--ballot/--no-ballot", default=None,
              help="民主测评表：默认只在会议结合民主评议党员时生成；--ballot 总是生成空白表，--no-ballot 不生成")
@AS_OPTION
def docs(meeting_id: str, db: str | None, out: Path, as_of, profile: str | None, ballot: bool | None,
         actor: str | None) -> None:
    """生成一次会议的文书（.docx）：会议通知、会议情况报告、整改清单、民主测评表。"""
    from .documents import render_documents
    from .store import using

    with using(db, actor=actor) as store:
        paths = render_documents(store, meeting_id, out, as_of=as_of, profile=profile, ballot=ballot,
                                 echo=click.echo)
    click.echo(f"已生成会议 {meeting_id} 的文书 {len(paths)} 份：")
    for path in paths:
        click.echo(f"  {path}")


@cli.command(name="rules")
@click.option("--format", "fmt", type=ChoiceType(["table", "json", "csv"]), default="table", show_default=True,
              help="table：终端表格；json：一个数组；csv：带 BOM 的 UTF-8")
def rules_(fmt: str) -> None:
    """列出规则目录：编号、类别、名称、默认级别、适用会议、制度出处。"""
    from .rules import rule_table
    from .reports.text import rules_text

    click.echo(rules_text(rule_table(), fmt))



@cli.command()
@click.option("--db", default=None, help=DB_HELP)
@click.option("--port", type=click.IntRange(min=0, max=65535), default=8866, show_default=True,
              help="端口（0 表示任选一个空闲端口）")
@click.option("--ip", default="127.0.0.1", show_default=True,
              help="监听地址：默认只本机可访问；其他电脑访问时给出本机网卡地址（或 0.0.0.0），并建议配 HTTPS")
@click.option("--certfile", type=click.Path(dir_okay=False, exists=True), default=None, help="HTTPS 证书（PEM）")
@click.option("--keyfile", type=click.Path(dir_okay=False, exists=True), default=None, help="HTTPS 私钥（PEM）")
@click.option("--allow-host", "hosts", multiple=True, metavar="主机名",
              help="访问时使用的主机名（如 dangjian.example.gov.cn，可多次给出）；其他 Host 一律拒绝")
@click.option("--max-kernels", type=click.IntRange(min=1), default=20, show_default=True,
              help="同时打开的录入页面（内核）总数上限")
@click.option("--max-kernels-per-user", type=click.IntRange(min=1), default=3, show_default=True,
              help="每个账号同时打开的录入页面上限")
@click.option("--session-minutes", type=click.IntRange(min=1), default=30, show_default=True,
              help="登录后多少分钟无操作须重新登录")
@click.option("--pool", "pool_size", type=click.IntRange(min=1), default=2, show_default=True,
              help="预热的内核数：每位访问者占用一个，用后自动补充")
@IDLE_OPTION
@LOG_OPTION
def serve(db: str | None, port: int, ip: str, certfile, keyfile, hosts, max_kernels: int,
          max_kernels_per_user: int, session_minutes: int, pool_size: int, idle_minutes: int,
          log: Path | None) -> None:
    """启动 Voila 表单（须登录）：在浏览器中录入会议各环节，边录边检查。"""
    from .auth import list_accounts
    from .store import Store, resolve_url
    from .serving import ServeSettings
    from .voila import serve_forever

    url = resolve_url(db)
    with Store(url) as store:  # create or upgrade the schema now: a bad --db fails here, not in every kernel
        if not any(not account.disabled for account in list_accounts(store)):
            raise OrglifeError("还没有可用的账号：先用 orglife user add 账号 --role admin（或 secretary --branch …）添加")
    if bool(certfile) != bool(keyfile):
        raise OrglifeError("--certfile 和 --keyfile 要一起给出")
    if ip not in ("127.0.0.1", "localhost", "::1") and not certfile:
        click.echo("注意：未配置 HTTPS，密码和数据将以明文在网络上传输；正式使用请加 --certfile/--keyfile", err=True)
    if port:  # the forms' 手机测评 prints slips whose QR codes point here (the address members' phones use)
        from .documents.slips import VOTE_URL_ENV

        host = hosts[0] if hosts else (ip if ip not in ("0.0.0.0", "::", "") else "127.0.0.1")
        os.environ.setdefault(VOTE_URL_ENV, f"{'https' if certfile else 'http'}://{host}:{port}/")
    login = ServeSettings(certfile=certfile or "", keyfile=keyfile or "", max_kernels=max_kernels,
                          max_kernels_per_user=max_kernels_per_user, idle_minutes=session_minutes,
                          allowed_hosts=list(hosts), pool_size=pool_size)
    serve_forever("forms.ipynb", db=url, port=port or None, preheat=True, pool_size=pool_size,
                  cull_idle=idle_minutes * 60, echo=click.echo, login=login, ip=ip, log=log, count_preheated=True)


@cli.command()
@click.option("--port", type=click.IntRange(min=0, max=65535), default=8867, show_default=True,
              help="端口（0 表示任选一个空闲端口）")
@click.option("--pool", "pool_size", type=click.IntRange(min=1), default=2, show_default=True,
              help="预热的内核数：每位学员占用一个，用后自动补充")
@click.option("--checklists", "checklist_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="不启动 Voila，只把各类会议的工作清单（HTML 和 PDF）写入此目录")
@click.option("--date", "meeting_date", type=DATE, default=None, help="与 --checklists 同用：按此会议日期写出具体日期")
@click.option("--profile", default=None, help="与 --checklists 同用：规则配置（内置名称或 YAML 文件，默认 default）")
@click.option("--no-pdf", "no_pdf", is_flag=True, help="与 --checklists 同用：只写 HTML，不打印 PDF")
@IDLE_OPTION
@LOG_OPTION
def training(port: int, pool_size: int, checklist_dir: Path | None, meeting_date, profile: str | None,
             no_pdf: bool, idle_minutes: int, log: Path | None) -> None:
    """启动培训笔记本（Voila）：程序讲解、时间节点计算器、练习案例、工作清单。"""
    if checklist_dir is not None:
        from .training.checklists import write_checklists

        paths = write_checklists(checklist_dir, profile=_profile(profile), meeting_date=meeting_date,
                                 pdf=not no_pdf)
        click.echo(f"已写出工作清单 {len(paths)} 个文件：")
        for path in paths:
            click.echo(f"  {path}")
        return
    from .voila import serve_forever

    serve_forever("training.ipynb", port=port or None, preheat=True, pool_size=pool_size,
                  cull_idle=idle_minutes * 60, echo=click.echo, log=log)


@cli.command()
@click.option("--meeting", default=None, help="一次会议的全部改动")
@click.option("--branch", default=None, help="一个支部的全部改动")
@click.option("--user", default=None, help="一个账号做过的全部操作和它的登录、退出（命令行的操作记为“命令行”）")
@click.option("--verify", is_flag=True, help="核对全部审计记录的哈希链：完整时退出码 0，有被改动、删除或插入的记录时退出码 1")
@click.option("--anchor", default=None, metavar="哈希", help="与 --verify 同用：此前留存的最新哈希，须仍在记录链中")
@click.option("--db", default=None, help=DB_HELP)
@AS_OPTION
def history(meeting: str | None, branch: str | None, user: str | None, verify: bool, anchor: str | None,
            db: str | None, actor: str | None) -> None:
    """审计记录：谁在何时改了什么（旧值 → 新值）；只能追加，不能修改或删除；--verify 核对记录链是否完整。"""
    from .store import using
    from .store.audit import SESSION_ACTIONS, describe, headline

    if sum(x is not None for x in (meeting, branch, user)) + verify != 1:
        raise OrglifeError("请给出 --meeting、--branch、--user 三者之一（或 --verify 核对记录链）")
    if anchor is not None and not verify:
        raise OrglifeError("--anchor 只能与 --verify 同用")
    if verify:
        with using(db, actor=actor) as store:
            verdict = store.verify_history(anchor)
        click.echo(verdict.describe())
        if verdict.problem is not None:
            sys.exit(1)
        return
    with using(db, actor=actor) as store:
        rows = store.history(meeting=meeting, branch=branch, user=None if user == "命令行" else user)
    if user == "命令行":  # logins are stored without an actor too, but are their accounts'
        rows = rows[rows.actor.isna() & ~rows.action.isin(SESSION_ACTIONS)]
    if rows.empty:
        click.echo("没有审计记录")
        return
    for _, row in rows.iterrows():  # one entry a block: the values can be long
        words = headline(row)
        click.echo(f"{words['at']}  {words['actor']}  {words['action']}  {words['record']}  {words['where']}".rstrip())
        text = describe(row)
        if text:
            click.echo(f"    {text}")
    click.echo(f"共 {len(rows)} 条")


@cli.command()
@click.argument("action", type=ChoiceType(["submit", "approve", "return", "reopen"]))
@click.option("--meeting", "meeting_id", required=True, help="会议编号")
@click.option("--as", "actor", required=True, metavar="账号",
              help="以哪个账号操作：提交由支部书记，审核通过、退回、重新打开由上级党组织")
@click.option("--reason", default=None, help="退回、重新打开的理由；提交时还有违规的，说明原因")
@click.option("--as-of", "as_of", type=DATE, default=None, help="提交时检查的日期（默认今天）")
@click.option("--profile", default=None, help="规则配置：内置名称或 YAML 文件（默认 default）")
@click.option("--db", default=None, help=DB_HELP)
def review(action: str, meeting_id: str, actor: str, reason: str | None, as_of, profile: str | None,
           db: str | None) -> None:
    """审核流程：submit 提交（草稿/退回 → 已提交）、approve 审核通过（→ 已审核，记录锁定）、return 退回、reopen 重新打开。"""
    from .auth.review import review as take_step
    from .store import using

    with using(db, actor=actor) as store:
        state = take_step(store, action, meeting_id, reason=reason, as_of=as_of, profile=profile)
    click.echo(f"会议 {meeting_id}：{state}")


# ---- electronic 民主测评 ------------------------------------------------------------------------------------------


@cli.group()
def ballot() -> None:
    """手机民主测评：发放一次性测评码（打印测评票）、查看投票人数、结束计票。"""


def _poll_line(poll) -> str:
    state = "进行中" if poll.is_open else f"已结束计票（{poll.closed_at:%Y-%m-%d %H:%M}）"
    line = f"会议 {poll.meeting_id} 手机测评{state}：{poll.turnout()}"
    return line + (f"；测评码有效至 {poll.expires_at:%Y-%m-%d %H:%M}" if poll.is_open else "")


@ballot.command(name="open")
@click.option("--meeting", "meeting_id", required=True, help="会议编号")
@click.option("--voters", type=click.IntRange(min=0), required=True, help="党员测评码个数（不多于到会党员）")
@click.option("--public", type=click.IntRange(min=0), default=0, show_default=True,
              help="群众代表测评码个数（社区、窗口服务、执法监管单位的支部）")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="写出测评票的目录（slips.pdf、slips.docx）")
@click.option("--url", default=None, metavar="网址",
              help="手机访问 orglife serve 的网址，如 https://dangjian.example.gov.cn/（默认取环境变量 "
                   "ORGLIFE_VOTE_URL，否则 http://127.0.0.1:8866/）")
@click.option("--hours", type=click.IntRange(min=1, max=24 * 30), default=72, show_default=True,
              help="测评码有效小时数，从开启时起算；会前开启的从会议当天 0 时起算（结束计票后一律失效）")
@click.option("--db", default=None, help=DB_HELP)
@AS_OPTION
def ballot_open(meeting_id: str, voters: int, public: int, out: Path, url: str | None, hours: int,
                db: str | None, actor: str | None) -> None:
    """开启手机测评：生成一次性测评码，写出可裁切的测评票（每张一个二维码和测评码）。"""
    from .documents.slips import VOTE_URL_ENV, vote_base, write_slips
    from .store import using

    url = url or os.environ.get(VOTE_URL_ENV)
    local = url is None
    url = "http://127.0.0.1:8866/" if local else url
    vote_base(url)  # a bad --url fails before any code is issued
    written: list[Path] = []
    with using(db, actor=actor) as store:
        poll = store.open_poll(meeting_id, voters, public, hours=hours,
                               deliver=lambda poll: written.extend(write_slips(poll, out, url)))
    click.echo(_poll_line(poll))
    click.echo(f"已写出测评票：{'、'.join(map(str, written))}")
    click.echo("测评码只在此时写出一次（数据库只存散列，不能补打）：请妥善保管，当场随机分发。")
    if local:
        click.echo("注意：未给出 --url，二维码指向本机地址，其他人的手机打不开；正式使用请给出 orglife serve 的网址",
                   err=True)


@ballot.command(name="status")
@click.option("--meeting", "meeting_id", required=True, help="会议编号")
@click.option("--db", default=None, help=DB_HELP)
@AS_OPTION
def ballot_status(meeting_id: str, db: str | None, actor: str | None) -> None:
    """投票人数：已用测评码 / 发放测评码（结束计票前不显示任何投票内容）。"""
    from .store import using

    with using(db, actor=actor) as store:
        poll = store.poll(meeting_id)
    if poll is None:
        raise OrglifeError(f"会议 {meeting_id} 没有开启手机测评（orglife ballot open 开启）")
    click.echo(_poll_line(poll))


@ballot.command(name="close")
@click.option("--meeting", "meeting_id", required=True, help="会议编号")
@click.option("--db", default=None, help=DB_HELP)
@AS_OPTION
def ballot_close(meeting_id: str, db: str | None, actor: str | None) -> None:
    """结束计票：停止手机投票，未用的测评码作废，手机测评票与纸质测评票合并，显示每人的测评统计。"""
    from .models import Ballot, Meeting, Member, RatingScheme
    from .store import using
    from .store.voting import tally_table
    from .textable import render

    with using(db, actor=actor) as store:
        meeting = store.versioned(Meeting, meeting_id=meeting_id)
        if meeting.empty:
            raise OrglifeError(f"没有编号为 {meeting_id} 的会议")
        store.close_count(meeting_id)
        poll = store.poll(meeting_id)
        ballots = store.versioned(Ballot, meeting_id=meeting_id)
        members = store.versioned(Member, branch_id=meeting.branch_id.iloc[0])
    if poll is not None:
        click.echo(_poll_line(poll) + f"；作废未用测评码 {poll.issued - poll.used} 个")
    scheme = RatingScheme(poll.scheme if poll is not None else meeting.rating_scheme.iloc[0] or "four")
    names = dict(zip(members.member_id, members["name"]))
    rated = poll.rated if poll is not None else sorted(set(ballots.rated_id))
    counts = tally_table(ballots, scheme, {m: names.get(m, m) for m in rated})
    click.echo(f"测评票共 {ballots.ballot_no.nunique() if len(ballots) else 0} 张。测评统计：")
    click.echo(render([counts.index.name, *counts.columns],
                      [[name, *map(str, row)] for name, row in zip(counts.index, counts.values.tolist())]))


# ---- accounts ---------------------------------------------------------------------------------------------------


def _read_password(password_file: Path | None, confirm: bool = True) -> str:
    """The new password: the first line of --password-file, else typed twice without echo at a terminal, else
    the first line of standard input (scripts). Never an option value: it would show in ps and shell history."""
    if password_file is not None:
        try:
            lines = password_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise OrglifeError(f"无法读取密码文件 {password_file}：{getattr(error, 'strerror', None) or error}") from None
        return lines[0] if lines else ""
    if sys.stdin is not None and sys.stdin.isatty():
        return click.prompt("新密码", hide_input=True, confirmation_prompt="再输入一次" if confirm else False,
                            err=True)
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line.rstrip("\r\n")


@cli.group()
def user() -> None:
    """账号管理：添加、改密码、列出、停用（账号存在数据库中，密码以 argon2 散列保存）。"""


PASSWORD_FILE = click.option("--password-file", type=click.Path(dir_okay=False, exists=False, path_type=Path),
                             default=None, help="从文件第一行读取密码（默认在终端输入两次，不回显；或从标准输入读一行）")


@user.command(name="add")
@click.argument("name")
@click.option("--role", type=ChoiceType(["secretary", "superior", "analyst", "admin"]), required=True,
              help="secretary 支部书记 / superior 上级党组织 / analyst 分析人员 / admin 管理员")
@click.option("--branch", "branches", multiple=True, help="支部书记：所管支部编号（可多次给出）")
@click.option("--superior", default=None, help="上级党组织账号：上级党组织名称（与“支部”表的“上级党组织”一致）")
@click.option("--confidential", is_flag=True, help="分析人员：可以读取保密内容（会议记录、批评、测评、评定、意见、小结）")
@PASSWORD_FILE
@click.option("--db", default=None, help=DB_HELP)
def user_add(name, role, branches, superior, confidential, password_file, db) -> None:
    """添加账号。"""
    from .auth import add_account, branches_in_scope
    from .store import Store

    with Store(db) as store:  # like import, the first account may come before any data
        account = add_account(store, name, role, _read_password(password_file), branches=list(branches),
                              superior=superior, confidential=confidential)
        with store.engine.connect() as connection:
            scope = branches_in_scope(connection, account)
    click.echo(f"已添加账号 {account.name}（{account.role.label}；范围：{account.scope_text}）")
    if scope is not None and not scope:
        click.echo(f"注意：目前没有支部的上级党组织是“{account.superior}”，该账号暂时看不到任何支部", err=True)


@user.command(name="passwd")
@click.argument("name")
@PASSWORD_FILE
@click.option("--db", default=None, help=DB_HELP)
def user_passwd(name, password_file, db) -> None:
    """设置账号的新密码。"""
    from .auth import set_password
    from .store import Store, existing_url

    with Store(existing_url(db)) as store:
        set_password(store, name, _read_password(password_file))
    click.echo(f"已更新账号 {name} 的密码")


@user.command(name="list")
@click.option("--db", default=None, help=DB_HELP)
def user_list(db) -> None:
    """列出全部账号（不显示密码）。"""
    from .auth import list_accounts
    from .store import Store, existing_url
    from .textable import render

    with Store(existing_url(db)) as store:
        accounts = list_accounts(store)
    if not accounts:
        click.echo("还没有账号（orglife user add 添加）")
        return
    click.echo(render(["账号", "角色", "范围", "保密内容", "状态"],
                      [[a.name, a.role.label, a.scope_text,
                        "可读" if a.confidential or a.role.value in ("secretary", "superior", "admin") else "不可读",
                        "已停用" if a.disabled else "可用"] for a in accounts]))


@user.command(name="disable")
@click.argument("name")
@click.option("--enable", is_flag=True, help="重新启用已停用的账号")
@click.option("--db", default=None, help=DB_HELP)
def user_disable(name, enable, db) -> None:
    """停用账号（不能再登录；记录保留）。--enable 重新启用。"""
    from .auth import set_disabled
    from .store import Store, existing_url

    with Store(existing_url(db)) as store:
        account = set_disabled(store, name, not enable)
    click.echo(f"账号 {account.name} 已{'停用' if account.disabled else '启用'}")


if __name__ == "__main__":  # pragma: no cover
    main()
