"""The double's moderation methods keep Telegram's rules: who may delete, restrict and ban
whom, what until_date means, and what getChatMember says afterwards (checked against the
spec), so the handler tests of anti-spam and warnings prove something."""

import datetime as dt

import pytest

from bot.double import FakeTelegram
from bot.double.world import BOT_ID, NO_RESTRICT_RIGHTS

GROUP, BASIC = -1001, -2002
OWNER, ADMIN, MEMBER, OTHER = 7, 8, 9, 10
NOW = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)
KINDS = {
    "creator": "ChatMemberOwner",
    "administrator": "ChatMemberAdministrator",
    "member": "ChatMemberMember",
    "restricted": "ChatMemberRestricted",
    "left": "ChatMemberLeft",
    "kicked": "ChatMemberBanned",
}


class Clock:
    def __init__(self) -> None:
        self.at = NOW

    def __call__(self) -> dt.datetime:
        return self.at


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def world(clock: Clock) -> FakeTelegram:
    world = FakeTelegram(clock=clock)
    for uid, name in ((OWNER, "Olga"), (ADMIN, "Adam"), (MEMBER, "Mia"), (OTHER, "Otto")):
        world.add_user(uid, name)
    world.add_group(GROUP, "Club", owner=OWNER)
    world.add_group(BASIC, "Small club", type="group", owner=OWNER)
    for chat in (GROUP, BASIC):
        world.set_status(chat, ADMIN, "administrator")
        world.set_status(chat, MEMBER, "member")
        world.add_bot(chat, by=OWNER)
    return world


def stamp(at: dt.datetime) -> int:
    return int(at.timestamp())


def member(world: FakeTelegram, user: int, chat: int = GROUP) -> dict:
    """getChatMember, checked against the spec's type for its status."""
    status, body = world.call("getChatMember", {"chat_id": chat, "user_id": user})
    assert status == 200
    result = body["result"]
    assert world.spec.validate_object(KINDS[result["status"]], result) == []
    return result


def error(answer: tuple[int, dict]) -> tuple[int, str]:
    return answer[0], answer[1].get("description", "")


def mute(world: FakeTelegram, user: int, until: dt.datetime | None = None, chat: int = GROUP):
    params: dict = {"chat_id": chat, "user_id": user, "permissions": {"can_send_messages": False}}
    if until is not None:
        params["until_date"] = stamp(until)
    return world.call("restrictChatMember", params)


def test_a_restricted_member_shows_as_restricted_until_the_date_passes(world, clock):
    status, _ = mute(world, MEMBER, NOW + dt.timedelta(hours=1))

    shown = member(world, MEMBER)
    clock.at = NOW + dt.timedelta(hours=1, seconds=1)

    assert status == 200 and world.problems() == []
    assert shown["status"] == "restricted" and shown["is_member"] is True
    assert shown["can_send_messages"] is False and shown["can_send_photos"] is False
    assert shown["until_date"] == stamp(NOW + dt.timedelta(hours=1))
    assert member(world, MEMBER)["status"] == "member"  # Telegram lifted it by itself


@pytest.mark.parametrize(
    "ahead", [dt.timedelta(seconds=29), dt.timedelta(days=367), dt.timedelta(seconds=-5)]
)
def test_until_dates_under_30_seconds_or_over_366_days_mean_forever(world, ahead):
    mute(world, MEMBER, NOW + ahead)

    assert member(world, MEMBER)["until_date"] == 0


def test_all_permissions_lift_a_restriction(world):
    mute(world, MEMBER)
    every = {name: True for name in world._permission_names()}

    status, _ = world.call(
        "restrictChatMember", {"chat_id": GROUP, "user_id": MEMBER, "permissions": every}
    )

    assert status == 200 and member(world, MEMBER)["status"] == "member"


def test_without_the_right_to_restrict_telegram_refuses_every_restriction(world):
    world.set_rights(GROUP, BOT_ID, can_restrict_members=False)

    answers = [
        mute(world, MEMBER),
        world.call("banChatMember", {"chat_id": GROUP, "user_id": MEMBER}),
        world.call("unbanChatMember", {"chat_id": GROUP, "user_id": MEMBER}),
    ]

    assert [error(a) for a in answers] == [(400, NO_RESTRICT_RIGHTS)] * 3
    assert member(world, MEMBER)["status"] == "member"


def test_a_bot_that_is_no_admin_cannot_restrict_either(world):
    world.set_status(GROUP, BOT_ID, "member")

    assert error(mute(world, MEMBER)) == (400, NO_RESTRICT_RIGHTS)


def test_admins_and_the_creator_cannot_be_restricted_or_banned(world):
    answers = [
        mute(world, ADMIN),
        mute(world, OWNER),
        world.call("banChatMember", {"chat_id": GROUP, "user_id": ADMIN}),
        world.call("banChatMember", {"chat_id": GROUP, "user_id": OWNER}),
    ]

    assert [error(a) for a in answers] == [
        (400, "Bad Request: user is an administrator of the chat"),
        (400, "Bad Request: can't remove chat owner"),
        (400, "Bad Request: user is an administrator of the chat"),
        (400, "Bad Request: can't remove chat owner"),
    ]


def test_restricting_works_only_in_supergroups(world):
    assert error(mute(world, MEMBER, chat=BASIC)) == (
        400,
        "Bad Request: method is available only for supergroups",
    )


def test_a_ban_kicks_until_unbanned_and_only_if_banned_leaves_others_alone(world, clock):
    world.call("banChatMember", {"chat_id": GROUP, "user_id": MEMBER})
    banned = member(world, MEMBER)
    kept = world.call(
        "unbanChatMember", {"chat_id": GROUP, "user_id": OTHER, "only_if_banned": True}
    )
    world.set_status(GROUP, OTHER, "member")
    world.call("unbanChatMember", {"chat_id": GROUP, "user_id": OTHER, "only_if_banned": True})
    world.call("unbanChatMember", {"chat_id": GROUP, "user_id": MEMBER, "only_if_banned": True})

    assert banned["status"] == "kicked" and banned["until_date"] == 0
    assert kept[0] == 200
    assert member(world, OTHER)["status"] == "member"  # only_if_banned: untouched
    assert member(world, MEMBER)["status"] == "left"  # may join again


def test_unban_without_only_if_banned_removes_a_present_member(world):
    status, _ = world.call("unbanChatMember", {"chat_id": GROUP, "user_id": MEMBER})

    assert status == 200 and member(world, MEMBER)["status"] == "left"


def test_a_temporary_ban_ends_by_itself(world, clock):
    until = NOW + dt.timedelta(days=1)
    world.call("banChatMember", {"chat_id": GROUP, "user_id": MEMBER, "until_date": stamp(until)})

    assert member(world, MEMBER)["until_date"] == stamp(until)
    clock.at = until
    assert member(world, MEMBER)["status"] == "left"


def test_a_members_message_is_deleted_once_by_an_admin_bot(world):
    sent = world.message(GROUP, MEMBER, "buy now https://spam.example")["message"]
    request = {"chat_id": GROUP, "message_id": sent["message_id"]}

    first, again = world.call("deleteMessage", request), world.call("deleteMessage", request)

    assert first[0] == 200 and world.is_deleted(GROUP, sent["message_id"])
    assert error(again) == (400, "Bad Request: message to delete not found")
    assert error(world.call("deleteMessage", {"chat_id": GROUP, "message_id": 999})) == (
        400,
        "Bad Request: message to delete not found",
    )


def test_without_the_right_to_delete_a_members_message_stays(world):
    world.set_rights(GROUP, BOT_ID, can_delete_messages=False)
    sent = world.message(GROUP, MEMBER, "spam")["message"]

    answer = world.call("deleteMessage", {"chat_id": GROUP, "message_id": sent["message_id"]})

    assert error(answer) == (400, "Bad Request: message can't be deleted")
    assert not world.is_deleted(GROUP, sent["message_id"])


def test_the_bot_deletes_its_own_messages_within_48_hours_without_the_right(world, clock):
    world.set_rights(GROUP, BOT_ID, can_delete_messages=False)
    fresh = world.call("sendMessage", {"chat_id": GROUP, "text": "hello"})[1]["result"]
    old = world.call("sendMessage", {"chat_id": GROUP, "text": "old"})[1]["result"]
    clock.at = NOW + dt.timedelta(hours=47)
    ok = world.call("deleteMessage", {"chat_id": GROUP, "message_id": fresh["message_id"]})
    clock.at = NOW + dt.timedelta(hours=49)
    late = world.call("deleteMessage", {"chat_id": GROUP, "message_id": old["message_id"]})

    assert ok[0] == 200 and "hello" not in world.shown(GROUP)
    assert error(late) == (400, "Bad Request: message can't be deleted")


def test_delete_messages_skips_the_missing_and_deletes_the_rest(world):
    ids = [world.message(GROUP, MEMBER, f"spam {i}")["message"]["message_id"] for i in range(3)]

    status, _ = world.call("deleteMessages", {"chat_id": GROUP, "message_ids": [*ids, 999]})

    assert status == 200 and all(world.is_deleted(GROUP, i) for i in ids)
    assert world.problems() == []


def test_join_requests_need_the_right_to_invite(world):
    world.join_request(GROUP, OTHER, None)
    world.set_rights(GROUP, BOT_ID, can_invite_users=False)

    refused = world.call("approveChatJoinRequest", {"chat_id": GROUP, "user_id": OTHER})
    world.set_rights(GROUP, BOT_ID, can_invite_users=True)
    approved = world.call("approveChatJoinRequest", {"chat_id": GROUP, "user_id": OTHER})

    assert error(refused) == (400, "Bad Request: CHAT_ADMIN_REQUIRED")
    assert approved[0] == 200 and world.join_requests[(GROUP, OTHER)] == "approved"


def test_requests_that_break_the_spec_are_refused_before_any_rule(world):
    status, body = world.call("restrictChatMember", {"chat_id": GROUP, "user_id": MEMBER})

    assert status == 400 and "permissions: required parameter missing" in body["description"]
