"""The watch-word and FAQ parsers and matchers, fed hostile input: a value or their
documented refusal, never anything else. Matching runs on every group message, so it must
never raise on any text at all."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from campaigns.errors import InvalidSetting
from campaigns.faq import FaqRefused, parse_question, parse_reference, read_faq, split_faq
from campaigns.keywords import (
    KEYWORD_MAX,
    KeywordRefused,
    longest_found,
    normalize,
    parse_keyword,
    storable,
)
from campaigns.listening import (
    EXAMPLES,
    Heard,
    ListenSettings,
    ReplyBook,
    apply_listen_setting,
    best_faq,
    parse_verb,
    stored_faqs,
)
from campaigns.watch import (
    MAX_WORDS,
    WatchRefused,
    excerpt,
    message_link,
    parse_words,
    stored_words,
)

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text shaped like what the parsers read, so examples get past the first check.
PIECES = st.sampled_from(
    ["发货", "退款", "refund", "Scam", "|", "｜", "/", "+", "，", ",", "、", "<b>", "</b>",
     '<a href="x|y">', "</a>", "&amp;", "&", "<", "？", " ", "\n", "ＲＥＦ", "ß", "ﬁ", "\x00",
     "\ud800", "#", "12", "١٢"]
)  # fmt: skip
SHAPED = st.lists(PIECES | st.text(max_size=6), max_size=20).map("".join)
TEXT = st.text() | SHAPED


@FAST
@given(TEXT)
@example("ß" * 20)  # casefolds to 40 characters
@example("﷽")  # NFKC makes 18 characters of one
def test_a_keyword_is_made_or_refused_and_fits(raw: str):
    try:
        keyword = parse_keyword(raw)
    except KeywordRefused:
        return
    assert 0 < len(keyword.text) <= KEYWORD_MAX
    assert keyword.found_in(keyword.text)  # a keyword is found in itself
    assert storable(keyword.text) == keyword.text
    keyword.found_in(normalize(raw))


@FAST
@given(TEXT)
def test_watch_words_parse_or_are_refused(raw: str):
    try:
        words = parse_words(raw)
    except WatchRefused:
        return
    assert 0 < len(words) <= MAX_WORDS
    assert len({w.text for w in words}) == len(words)


@FAST
@given(TEXT, st.none() | TEXT)
@example("发货|\ud800", None)  # a forged update's lone surrogate: no UTF-16 length to measure
@example("发\x00货|a\x00", None)  # NUL: PostgreSQL text cannot hold it
def test_faqs_parse_or_are_refused(body: str, replied: str | None):
    with contextlib.suppress(FaqRefused):
        draft = read_faq(body, replied)
        assert storable(draft.question + draft.answer) == draft.question + draft.answer
        assert draft.key == parse_question(draft.question).key
        assert len(draft.key) <= 255
    split_faq(body)


@FAST
@given(TEXT)
def test_references_and_verbs_are_read_or_refused(raw: str):
    with contextlib.suppress(FaqRefused):
        ref = parse_reference(raw)
        assert isinstance(ref, str) or 0 <= ref < 10**19
    parse_verb(raw)


@FAST
@given(st.sampled_from([*EXAMPLES, "nope"]), TEXT | st.integers(-5, 3000).map(str))
def test_settings_are_applied_or_refused(key: str, raw: str):
    with contextlib.suppress(InvalidSetting):
        changed = apply_listen_setting(ListenSettings(), key, raw)
        assert 1 <= changed.faq_cooldown <= 1440


@FAST
@given(st.lists(TEXT, max_size=8), st.lists(TEXT, max_size=8), TEXT, st.booleans())
@example(["refund", "退款"], ["发货/怎么+退款"], "请问 Refund 怎么退款", False)
def test_any_message_is_heard_against_any_stored_book_without_raising(
    words: list[str], questions: list[str], message: str, forwarded: bool
):
    book = ReplyBook(
        1,
        "en",
        ListenSettings(),
        stored_words(words),
        stored_faqs([(i, q, "answer") for i, q in enumerate(questions)]),
    )
    heard = book.hear(message, forwarded=forwarded)
    assert heard is None or heard.word is not None or heard.faq is not None
    excerpt(message)
    # The quick refusal by first characters never hides a match the rules would find.
    normalized = normalize(message)
    word = longest_found(book.words, normalized)
    faq = None if forwarded else best_faq(book.faqs, normalized)
    assert heard == (Heard(word, faq) if word or faq else None)


@FAST
@given(st.integers(-(2**63), 2**63), st.integers(1, 2**31), st.none() | st.text(max_size=32))
def test_every_chat_gets_a_link_or_none(chat_id: int, message_id: int, username: str | None):
    link = message_link(chat_id, message_id, username)
    assert link is None or link.startswith("https://t.me/")


@FAST
@given(st.data(), st.lists(SHAPED, min_size=1, max_size=6), st.lists(SHAPED, max_size=6))
def test_a_message_saying_stored_keywords_is_heard_as_the_rules_say(
    data: st.DataObject, words: list[str], questions: list[str]
):
    book = ReplyBook(
        1,
        "en",
        ListenSettings(),
        stored_words(words),
        stored_faqs([(i, q, "answer") for i, q in enumerate(questions)]),
    )
    said = data.draw(st.lists(st.sampled_from(words + questions) | PIECES, max_size=5))
    message = "".join(said)
    normalized = normalize(message)
    word = longest_found(book.words, normalized)
    faq = best_faq(book.faqs, normalized)

    assert book.hear(message) == (Heard(word, faq) if word or faq else None)
