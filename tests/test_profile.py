"""Rule profiles: bundled defaults match spec/rules.md, user files override, bad files give one Chinese line."""
from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from orglife_nb.cli import main
from orglife_nb.errors import OrglifeError
from orglife_nb.models import Level, MeetingKind, RatingScheme
from orglife_nb.rules.profile import PROFILE_DIR, Profile, bundled_profiles, load_profile

# spec/rules.md "Profiles and parameters"
RULES_TABLE = {
    "notice_days": 10, "superior_notice_days": 7, "leadership_plan_days": 15, "leadership_public_notice_days": 15,
    "hours_per_day": 8, "study_total_days": 1, "study_concentrated_days": 0.5, "leadership_study_total_days": 3,
    "leadership_study_concentrated_days": 1, "report_days": 10, "leadership_report_days": 15,
    "organ_special_min_hours": 4, "rating_scheme": RatingScheme.four,
    # revision 3
    "public_report_months": 1, "period_grace_days": 31, "leadership_grace_days": 90, "leadership_study_min_days": 2.5,
}


def test_default_profile_has_the_rules_table_values():
    profile = load_profile(None)
    assert profile.name == "default"
    assert {key: getattr(profile, key) for key in RULES_TABLE} == RULES_TABLE
    assert profile.levels("four") == (Level.excellent, Level.qualified, Level.basic, Level.unqualified)
    assert profile.levels("三档") == (Level.good, Level.fair, Level.poor)
    assert profile.levels() == profile.levels(RatingScheme.four)


def test_default_yaml_and_class_defaults_agree():
    assert load_profile("default") == load_profile(None)
    assert load_profile("default").model_dump(exclude={"name", "description"}) == \
        Profile().model_dump(exclude={"name", "description"})


def test_every_number_in_the_default_yaml_cites_its_source():
    for line in (PROFILE_DIR / "default.yaml").read_text(encoding="utf-8").splitlines():
        if re.match(r"^[a-z_]+: *[-\d.]", line) or re.match(r"^\s+(four|three):", line):
            assert "#" in line and re.search(r"(00[03]|惯例|建议)", line), line
    fields = set(Profile.model_fields)
    listed = set(re.findall(r"^([a-z_]+):", (PROFILE_DIR / "default.yaml").read_text(encoding="utf-8"), re.M))
    assert listed == fields


def test_lenient_profile_only_shortens_the_notice():
    lenient, default = load_profile("lenient"), load_profile(None)
    assert lenient.name == "lenient" and lenient.notice_days == 5
    assert lenient.model_dump(exclude={"name", "description", "notice_days"}) == \
        default.model_dump(exclude={"name", "description", "notice_days"})
    assert set(bundled_profiles()) >= {"default", "lenient"}


def test_helpers_pick_the_kind_specific_numbers():
    profile = load_profile(None)
    assert profile.study_requirement("regular") == (1, 0.5)
    assert profile.study_requirement(MeetingKind.special) == (1, 0.5)
    assert profile.study_requirement("民主生活会") == (3, 1)
    assert profile.report_days_for("regular") == 10 and profile.report_days_for("leadership") == 15
    assert profile.plan_days_for("leadership") == 15
    assert profile.hours(0.5) == 4


def test_custom_profile_overrides_only_what_it_lists(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("name: 本地\nnotice_days: 12\nstudy_concentrated_days: 1\nrating_scheme: 三档\n"
                    "regular_period_months: 3\n", encoding="utf-8")
    for given in (path, str(path)):
        profile = load_profile(given)
        assert (profile.name, profile.notice_days, profile.study_concentrated_days) == ("本地", 12, 1.0)
        assert profile.rating_scheme is RatingScheme.three and profile.regular_period_months == 3
        assert profile.report_days == 10  # untouched: default
    (tmp_path / "empty.yaml").write_text("", encoding="utf-8")
    assert load_profile(tmp_path / "empty.yaml").notice_days == 10


def test_profile_is_immutable():
    with pytest.raises(ValidationError):
        load_profile(None).notice_days = 3


@pytest.mark.parametrize("content, expected", [
    ("notice_dayz: 3\n", "未知参数 notice_dayz（是否为 notice_days？）"),
    ("notice_days: -1\n", "notice_days 不能为负数（-1）"),
    ("study_total_days: -0.5\n", "study_total_days 不能为负数（-0.5）"),
    ("notice_days: 十\n", "notice_days 应为整数（'十'）"),
    ("notice_days: 1.5\n", "notice_days 应为整数（1.5）"),
    ("report_days: true\n", "report_days 应为整数（True）"),
    ("hours_per_day: 0\n", "hours_per_day 必须大于 0（0）"),
    ("rating_scheme: five\n", "rating_scheme 不是允许的值（five），应为：four（四档）/three（三档）"),
    ("rating_levels: {four: [优秀, 棒]}\n", "rating_levels.four.1 不是允许的值（棒）"),
    ("regular_period_months: 5\n", "regular_period_months 应能整除 12"),
    ("notice_days: [1\n", "YAML 格式错误（第 2 行第 1 列）"),
    ("- notice_days\n", "内容应为“参数: 值”的映射，而不是列表"),
    ("notice_days: -1\nreport_days: x\n", "notice_days 不能为负数（-1）；另有 1 处问题"),
])
def test_bad_profile_is_one_chinese_line_naming_file_and_key(tmp_path, content, expected):
    path = tmp_path / "my.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(OrglifeError) as info:
        load_profile(path)
    message = str(info.value)
    assert message == f"规则配置 {path}：{expected}" or message.startswith(f"规则配置 {path}：{expected}")
    assert "\n" not in message


def test_missing_and_unreadable_profile(tmp_path):
    with pytest.raises(OrglifeError, match=r"^规则配置 nope\.yaml：文件不存在（内置配置有：default、lenient）$"):
        load_profile("nope.yaml")
    with pytest.raises(OrglifeError, match="无法读取"):
        load_profile(tmp_path)  # a directory
    (tmp_path / "latin.yaml").write_bytes("notice_days: 10 # é".encode("latin-1"))
    with pytest.raises(OrglifeError, match="无法读取（不是 UTF-8 文本）"):
        load_profile(tmp_path / "latin.yaml")


def test_cli_reports_a_bad_profile_in_one_line_and_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("notice_dayz: 3\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["deadlines", "--kind", "regular", "--date", "2026-06-24", "--profile", str(bad)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.strip() == f"错误：规则配置 {bad}：未知参数 notice_dayz（是否为 notice_days？）"


def test_cli_uses_a_bundled_profile_by_name(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["deadlines", "--kind", "regular", "--date", "2026-06-24", "--profile", "lenient"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    assert "宽松配置" in out and re.search(r"2026-06-19 周五\s+会前 5 天", out)
