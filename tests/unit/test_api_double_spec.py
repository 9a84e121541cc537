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


def a_world_with_a_group() -> FakeTelegram:
    world = FakeTelegram()
    world.add_user(7, "Ann")
    world.add_group(-100, "Club", owner=7)
    return world


def poll_request(options: list[str], **extra: object) -> dict[str, object]:
    return {"chat_id": -100, "question": "Which?", "options": [{"text": o} for o in options],
            "is_anonymous": False, **extra}  # fmt: skip


def test_a_poll_is_refused_as_telegram_would_beyond_its_limits(spec):
    world = a_world_with_a_group()

    answers = [
        world.call("sendPoll", poll_request([str(i) for i in range(13)])),
        world.call("sendPoll", poll_request(["Mango", "Mango"])),
        world.call("sendPoll", poll_request(["a", "x" * 101])),
        world.call("sendPoll", dict(poll_request(["a", "b"]), question="q" * 301)),
        world.call("sendPoll", dict(poll_request(["a", "b"]), parse_mode="HTML")),
    ]

    assert [status for status, _ in answers] == [400] * 5
    assert answers[0][1]["description"] == "Bad Request: POLL_ANSWERS_INVALID"
    assert answers[1][1]["description"] == "Bad Request: POLL_OPTION_DUPLICATE"
    assert "options[1].text: 101 characters, allowed 1-100" in answers[2][1]["description"]
    assert "question: 301 characters, allowed 1-300" in answers[3][1]["description"]
    assert "parse_mode: unknown parameter" in answers[4][1]["description"]


def test_an_option_parsed_as_html_is_refused_when_its_markup_is_not_html(spec):
    world = a_world_with_a_group()

    def option(text: str, mode: str | None = "HTML") -> dict[str, object]:
        sent = {"text": text} | ({"text_parse_mode": mode} if mode else {})
        return poll_request(["a"]) | {"options": [{"text": "a"}, sent]}

    answers = [
        world.call("sendPoll", option("1 < 2")),
        world.call("sendPoll", option("Peach & <b>")),
        world.call("sendPoll", option("<x>y</x>")),
        world.call("sendPoll", option("<b>bold</b>")),
        world.call("sendPoll", option("1 < 2", None)),
    ]

    assert [status for status, _ in answers] == [400, 400, 400, 200, 200]
    assert all("can't parse entities" in body["description"] for _, body in answers[:3])


def test_votes_reach_the_bot_as_poll_answers_until_the_poll_is_stopped():
    world = a_world_with_a_group()
    world.add_user(8, "Ben")
    status, body = world.call("sendPoll", poll_request(["Mango", "Lychee"]))
    poll = body["result"]["poll"]

    first = world.poll_answer(poll["id"], 7, [1])
    world.poll_answer(poll["id"], 8, [1])
    taken_back = world.poll_answer(poll["id"], 8, [])
    stopped = world.call("stopPoll", {"chat_id": -100, "message_id": body["result"]["message_id"]})
    again = world.call("stopPoll", {"chat_id": -100, "message_id": body["result"]["message_id"]})

    assert status == 200 and poll["is_anonymous"] is False
    assert first["poll_answer"] == {"poll_id": poll["id"], "user": world.users[7],
                                    "option_ids": [1], "option_persistent_ids": ["1"]}  # fmt: skip
    assert taken_back["poll_answer"]["option_ids"] == []
    assert stopped[1]["result"]["is_closed"] is True
    assert [o["voter_count"] for o in stopped[1]["result"]["options"]] == [0, 1]
    assert again[1]["description"] == "Bad Request: poll has already been closed"
    with pytest.raises(ValueError):
        world.poll_answer(poll["id"], 7, [0])  # a stopped poll takes no votes


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


@pytest.mark.parametrize("apart", [False, True])
async def test_the_double_answers_the_bot_on_its_own_thread_when_apart(apart):
    """The benchmarks' double answers from a thread of its own, as Telegram answers from
    elsewhere, and still answers the same (the tests' double answers on the caller's)."""
    import threading

    from telegram import Bot
    from telegram.error import BadRequest

    from bot.double.transport import double_request

    world = a_world_with_a_group()
    threads: list[str] = []
    call = world.call

    def recorded(method: str, params: dict) -> tuple[int, dict]:
        threads.append(threading.current_thread().name)
        return call(method, params)

    world.call = recorded  # type: ignore[method-assign]
    async with Bot("1:T", request=double_request(world, apart=apart)) as bot:
        sent = await bot.send_message(-100, "<b>hi</b>", parse_mode="HTML")
        with pytest.raises(BadRequest, match="5000 characters"):
            await bot.send_message(-100, "a" * 5000)

    assert sent.chat_id == -100 and [c.status for c in world.sent(-100)] == [200, 400]
    on_double = [name.startswith("telegram-double") for name in threads]
    assert on_double == [apart] * len(threads) and len(threads) >= 3  # getMe, two sends
