"""The double must refuse what Telegram refuses, or the handler tests prove nothing."""

import pytest

from bot.double import ApiSpec, FakeTelegram


@pytest.fixture(scope="module")
def spec() -> ApiSpec:
    return ApiSpec.load()


def messages(problems) -> list[str]:
    return [str(p) for p in problems]


def test_a_correct_message_passes(spec):
    assert spec.validate("sendMessage", {"chat_id": -100, "text": "hi", "parse_mode": "HTML"}) == []


def test_unknown_and_missing_fields_are_reported(spec):
    problems = messages(spec.validate("sendMessage", {"chat_id": 1, "txt": "hi"}))

    assert "sendMessage.txt: unknown parameter" in problems
    assert "sendMessage.text: required parameter missing" in problems


def test_text_over_4096_characters_after_entity_parsing_is_refused(spec):
    ok = "<b>" + "a" * 4096 + "</b>"
    too_long = "a" * 4097

    assert spec.validate("sendMessage", {"chat_id": 1, "text": ok, "parse_mode": "HTML"}) == []
    assert spec.validate("sendMessage", {"chat_id": 1, "text": too_long})


def test_callback_data_over_64_bytes_is_refused(spec):
    markup = {"inline_keyboard": [[{"text": "Join", "callback_data": "团" * 22}]]}

    problems = messages(
        spec.validate("sendMessage", {"chat_id": 1, "text": "x", "reply_markup": markup})
    )

    assert any("callback_data" in p and "66 bytes" in p for p in problems)


def test_invite_link_names_over_32_characters_are_refused(spec):
    assert spec.validate("createChatInviteLink", {"chat_id": 1, "name": "n" * 32}) == []
    assert spec.validate("createChatInviteLink", {"chat_id": 1, "name": "n" * 33})


def test_broken_html_is_refused(spec):
    for text in ["<b>bold", "a < b", "Tom & Jerry", "<blink>x</blink>"]:
        assert spec.validate("sendMessage", {"chat_id": 1, "text": text, "parse_mode": "HTML"}), (
            text
        )


def test_wrong_types_and_unknown_methods_are_refused(spec):
    assert spec.validate("sendMessage", {"chat_id": 1.5, "text": "x"})
    assert messages(spec.validate("sendMesage", {})) == ["sendMesage.-: unknown method"]


def test_the_double_answers_a_bad_request_like_telegram():
    world = FakeTelegram()

    status, body = world.call("sendMessage", {"chat_id": 1, "text": "a" * 5000})

    assert status == 400
    assert body["ok"] is False and body["description"].startswith("Bad Request")
    assert world.problems()


def album(n: int, caption: str = "chart") -> dict:
    """A sendMediaGroup as PTB sends it: the media as attach:// references to uploaded parts."""
    media = [{"type": "photo", "media": f"attach://p{i}", "caption": caption} for i in range(n)]
    return {"chat_id": -100, "media": media, **{f"p{i}": "<upload p, 9 bytes>" for i in range(n)}}


def test_an_album_has_2_to_10_photos_with_captions_of_at_most_1024_characters(spec):
    assert spec.validate("sendMediaGroup", album(4)) == []
    assert messages(spec.validate("sendMediaGroup", album(1))) == [
        "sendMediaGroup.media: 1 items, allowed 2-10"
    ]
    assert messages(spec.validate("sendMediaGroup", album(11))) == [
        "sendMediaGroup.media: 11 items, allowed 2-10"
    ]
    assert messages(spec.validate("sendMediaGroup", album(2, "c" * 1025))) == [
        "sendMediaGroup.media[0].caption: 1025 characters, allowed 0-1024",
        "sendMediaGroup.media[1].caption: 1025 characters, allowed 0-1024",
    ]
    no_part = album(2)
    del no_part["p1"]
    assert messages(spec.validate("sendMediaGroup", no_part)) == [
        "sendMediaGroup.p1: attach://p1 names no part of the request"
    ]


def test_the_double_sends_an_album_as_one_message_per_photo_and_counts_each_in_the_minute():
    now = [0.0]
    world = FakeTelegram(flood_limits=True, monotonic=lambda: now[0])
    world.add_group(-100, "Tea")
    for _ in range(17):
        assert world.call("sendMessage", {"chat_id": -100, "text": "hi"})[0] == 200

    refused, _ = world.call("sendMediaGroup", album(4))  # 17 + 4 > 20 a minute
    now[0] = 61.0
    status, body = world.call("sendMediaGroup", album(4))

    assert refused == 429
    assert status == 200 and len(body["result"]) == 4
    assert len({m["media_group_id"] for m in body["result"]}) == 1
    assert world.delivered(-100)[-4:] == ["chart"] * 4
    assert world.albums(-100) == [[("chart", 9)] * 4]
    assert world.problems() == []
