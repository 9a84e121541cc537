"""`growthbot segments` and the segment columns of `growthbot export members`, in process."""

import datetime as dt
import json

from campaigns.segments import (
    RECENCY_CUTOFFS,
    StageThresholds,
    days_since,
    fixed_score,
    segment_of,
    stage_of,
)
from tests.cli.test_export_csv import AT, LINK, PLAIN, SUM, export  # noqa: F401 - the fixture


def expected_stage() -> str:
    """The members joined at AT and never spoke: their stage depends on today's date."""
    return str(
        stage_of(
            present=True, joined_at=AT, last_active_at=None, now=dt.datetime.now(dt.UTC),
            thresholds=StageThresholds(),
        )
    )  # fmt: skip


def claimer_recency() -> int:
    """LINK claimed a coupon at AT: a claim is activity, so a group without orders scores
    its recency from that day (a small group: the fixed cut-offs), which moves with today."""
    return fixed_score(
        days_since(dt.datetime.now(dt.UTC), AT), RECENCY_CUTOFFS, lower_is_better=True
    )


def test_export_members_has_each_members_stage_rfm_and_tier(export):  # noqa: F811
    rows = {int(r["user_id"]): r for r in export("members")}

    for member in (SUM, PLAIN):
        row = rows[member.user_id]
        assert row["stage"] == expected_stage()
        assert (row["rfm_r"], row["rfm_f"], row["rfm_m"], row["rfm_segment"]) == (
            "1", "1", "1", "lost",
        )  # no activity, no orders: nothing scores above nothing  # fmt: skip
        assert row["tier"] == "Regular"  # by name, as `audience export` writes it
    claimer = rows[LINK.user_id]
    r = claimer_recency()
    assert (claimer["rfm_r"], claimer["rfm_f"], claimer["rfm_segment"]) == (
        str(r), "1", str(segment_of(r, 1, 1)),
    )  # one active day: F is 1  # fmt: skip
    assert claimer["tier"] == "Regular"


def test_segments_prints_the_counts_as_json_and_as_text(export, capsys):  # noqa: F811
    from bot.cli import main
    from tests.cli.test_export_csv import GROUP

    export("members")  # seeds the database
    assert main(["segments", "--chat", str(GROUP.chat_id), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert main(["segments", "--chat", str(GROUP.chat_id)]) == 0
    text = capsys.readouterr().out

    claimer = str(segment_of(claimer_recency(), 1, 1))
    expected_rfm = {"lost": 2} | {claimer: 1} if claimer != "lost" else {"lost": 3}
    assert report["stages"]["now"] == {expected_stage(): 3}
    assert report["rfm_by"] == "activity" and report["rfm"]["now"] == expected_rfm
    assert report["tiers"]["now"] == {"Regular": 3}  # by name, as /segments shows it
    assert report["thresholds"]["dormant_days"] == 30
    assert "Segments of Store" in text and "<b>" not in text


def test_export_members_lists_each_members_tags(export, database_url):  # noqa: F811
    import asyncio

    from campaigns.tags import TagSource
    from storage.engine import create_engine, session_factory
    from storage.uow import SqlUnitOfWork
    from tests.cli.test_export_csv import GROUP

    export("members")  # seeds the database

    async def tag() -> None:
        engine = create_engine(database_url)
        async with SqlUnitOfWork(session_factory(engine)) as uow:
            chat = await uow.chats.get(GROUP.chat_id)
            assert chat is not None
            at = dt.datetime.now(dt.UTC)
            for name in ("vip-prospect", "bought:tea"):
                await uow.tags.add(
                    chat.pk, SUM.user_id, [name], source=TagSource.ADMIN, by=1, at=at
                )
            await uow.commit()
        await engine.dispose()

    asyncio.run(tag())
    rows = {int(r["user_id"]): r for r in export("members")}

    assert rows[SUM.user_id]["tags"] == "bought:tea vip-prospect"
    assert rows[LINK.user_id]["tags"] == ""


def test_segments_rebuild_counts_the_summaries_from_the_log_then_reports(export, capsys):  # noqa: F811
    from bot.cli import main
    from tests.cli.test_export_csv import GROUP

    export("members")
    assert main(["segments", "--chat", str(GROUP.chat_id), "--json"]) == 0
    before = json.loads(capsys.readouterr().out)

    assert main(["segments", "--chat", str(GROUP.chat_id), "--json", "--rebuild"]) == 0

    captured = capsys.readouterr()
    assert json.loads(captured.out)["stages"]["now"] == before["stages"]["now"]
    assert json.loads(captured.out)["rfm"]["now"] == before["rfm"]["now"]
    assert "rebuilt from the log: 0 member summaries corrected" in captured.err
