"""Calendar files: whole plans validated, errors pointing at their line, exports re-importable."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.calendar_file import FileError, dump, load, plan_error
from campaigns.plan import PlanError, resolve
from campaigns.ports.calendar import PostRecord

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
