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
