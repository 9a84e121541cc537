"""Calendar files: whole plans validated, errors pointing at their line, exports re-importable."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.calendar_file import FileError, content_problem, dump, load, plan_error, plan_problem
from campaigns.content import ContentProblem, ContentRefused
from campaigns.plan import PlanError, PlanProblem, resolve
from campaigns.ports.calendar import PostRecord
from campaigns.schedule import ScheduleError, WhenError

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
PLAN = """\
campaign: 双11
start: 2026-12-01 09:00
phases:
  - name: 预热 warm-up
    posts:
      - day: 0
        text: "<b>预热</b>开始"
        pin: true
      - day: 2
        time: "20:00"
        text: 领券
        buttons: [{text: 🎟 领券, coupon: 1}]
  - name: 爆发 peak
    posts:
      - cron: daily 21:00
        text: 每晚秒杀
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_plan_resolves_offsets_in_the_group_timezone(tmp_path: Path):
    [(plan, _root)] = load(write(tmp_path, PLAN))

    posts = resolve(plan, "Asia/Shanghai", NOW)

    assert [(phase, w.at) for phase, w, _ in posts[:2]] == [
        ("预热 warm-up", dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)),
        ("预热 warm-up", dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)),
    ]
    assert posts[0][2].pin and posts[1][2].buttons[0].coupon == 1
    assert posts[2][1].cron == "0 21 * * *"


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (("      - day: 2\n", "      - day: 2\n        at: 2026-12-05 10:00\n"),
         "plan.yaml:9:9: phases[0].posts[1]: give exactly one of day, at or cron"),
        (('text: "<b>预热</b>开始"', 'text: "<b>预热开始"'),
         "plan.yaml:6:9: phases[0].posts[0]: HTML Telegram would refuse"),
        (("cron: daily 21:00", "cron: daily 25:00"),
         "plan.yaml:15:15: phases[1].posts[0].cron:"),
        (("start: 2026-12-01 09:00", "start: 2020-12-01 09:00"),
         "plan.yaml:6:14: phases[0].posts[0].day: 2020-12-01 09:00 is already in the past"),
        (("    posts:\n      - day: 0", "    postz:\n      - day: 0"),
         "plan.yaml:4:5: phases[0].posts: Field required"),
        (("phases:", "phases: ["), "plan.yaml:"),
    ],
)  # fmt: skip
def test_errors_name_the_line_and_the_field(tmp_path: Path, change, says):
    path = write(tmp_path, PLAN.replace(*change))

    with pytest.raises(FileError) as caught:
        for plan, root in load(path):
            try:
                resolve(plan, "Asia/Shanghai", NOW)
            except PlanError as error:
                raise plan_error(path, root, error) from None

    assert str(caught.value).removeprefix(str(tmp_path) + "/").startswith(says)


def test_an_export_reads_back_as_the_same_posts(tmp_path: Path):
    [(plan, _)] = load(write(tmp_path, PLAN))
    records = [
        PostRecord(i, 1, -100, content, when, "active", when.next_after(NOW), None, "双11", phase)
        for i, (phase, when, content) in enumerate(resolve(plan, "Asia/Shanghai", NOW), 1)
    ]

    [(again, _)] = load(write(tmp_path, dump(records, -100)))
    reread = resolve(again, "Asia/Shanghai", NOW)

    assert again.campaign == "双11" and again.chat == -100
    assert [(p, w, c) for p, w, c in reread] == [
        (p, w, c) for p, w, c in resolve(plan, "Asia/Shanghai", NOW)
    ]


@pytest.mark.parametrize("problem", list(PlanProblem))
def test_every_plan_problem_is_said_from_its_code(problem: PlanProblem):
    cause = {
        PlanProblem.SCHEDULE: ScheduleError(WhenError.BAD_TIME, "25:00"),
        PlanProblem.CONTENT: ContentRefused(ContentProblem.TEXT_EMPTY, low=1, limit=4096),
    }.get(problem)

    said = plan_problem(PlanError(("phases", 0), problem, "2020-01-01 09:00", cause))

    assert " " in said and said not in {str(problem), "the post can't be scheduled"}


@pytest.mark.parametrize(
    ("problem", "says"),
    [
        (ContentProblem.BUTTON_TARGET, "a button needs exactly one of url, coupon or groupbuy"),
        (ContentProblem.BAD_BUTTON_URL, "a button's url must start with https://, http:// or"),
        (ContentProblem.TEXT_TOO_LONG, "the text has 0 characters; 0 to 0 allowed"),
    ],
)
def test_content_problems_in_a_file_are_said_as_before(problem, says):
    assert (content_problem(ContentRefused(problem)) or "").startswith(says)
