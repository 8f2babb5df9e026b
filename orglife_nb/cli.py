"""The ``orglife`` command: parse arguments, call the package, print. No logic of its own.

Every failure the user can fix ends as one Chinese line on stderr and exit status 2 (no traceback).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from .errors import OrglifeError

DB_HELP = "数据库：SQLAlchemy 地址或 SQLite 文件路径（默认 ORGLIFE_DB，否则 ./orglife.db）"


class DateType(click.ParamType):
    """A date in any of the workbook's text forms (YYYY-MM-DD, YYYY/MM/DD, YYYY年M月D日)."""

    name = "日期"

    def convert(self, value, param, ctx):
        from .models import CellError, parse_date

        if not isinstance(value, str):
            return value
        try:
            return parse_date(value)
        except CellError as error:
            self.fail(f"“{value}” {error}", param, ctx)


DATE = DateType()


def _param_name(param) -> str:
    if param is None:
        return "参数"
    return "/".join(param.opts) if getattr(param, "opts", None) else param.human_readable_name


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
        if out_of_range:
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
def demo(out: Path, db: str | None, branches: int | None, seed: int | None) -> None:
    """用内置演示数据建库，并说明库里有什么。"""
    from . import demo as demo_module

    demo_module.run_demo(out=out, db=db, branches=branches, seed=seed, echo=click.echo)


@cli.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def template(out: Path) -> None:
    """写出空白交换工作簿（表头批注、下拉列表、日期格式）。"""
    from .workbook.template import write_template

    write_template(out)
    click.echo(f"已写出空白工作簿：{out}")


@cli.command(name="import")
@click.argument("workbooks", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--db", default=None, help=DB_HELP)
def import_(workbooks: tuple[Path, ...], db: str | None) -> None:
    """校验并导入工作簿：每个文件整体通过才写入，否则列出全部问题、不写入任何内容。"""
    from .workbook.read import import_files

    ok = import_files(list(workbooks), db=db, echo=click.echo)
    if not ok:
        sys.exit(2)


@cli.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--db", default=None, help=DB_HELP)
@click.option("--branch", "branches", multiple=True, help="只导出这些支部（可多次给出）")
def export(out: Path, db: str | None, branches: tuple[str, ...]) -> None:
    """把数据库内容写回交换工作簿。"""
    from .workbook.write import export_store

    summary = export_store(out, db=db, branches=list(branches) or None)
    click.echo(f"已导出到 {out}：{summary}")


if __name__ == "__main__":  # pragma: no cover
    main()
