"""Watch words (舆情) and FAQ questions (客服话术): one matching rule for both, the parsers,
the links, the settings and the book a message is heard against."""

from __future__ import annotations

import datetime as dt

import pytest

from campaigns.errors import InvalidSetting
from campaigns.faq import (
    ANSWER_MAX,
    FaqProblem,
    FaqRefused,
    parse_question,
    parse_reference,
    read_faq,
    split_faq,
)
from campaigns.keywords import KeywordProblem, KeywordRefused, normalize, parse_keyword
from campaigns.listening import (
    ListenSettings,
    ReplyBook,
    Verb,
    apply_listen_setting,
    parse_verb,
    stored_faqs,
)
from campaigns.settings import ChatSettings, apply_setting
from campaigns.watch import (
    MAX_WORDS,
    WatchProblem,
    WatchRefused,
    excerpt,
    message_link,
    parse_words,
    stored_words,
)


def found(keyword: str, text: str) -> bool:
    return parse_keyword(keyword).found_in(normalize(text))


@pytest.mark.parametrize(
    ("keyword", "text", "expected"),
    [
        ("refund", "Refund please", True),
        ("refund", "I want a REFUND.", True),
        ("refund", "退款refund", True),
        ("refund", "refunds", False),
        ("scam", "scampi for dinner", False),
        ("scam", "this is a scam!", True),
        ("scam alert", "SCAM   ALERT here", True),
        ("退款", "我要退款了", True),
        ("退款", "我要退貨", False),
        ("投诉", "我要投诉你们", True),
        ("refund", "ＲＥＦＵＮＤ now", True),  # full-width letters
        ("618", "618活动", True),
        ("618", "6180", False),
        ("VIP群", "加入vip群", True),  # an ASCII start needs a boundary before it only
        ("VIP群", "avip群", False),
    ],
)
def test_keywords_match_case_insensitively_cjk_as_substrings_ascii_on_word_boundaries(
    keyword: str, text: str, expected: bool
):
    assert found(keyword, text) is expected


def test_a_keyword_needs_a_letter_or_digit_and_at_most_32_characters():
    assert (
        parse_keyword("  怎么退款？ ").text == "怎么退款"
    )  # sentence punctuation is no part of it
    with pytest.raises(KeywordRefused) as empty:
        parse_keyword("？！…")
    with pytest.raises(KeywordRefused) as long:
        parse_keyword("x" * 33)

    assert empty.value.problem is KeywordProblem.EMPTY
    assert long.value.problem is KeywordProblem.TOO_LONG


def test_watch_words_are_separated_by_commas_or_lines_and_deduplicated():
    words = parse_words("投诉, 退款，Refund、scam alert\nrefund")

    assert [w.text for w in words] == ["投诉", "退款", "refund", "scam alert"]
    with pytest.raises(WatchRefused) as none:
        parse_words(" , ，")
    with pytest.raises(WatchRefused) as many:
        parse_words(",".join(f"w{i}" for i in range(MAX_WORDS + 1)))
    with pytest.raises(WatchRefused) as bad:
        parse_words("ok, " + "y" * 40)

    assert none.value.problem is WatchProblem.NO_WORDS
    assert many.value.problem is WatchProblem.TOO_MANY
    assert bad.value.problem is WatchProblem.BAD_WORD and bad.value.keyword is not None


def test_stored_words_are_longest_first_and_unreadable_ones_are_skipped():
    assert [w.text for w in stored_words(["scam", "scam alert", "???", "退款"])] == [
        "scam alert",
        "scam",
        "退款",
    ]


def test_links_open_the_message_in_a_supergroup_or_a_public_group_and_a_basic_group_has_none():
    assert message_link(-1001500000001, 42) == "https://t.me/c/1500000001/42"
    assert message_link(-1001500000001, 42, "sunnytea") == "https://t.me/sunnytea/42"
    assert message_link(-4012345, 7) is None


def test_the_excerpt_is_one_line_and_short():
    assert excerpt("a\n\nb   c") == "a b c"
    long = excerpt("字" * 500)
    assert len(long) == 120 and long.endswith("…")


def test_a_question_is_alternatives_of_keywords_joined_with_plus():
    q = parse_question("发货/快递，物流 / 怎么+退款")

    assert q.score(normalize("快递到哪了")) == (2, 1)
    assert q.score(normalize("退款怎么办理")) == (4, 2)  # parts in any order
    assert q.score(normalize("退款")) is None
    assert q.key == parse_question("物流/快递/发货/退款+怎么").key  # the same question


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", FaqProblem.NO_QUESTION),
        ("/ , /", FaqProblem.NO_QUESTION),
        ("a+b+c+d+e", FaqProblem.TOO_MANY_KEYWORDS),
        ("/".join(f"k{i}" for i in range(11)), FaqProblem.TOO_MANY_KEYWORDS),
        ("问" * 101, FaqProblem.QUESTION_TOO_LONG),
        ("x" * 40, FaqProblem.BAD_KEYWORD),
    ],
)
def test_bad_questions_are_refused_with_their_reason(raw: str, problem: FaqProblem):
    with pytest.raises(FaqRefused) as refused:
        parse_question(raw)
    assert refused.value.problem is problem


def test_a_faq_is_split_at_the_first_bar_outside_tags_and_its_answer_checked():
    draft = read_faq('发货 ｜ 下单后 <b>48</b> 小时内发货，<a href="https://x.cn/?a|b">详情</a>')
    replied = read_faq("发货 ", "see <i>this</i>")

    assert draft.question == "发货" and draft.key == "发货"
    assert draft.answer == '下单后 <b>48</b> 小时内发货，<a href="https://x.cn/?a|b">详情</a>'
    assert replied.answer == "see <i>this</i>"
    assert split_faq('<a href="x|y">q</a>') == ('<a href="x|y">q</a>', None)


@pytest.mark.parametrize(
    ("body", "replied", "problem"),
    [
        ("发货", None, FaqProblem.NO_ANSWER),
        ("", None, FaqProblem.NO_QUESTION),
        ("发货 |   ", None, FaqProblem.ANSWER_EMPTY),
        ("发货 | <b></b>", None, FaqProblem.ANSWER_EMPTY),
        ("<b>发货 | 48h</b>", None, FaqProblem.BAD_HTML),  # formatting across the bar
        ("发货 | " + "字" * (ANSWER_MAX + 1), None, FaqProblem.ANSWER_TOO_LONG),
    ],
)
def test_bad_faqs_are_refused_with_their_reason(body: str, replied: str | None, problem):
    with pytest.raises(FaqRefused) as refused:
        read_faq(body, replied)
    assert refused.value.problem is problem


def test_a_faq_is_removed_by_id_or_by_question():
    assert parse_reference(" #12 ") == 12
    assert parse_reference("发货") == "发货"
    assert parse_reference("１２") == "１２"  # a full-width number is a question, not an id
    with pytest.raises(FaqRefused):
        parse_reference("  ")


def test_verbs_in_english_and_chinese_keep_the_lines_after_them():
    assert parse_verb("/watch add 投诉\n退款") == (Verb.ADD, "投诉\n退款")
    assert parse_verb("/faq@growth_bot 删除 3") == (Verb.REMOVE, "3")
    assert parse_verb("/faq") == (Verb.LIST, "")
    assert parse_verb("/faq what") == (Verb.HELP, "")


def book(**settings: object) -> ReplyBook:
    faqs = stored_faqs(
        [(2, "退款", "退款说明"), (1, "怎么+退款", "退款流程"), (3, "发货/快递", "48 小时内"),
         (4, "refund", "Refunds: 7 days")]
    )  # fmt: skip
    words = stored_words(["退款", "scam", "scam alert"])
    return ReplyBook(1, "zh", ListenSettings(**settings), words, faqs)  # type: ignore[arg-type]


def test_a_message_is_heard_for_its_longest_word_and_most_specific_question():
    heard = book().hear("请问怎么退款？scam ALERT")

    assert heard is not None
    assert heard.word is not None and heard.word.text == "scam alert"
    assert heard.faq is not None and heard.faq.id == 1  # 怎么+退款 beats 退款


def test_nothing_is_heard_in_plain_chatter_a_switched_off_feature_or_an_empty_book():
    assert book().hear("hello everyone") is None
    assert book(watch_alerts=False).hear("scam") is None
    only_faq = book(watch_alerts=False).hear("refund please")
    assert only_faq is not None and only_faq.word is None and only_faq.faq is not None
    assert book(faq_replies=False, watch_alerts=False).empty
    assert ReplyBook().hear("退款") is None


def test_a_forwarded_message_may_alert_but_is_not_answered():
    heard = book().hear("退款 scam", forwarded=True)

    assert heard is not None and heard.word is not None and heard.faq is None


def test_settings_are_shown_set_and_refused_like_every_other():
    changed = apply_setting(ChatSettings(), "faq_cooldown", "15")
    off = apply_setting(changed, "watch_alerts", "关闭")

    assert off.listening == ListenSettings(watch_alerts=False, faq_cooldown=15)
    assert ("faq_cooldown", "15") in off.as_pairs() and ("watch_alerts", "off") in off.as_pairs()
    assert off.listening.cooldown == dt.timedelta(minutes=15)
    for key, raw, reason in [
        ("faq_cooldown", "0", "out_of_range"),
        ("faq_cooldown", "1441", "out_of_range"),
        ("faq_cooldown", "soon", "not_a_number"),
        ("faq_replies", "maybe", "on_or_off"),
    ]:
        with pytest.raises(InvalidSetting) as refused:
            apply_listen_setting(ListenSettings(), key, raw)
        assert refused.value.reason == reason


def test_stored_settings_read_back_and_garbage_is_the_default():
    settings = ListenSettings(watch_alerts=False, faq_replies=True, faq_cooldown=30)

    assert ListenSettings.from_json(settings.to_json()) == settings
    assert ListenSettings.from_json({"cooldown": "x", "watch": "no"}) == ListenSettings()
    assert ListenSettings.from_json(None) == ListenSettings()
