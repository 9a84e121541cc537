"""Tags and saved audiences on SQLite and PostgreSQL: rule tags from orders once, admin tags
only on the group's own members, audiences saved, shown, listed and deleted per group."""

import datetime as dt

import pytest
from sqlalchemy import update

from campaigns.audience_expr import AudienceExprError, AudienceProblem
from campaigns.audiences import AudienceRefusal, AudienceRefused
from campaigns.members import ChatInfo, Person
from campaigns.orders import OrderIn
from campaigns.services import audiences, orders, tags
from campaigns.services.tags import TagRefusal, TagRefused
from campaigns.settings import ChatSettings
from campaigns.tags import TagError, TagSource
from campaigns.tiers import DEFAULT_LADDER
from storage.models import ChatRow, MembershipRow

SHOP = ChatInfo(chat_id=-1009876543301, type="supergroup", title="Shop")
OTHER = ChatInfo(chat_id=-1009876543302, type="supergroup", title="Other")
AT = dt.datetime(2026, 11, 16, 4, 0, tzinfo=dt.UTC)
ANN, BOB, CY, ADMIN = 21, 22, 23, 99


async def groups(uow_factory) -> None:
    """Ann, Bob and Cy in the shop (all reachable); only Cy in the other group."""
    async with uow_factory() as uow:
        shop = await uow.chats.register(SHOP, active=True, bot_status=None, defaults=ChatSettings())
        other = await uow.chats.register(
            OTHER, active=True, bot_status=None, defaults=ChatSettings()
        )
        await uow.users.upsert([Person(ANN, "Ann"), Person(BOB, "Bob"), Person(CY, "Cy")])
        for uid in (ANN, BOB, CY):
            await uow.members.create(shop.pk, uid, status="member", present=True, at=AT)
            await uow.users.set_reachable(uid, True)
        await uow.members.create(other.pk, CY, status="member", present=True, at=AT)
        await uow.commit()


async def pk(uow_factory, chat: ChatInfo) -> int:
    async with uow_factory() as uow:
        return (await uow.chats.get(chat.chat_id)).pk


async def tags_of(uow_factory, chat: ChatInfo, user_id: int) -> list[tuple[str, TagSource]]:
    try:
        _, found = await tags.member_tags(uow_factory(), chat_id=chat.chat_id, user_id=user_id)
    except TagRefused:  # not a member there: none to see
        return []
    return [(t.tag, t.source) for t in found]


async def test_an_orders_items_and_category_tag_the_buyer_once_however_often_replayed(
    uow_factory,
):
    await groups(uow_factory)
    first = OrderIn.model_validate(
        {"external_id": "T-1", "member": ANN, "amount": "30", "at": AT,
         "items": ["Green Tea", "茶具"], "category": "Tea"}
    )  # fmt: skip
    again = first.model_copy(update={"external_id": "T-2"})

    for order in (first, first, again):
        await orders.record_order(
            uow_factory(), order, chat_id=SHOP.chat_id, source="t", received_at=AT
        )

    assert await tags_of(uow_factory, SHOP, ANN) == [
        ("bought:green-tea", TagSource.RULE),
        ("bought:茶具", TagSource.RULE),
        ("category:tea", TagSource.RULE),
    ]
    assert await tags_of(uow_factory, OTHER, ANN) == []


async def test_an_admin_tags_and_untags_a_member_and_tagging_twice_changes_nothing(uow_factory):
    await groups(uow_factory)

    first = await tags.tag_member(
        uow_factory(), chat_id=SHOP.chat_id, user_id=BOB, tag="VIP-Prospect", by=ADMIN, now=AT
    )
    twice = await tags.tag_member(
        uow_factory(), chat_id=SHOP.chat_id, user_id=BOB, tag="vip-prospect", by=ADMIN, now=AT
    )
    chinese = await tags.tag_member(
        uow_factory(), chat_id=SHOP.chat_id, user_id=BOB, tag="茶友", by=ADMIN, now=AT
    )
    removed = await tags.untag_member(
        uow_factory(), chat_id=SHOP.chat_id, user_id=BOB, tag="茶友", now=AT
    )
    missing = await tags.untag_member(
        uow_factory(), chat_id=SHOP.chat_id, user_id=BOB, tag="茶友", now=AT
    )

    assert (first.tag, first.changed, twice.changed) == ("vip-prospect", True, False)
    assert (chinese.changed, removed.changed, missing.changed) == (True, True, False)
    assert await tags_of(uow_factory, SHOP, BOB) == [("vip-prospect", TagSource.ADMIN)]


async def test_a_tag_for_someone_not_in_the_group_or_a_bad_name_changes_nothing(uow_factory):
    await groups(uow_factory)

    with pytest.raises(TagRefused) as stranger:
        await tags.tag_member(
            uow_factory(), chat_id=OTHER.chat_id, user_id=ANN, tag="vip", by=ADMIN, now=AT
        )
    for bad in ("a b", "x" * 33, "", "<b>", "vip\u200b"):
        with pytest.raises(TagError):
            await tags.tag_member(
                uow_factory(), chat_id=SHOP.chat_id, user_id=ANN, tag=bad, by=ADMIN, now=AT
            )

    assert stranger.value.reason is TagRefusal.NOT_A_MEMBER
    assert await tags_of(uow_factory, OTHER, ANN) == []
    assert await tags_of(uow_factory, SHOP, ANN) == []


async def test_a_saved_audience_previews_lists_shows_and_deletes_within_its_group(uow_factory):
    await groups(uow_factory)
    await tags.tag_member(
        uow_factory(), chat_id=SHOP.chat_id, user_id=CY, tag="vip", by=ADMIN, now=AT
    )

    preview, new = await audiences.save_audience(
        uow_factory(), chat_id=SHOP.chat_id, name="Winback", rule="tag=vip 或 points>=0",
        by=ADMIN, now=AT,
    )  # fmt: skip
    _, replaced = await audiences.save_audience(
        uow_factory(), chat_id=SHOP.chat_id, name="vips", rule="tag=VIP", by=ADMIN, now=AT
    )
    _, again = await audiences.save_audience(
        uow_factory(), chat_id=SHOP.chat_id, name="vips", rule="tag=vip", by=ADMIN, now=AT
    )
    shown = await audiences.show_audience(uow_factory(), chat_id=SHOP.chat_id, name="vips", now=AT)
    listed = await audiences.list_audiences(uow_factory(), chat_id=SHOP.chat_id)
    with pytest.raises(AudienceRefused) as elsewhere:
        await audiences.show_audience(uow_factory(), chat_id=OTHER.chat_id, name="vips", now=AT)
    await audiences.delete_audience(uow_factory(), chat_id=SHOP.chat_id, name="winback", now=AT)

    assert (preview.name, preview.rule, preview.count) == ("winback", "tag=vip or points>=0", 3)
    assert preview.sample == ["Ann", "Bob", "Cy"]
    assert (new, replaced, again) == (True, True, False)
    assert (shown.count, shown.sample, shown.rule) == (1, ["Cy"], "tag=vip")
    assert [a.name for a in listed] == ["vips", "winback"]
    assert elsewhere.value.reason is AudienceRefusal.UNKNOWN
    remaining = await audiences.list_audiences(uow_factory(), chat_id=SHOP.chat_id)
    assert [a.name for a in remaining] == ["vips"]
    assert await audiences.list_audiences(uow_factory(), chat_id=OTHER.chat_id) == []


async def test_tier_names_resolve_through_the_groups_ladder_or_the_default_one(uow_factory):
    await groups(uow_factory)
    shop_pk = await pk(uow_factory, SHOP)
    async with uow_factory() as uow:
        await uow.session.execute(
            update(MembershipRow)
            .where(MembershipRow.chat_id == shop_pk, MembershipRow.user_id == BOB)
            .values(tier=2)
        )
        await uow.commit()

    default = await audiences.save_audience(
        uow_factory(), chat_id=SHOP.chat_id, name="top", rule="tier>=高级", by=ADMIN, now=AT
    )
    with pytest.raises(AudienceExprError) as unknown:
        await audiences.save_audience(
            uow_factory(), chat_id=SHOP.chat_id, name="gold", rule="tier=Gold", by=ADMIN, now=AT
        )
    ladder = DEFAULT_LADDER.model_copy(
        update={"tiers": (DEFAULT_LADDER.tiers[0], DEFAULT_LADDER.tiers[1].model_copy(
            update={"name": "Silver"}), DEFAULT_LADDER.tiers[2].model_copy(
            update={"name": "Gold"}))}
    )  # fmt: skip
    async with uow_factory() as uow:
        await uow.session.execute(
            update(ChatRow).where(ChatRow.id == shop_pk).values(tiers=ladder.model_dump())
        )
        await uow.commit()
    gold = await audiences.save_audience(
        uow_factory(), chat_id=SHOP.chat_id, name="gold", rule="tier=gold", by=ADMIN, now=AT
    )
    with pytest.raises(AudienceExprError):  # the saved rule names a tier there is no more
        await audiences.show_audience(uow_factory(), chat_id=SHOP.chat_id, name="top", now=AT)

    assert (default[0].count, default[0].sample) == (1, ["Bob"])
    assert unknown.value.problem is AudienceProblem.UNKNOWN_TIER
    assert (gold[0].rule, gold[0].sample) == ("tier=gold", ["Bob"])


async def test_a_bad_rule_or_name_saves_nothing(uow_factory):
    await groups(uow_factory)

    for name, rule in [("ok", "stage=sleepy"), ("ok", "(tag=x"), ("bad name!", "all"),
                       ("x" * 40, "all"), ("ok", "spend>=1" + "0" * 20)]:  # fmt: skip
        with pytest.raises((AudienceExprError, AudienceRefused)):
            await audiences.save_audience(
                uow_factory(), chat_id=SHOP.chat_id, name=name, rule=rule, by=ADMIN, now=AT
            )

    assert await audiences.list_audiences(uow_factory(), chat_id=SHOP.chat_id) == []
