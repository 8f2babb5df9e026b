"""The demo generator, the compliant baseline and the mutation table (orglife_nb.demo, orglife_nb.mutations)."""
from __future__ import annotations

import datetime as dt
import itertools

import pandas as pd
import pytest

from orglife_nb import demo
from orglife_nb.demo import DEMO_AS_OF
from orglife_nb.cli import main
from orglife_nb.models import (GROUP, RECORDS, SUPERIOR, BRANCH_LEADERSHIP, Attendance, Ballot, Branch, Criticism,
                               Material, Meeting, Member, Opinion, Rating, Rectification, Response, Talk, Tenure,
                               UnitType, fields_of)
from orglife_nb.mutations import MUTATIONS, NotApplicable, apply_mutation
from orglife_nb.store import Store

B = demo.BASELINE_MEETINGS


@pytest.fixture(scope="module")
def default_demo():
    return demo.generate()


def _same(a: dict, b: dict) -> bool:
    return all(a[r].equals(b[r]) for r in RECORDS)


# ---- generator ------------------------------------------------------------------------------------------------


def test_generation_is_deterministic(default_demo):
    assert _same(default_demo, demo.generate())
    assert _same(demo.generate(branches=25, seed=7), demo.generate(branches=25, seed=7))
    assert not demo.generate(branches=25, seed=7)[Member].equals(demo.generate(branches=25, seed=8)[Member])


def test_chunking_does_not_change_the_data():
    whole = demo.generate(branches=30)
    parts = [batch for _, batch in demo.iter_batches(30, chunk=7)]
    for record in RECORDS:
        joined = pd.concat([p[record] for p in parts], ignore_index=True)
        assert joined.equals(whole[record]), record.sheet


def test_default_demo_meets_the_stated_minimums(default_demo):
    branches, meetings = default_demo[Branch], default_demo[Meeting]
    assert len(branches) >= 12
    assert {"organ", "community", "enterprise", "school", "institution", "service", "enforcement"} <= \
        set(branches.unit_type)
    assert set(branches.has_committee) == {True, False}
    assert branches.has_leadership_group.sum() >= 2
    assert all(len(default_demo[r]) for r in RECORDS)
    assert set(meetings.year) == {2025, 2026}
    assert set(meetings.kind) == {"regular", "special", "leadership"}
    sizes = default_demo[Member].groupby("branch_id").size()
    assert sizes.min() >= 5 and sizes.max() <= 20
    assert set(meetings.rating_scheme.dropna()) == {"four", "three"}
    # each branch's names are unique; ids are readable
    assert not default_demo[Member].duplicated(["branch_id", "name"]).any()
    assert branches.branch_id.tolist()[:3] == ["B001", "B002", "B003"]
    # meetings after the demo's today are in preparation: nothing of the meeting day yet
    future = meetings[meetings.date > demo.DEMO_AS_OF]
    assert len(future) and future.minutes_kept.isna().all()
    assert not default_demo[Attendance].meeting_id.isin(future.meeting_id).any()


def test_every_rule_is_planted_and_compliant_branches_are_clean():
    planted = demo.planted()
    assert {p.rule for p in planted} == set(MUTATIONS)
    assert not {p.branch_id for p in planted} & set(demo.COMPLIANT_BRANCHES)
    assert len(demo.COMPLIANT_BRANCHES) >= 3
    ids = set(demo.generate()[Member].member_id)
    assert all(p.subject is None or p.subject in ids for p in planted)


def test_planting_at_scale_is_a_low_rate():
    planted = demo.planted(branches=200)
    hit = {p.branch_id for p in planted}
    assert 0.1 < len(hit) / 200 < 0.5


def _check_rows_validate(batch: dict, every: int = 1) -> None:
    for record in RECORDS:
        frame = batch[record]
        assert list(frame.columns) == [f.name for f in fields_of(record)]
        for row in frame.iloc[::every].to_dict("records"):
            record.model_validate(row)


def test_every_row_validates_with_its_model(default_demo):
    _check_rows_validate(default_demo)
    _check_rows_validate(demo.generate(branches=40, seed=3), every=7)


def _check_references(batch: dict) -> None:
    branches = set(batch[Branch].branch_id)
    members = dict(zip(batch[Member].member_id, batch[Member].branch_id))
    meetings = dict(zip(batch[Meeting].meeting_id, batch[Meeting].branch_id))
    assert batch[Member].member_id.is_unique and batch[Meeting].meeting_id.is_unique
    assert batch[Rectification].item_id.is_unique
    assert set(members.values()) <= branches and set(meetings.values()) <= branches
    secretaries = batch[Member][batch[Member].role == "secretary"].groupby("branch_id").size()
    assert (secretaries == 1).all() and len(secretaries) == len(branches)

    def same_branch(record, column, allowed=()):
        frame = batch[record]
        for meeting_id, value in zip(frame.meeting_id, frame[column]):
            if value is None or value in allowed:
                continue
            assert members[value] == meetings[meeting_id], (record.sheet, column, meeting_id, value)

    for record in RECORDS[3:]:
        if record.parent == "meeting_id":  # (任职 rows hang on a member)
            assert set(batch[record].meeting_id) <= set(meetings), record.sheet
    same_branch(Meeting, "host_id")
    same_branch(Opinion, "target", (BRANCH_LEADERSHIP,))
    same_branch(Talk, "talker", (SUPERIOR,))
    same_branch(Talk, "talkee", (SUPERIOR,))
    same_branch(Criticism, "target", (GROUP,))
    same_branch(Ballot, "rated_id", (GROUP,))
    for record, column in ((Material, "member_id"), (Attendance, "member_id"), (Criticism, "speaker"),
                           (Response, "responder"), (Rating, "member_id"),
                           (Rating, "helper"), (Rectification, "owner")):
        same_branch(record, column)


def test_references_are_consistent(default_demo):
    _check_references(default_demo)
    _check_references(demo.generate(branches=60, seed=11))


def test_ballots_are_anonymous_and_within_the_scheme(default_demo):
    ballots = default_demo[Ballot].merge(default_demo[Meeting][["meeting_id", "rating_scheme"]], on="meeting_id")
    four = {"excellent", "qualified", "basic", "unqualified"}
    assert ballots[ballots.rating_scheme == "four"].level.isin(four).all()
    assert ballots[ballots.rating_scheme == "three"].level.isin({"good", "fair", "poor"}).all()
    assert not ballots.duplicated(["meeting_id", "ballot_no", "rated_id"]).any()


# ---- baseline -------------------------------------------------------------------------------------------------


def test_baseline_shape():
    batch = demo.baseline_batch()
    assert all(len(batch[r]) for r in RECORDS if r is not Tenure)  # no 任职: 党员.职务 is every meeting's role
    assert batch[Tenure].empty
    meetings = batch[Meeting].set_index("meeting_id")
    assert set(meetings.index) == set(B.values())
    assert meetings.loc[B["regular_h2"], "with_evaluation"] and meetings.loc[B["regular_h2"], "rating_scheme"] == "four"
    assert meetings.loc[B["special"], "hours"] >= 4 and not meetings.loc[B["leadership"], "merged"]
    for column in ("report_sent", "rectification_published", "public_report_date"):
        assert (meetings[column].dropna() <= demo.BASELINE_AS_OF).all()
    rect = batch[Rectification]
    assert ((rect.status == "closed") | (rect.deadline > demo.BASELINE_AS_OF)).all()
    ratings = set(batch[Rating].member_id)
    roles = demo.BASELINE_ROLES
    assert roles["probationary"] not in ratings and roles["exempt_cadre"] not in ratings
    assert roles["excellent"] in ratings
    leave = batch[Attendance][batch[Attendance].presence == "leave"]
    assert set(leave.member_id) == {roles["absentee"]} and leave.reason.notna().all() and leave.read_out.all()
    stages = batch[Criticism][batch[Criticism].meeting_id == B["regular_h1"]].sort_values("seq")
    assert stages.stage.iloc[0] == "committee" and stages.stage.iloc[-1] == "assembly"
    # the 支委会 opens with the secretary's 对照检查 on the 班子's behalf (rev 3), then the secretary's own
    assert (stages.target.iloc[0], stages.speaker.iloc[0], stages.act.iloc[0]) == (GROUP, roles["secretary"], "report")
    assert stages.target.iloc[1] == roles["secretary"] and stages.act.iloc[1] == "self_criticism"


def _talk_pairs(batch, meeting_id):
    talks = batch[Talk][batch[Talk].meeting_id == meeting_id]
    return {frozenset(p) for p in zip(talks.talker, talks.talkee)}


def test_baseline_talk_coverage():
    batch = demo.baseline_batch()
    pairs = _talk_pairs(batch, B["regular_h1"])
    members = batch[Member].member_id.tolist()
    secretary, committee = members[0], members[:3]
    assert {frozenset((secretary, m)) for m in members[1:]} <= pairs
    assert {frozenset(p) for p in itertools.combinations(committee, 2)} <= pairs
    assert frozenset((SUPERIOR, secretary)) in pairs


def test_baseline_without_committee():
    batch = demo.baseline_batch(has_committee=False)
    assert not batch[Branch].has_committee.iloc[0]
    assert set(batch[Member].role) == {"secretary", "member"}
    assert "committee" not in set(batch[Criticism].stage)
    regular = batch[Material][batch[Material].meeting_id == B["regular_h1"]]
    assert regular.member_id.tolist() == ["B001-01"]
    pairs = _talk_pairs(batch, B["regular_h1"])
    assert all("B001-01" in p or SUPERIOR in p for p in pairs)


def test_baseline_community_and_without_leadership():
    community = demo.baseline_batch(unit_type="community")[Meeting]
    assert (community.problem_list_published < community.date).all()
    plain = demo.baseline_batch(leadership_group=False)
    assert B["leadership"] not in set(plain[Meeting].meeting_id)
    full = plain[Member][plain[Member].status == "full"].member_id
    assert set(plain[Rating].member_id) == set(full)


def test_baseline_is_clean_for_the_rule_engine():
    from orglife_nb import rules
    from orglife_nb.frames import from_batch

    for variant in ({}, {"has_committee": False}, {"unit_type": "community"}, {"leadership_group": False}):
        findings = rules.run_checks(from_batch(demo.baseline_batch(**variant)), as_of=demo.BASELINE_AS_OF)
        assert findings.empty, (variant, findings[["rule", "meeting_id", "message"]].to_string())


# ---- mutations --------------------------------------------------------------------------------------------------


def test_one_mutation_per_rule():
    from orglife_nb import rules
    assert set(MUTATIONS) == {r.id for r in rules.RULES}
    for rule, mutation in MUTATIONS.items():
        assert mutation.rule == rule and mutation.description
        assert (mutation.meeting is None) == rule.startswith("FREQ-")
        assert mutation.meeting is None or mutation.meeting in B


@pytest.mark.parametrize("rule", sorted(MUTATIONS))
def test_each_mutation_changes_the_batch(rule):
    base = demo.baseline_batch()
    mutated, subject = apply_mutation(base, rule)
    assert _same(base, demo.baseline_batch())  # the original is untouched
    assert not _same(base, mutated)
    assert subject is None or subject in set(base[Member].member_id)
    _check_rows_validate(mutated)


def _renamed(batch: dict, branch_id: str) -> dict:
    """The batch with every id moved from B001 to ``branch_id`` (ids all start with the branch id)."""
    def move(value):
        return branch_id + value[4:] if isinstance(value, str) and value.startswith("B001") else value

    return {record: frame.map(move) for record, frame in batch.items()}


VARIANTS = [({}, set()),
            ({"has_committee": False}, {"MEET-CRITICISM", "PREP-GROUP-OPINIONS-REPORTED", "EVAL-GROUP-BALLOT"}),
            ({"unit_type": "community"}, {"MEET-DURATION"}),
            ({"leadership_group": False}, {"PREP-PLAN-DEADLINE", "PREP-PUBLIC-NOTICE", "MEET-SEPARATE",
                                           "POST-PUBLIC-REPORT", "FREQ-LEADERSHIP-YEAR",
                                           # no 班子 and no 领导干部 in that branch
                                           "MEET-GROUP-CHECK", "PREP-LEADER-OPINIONS"})]


@pytest.mark.parametrize("variant, not_applicable", VARIANTS, ids=["default", "no-committee", "community",
                                                                   "no-leadership"])
def test_mutations_break_exactly_their_rule(variant, not_applicable):
    """All mutations at once, one renamed copy of the baseline each: one run of the checks (fast)."""
    from orglife_nb import rules
    from orglife_nb.frames import from_batch

    base, parts, expected, skipped = demo.baseline_batch(**variant), [], set(), set()
    for number, (rule, mutation) in enumerate(MUTATIONS.items(), start=101):
        branch_id = f"B{number}"
        try:
            mutated, subject = apply_mutation(base, rule)
        except NotApplicable:
            skipped.add(rule)
            continue
        parts.append(_renamed(mutated, branch_id))
        meeting = B.get(mutation.meeting)
        expected.add((branch_id, rule, meeting and branch_id + meeting[4:], subject and branch_id + subject[4:]))
    assert skipped == not_applicable
    batch = {record: pd.concat([p[record] for p in parts], ignore_index=True) for record in RECORDS}
    found = rules.run_checks(from_batch(batch), as_of=demo.BASELINE_AS_OF)
    got = [(f.branch_id, f.rule, f.meeting_id, f.subject) for f in found.itertuples()]
    assert len(got) == len(set(got)) and set(got) == expected


@pytest.mark.parametrize("branches", [None, 150])
def test_planted_problems_are_what_the_checks_find(branches):
    from orglife_nb import rules
    from orglife_nb.frames import from_batch

    frames = from_batch(demo.generate(branches))
    planted = demo.planted(branches)
    for year in (2025, 2026):
        found = rules.run_checks(frames, as_of=demo.DEMO_AS_OF, year=year)
        found = found[found.severity != "info"]
        got = {(f.branch_id, f.rule, f.meeting_id, f.subject) for f in found.itertuples()}
        expected = {(p.branch_id, p.rule, p.meeting_id, p.subject) for p in planted if p.year in (None, year)}
        assert got == expected
        if branches is None:
            assert not set(found.branch_id) & set(demo.COMPLIANT_BRANCHES)


# ---- store and command ----------------------------------------------------------------------------------------


def test_generated_branches_save_on_both_backends(db_url):
    with Store(db_url) as store:
        written = demo.save_demo(store, branches=50, chunk=20)
        counts = store.counts()
        batch = demo.generate(branches=50)
        assert written == sum(counts.values()) == sum(len(f) for f in batch.values())
        assert counts[Branch] == 50
        # saving the same data again changes nothing
        assert store.save(batch).changed == 0


def test_demo_command(tmp_path, capsys):
    out = tmp_path / "demo-out"
    printed = {}
    for reports in (True, False):  # a second run starts from a fresh store
        with pytest.raises(SystemExit) as exit_info:
            main(["demo", "--out", str(out)] + ([] if reports else ["--no-reports"]))
        assert exit_info.value.code == 0
        text = printed[reports] = capsys.readouterr().out
        assert (out / "demo.db").exists()
        assert "演示数据库" in text and "支部 14" in text and UnitType.organ.label in text and "民主生活会" in text
        # which day the printed counts are as of, and how to get the same from orglife check (issue 28.8)
        assert f"检查结果（截至 {DEMO_AS_OF.isoformat()}）" in text
        assert f"今天（{dt.date.today().isoformat()}）为检查日期" in text and f"--as-of {DEMO_AS_OF.isoformat()}" in text
        with Store(out / "demo.db") as store:
            assert store.counts()[Branch] == 14
    # the first run wrote one report per branch, the summary and the index whose path it printed
    assert f"报告索引页：{(out / 'index.html').resolve()}" in printed[True]
    assert "报告索引页" not in printed[False]
    assert len(list((out / "branches").glob("*.html"))) == 14
    assert (out / "summary.html").exists()


def test_demo_command_into_a_given_database(tmp_path, capsys):
    target = tmp_path / "given.db"
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--out", str(tmp_path / "o"), "--db", str(target), "--branches", "3", "--seed", "5",
              "--no-reports"])
    assert exit_info.value.code == 0
    assert "支部 3" in capsys.readouterr().out
    with Store(target) as store:
        assert store.counts()[Branch] == 3


def test_dates_fall_in_their_half_year(default_demo):
    meetings = default_demo[Meeting]
    first = meetings[meetings.half == "first"]
    assert all(d <= dt.date(d.year, 6, 30) for d in first.date)
    assert all(d >= dt.date(d.year, 7, 1) for d in meetings[meetings.half == "second"].date)
