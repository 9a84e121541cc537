"""`growthbot demo`: small communities are refused with the minimum; the minimum plays."""

from __future__ import annotations

import re

import pytest

from bot.cli import main


@pytest.mark.parametrize("members", ["5", "10", "11"])
def test_too_few_members_are_refused_with_the_minimum(members: str, capsys):
    code = main(["demo", "--members", members])

    err = capsys.readouterr().err
    assert code == 2
    assert f"demo --members {members}: the story needs at least 12 members" in err
    assert "Traceback" not in err


def test_too_few_days_are_refused_with_the_minimum(capsys):
    code = main(["demo", "--members", "12", "--days", "2"])

    assert code == 2
    assert "demo --days 2: members join over the first 3 days" in capsys.readouterr().err


def test_the_smallest_community_plays_the_whole_story(capsys):
    code = main(["demo", "--members", "12", "--days", "3"])

    out = capsys.readouterr().out
    assert code == 0
    assert "four members tap" in out and "spec violations: 0" in out
    assert "积分兑换" in out and "taps Redeem" in out  # the points shop scene
    assert "— then 4 charts: " in out  # /stats' album, each chart counted
    # the saved audience's broadcast reaches everyone its preview counted, sent a week later
    counted = re.search(r"将发给 (\d+) 位已启动我的成员（对象：@quiet）", out)
    assert counted is not None and int(counted[1]) > 0
    assert f"— the win-back message reached {counted[1]} quiet members privately" in out
