"""Every parser of outside input, fed hostile input: a value or its documented error, never
anything else (no decimal signal, OverflowError, IndexError or a search that never ends)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import unicodedata
from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.calendar_file import FileError, explain, load, plan_problem
from campaigns.audience import Audience, AudienceError, parse_audience
from campaigns.audiences import parse_name
from campaigns.content import (
    ContentProblem,
    ContentRefused,
    PostContent,
    read_post,
    refusal_of,
    split_buttons,
)
from campaigns.coupon_variants import (
    MAX_TERMS,
    Terms,
    TermsProblem,
    TermsRefused,
    parse_new_offer,
    parse_percent,
    parse_terms,
    templates_of,
)
from campaigns.coupons import (
    MAX_AMOUNT,
    CouponKind,
    CouponRejected,
    CouponUsage,
    OfferVerb,
    Template,
    new_code,
    normalize,
    parse_money,
    parse_offer_command,
    parse_redeem,
)
from campaigns.errors import InvalidSetting
from campaigns.groupbuys import DealVerb, GroupBuyUsage, parse_groupbuy_command
from campaigns.moderation import (
    MODERATION_EXAMPLES,
    ModerationRules,
    apply_moderation_setting,
    features_of,
    parse_reason,
    parse_stop_words,
    spam_rule,
    text_hash,
    verdict,
)
from campaigns.orders import OrderIn
from campaigns.plan import Plan, PlanError, resolve
from campaigns.referral import (
    PROGRAM_EXAMPLES,
    ReferralProgram,
    apply_program_setting,
    code_from_start,
    owner_from_name,
    parse_tiers,
)
from campaigns.schedule import ScheduleError, When, parse_when
from campaigns.settings import SETTING_KEYS, ChatSettings, apply_setting, parse_milestones
from campaigns.surveys import (
    OPTION_MAX,
    OPTIONS,
    QUESTION_MAX,
    SurveyInputError,
    SurveyKind,
    parse_survey_command,
)
from handlers.calendar_texts import CalendarTexts

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
ZONES = st.sampled_from(["UTC", "Asia/Shanghai", "Pacific/Kiritimati", "America/Adak"])
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text that looks like what the parsers expect, so examples reach past the first check.
NUMBERISH = st.text(alphabet="0123456789.,+-eE_ ¥$￥１２٣NaInfinty", max_size=30)
DIGITS = st.integers(min_value=-5, max_value=10**20).map(str)


def cron_field(names: list[str]) -> st.SearchStrategy[str]:
    atom = st.one_of(
        st.just("*"),
        st.integers(0, 99).map(str),
        st.sampled_from(names) if names else st.integers(0, 99).map(str),
        st.just("last"),
    )
    part = st.tuples(
        atom,
        st.none() | atom,
        st.none() | st.integers(0, 40).map(str),
    ).map(lambda t: t[0] + (f"-{t[1]}" if t[1] else "") + (f"/{t[2]}" if t[2] else ""))
    return st.lists(part, min_size=1, max_size=3).map(",".join)


CRON = st.tuples(
    cron_field([]),
    cron_field([]),
    cron_field([]),
    cron_field(["jan", "feb", "apr", "jun", "sep", "nov", "dec"]),
    cron_field(["mon", "tue", "sat", "sun"]),
).map(" ".join)

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["199.90", "1e999999999", "2026-11-20T10:00:00+08:00", "\x00"]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
ORDER_KEYS = ["external_id", "chat_id", "member", "amount", "currency", "at", "coupons", "items"]
ORDER_VALUES = st.one_of(
    JSON,
    NUMBERISH,
    st.datetimes(timezones=st.just(dt.UTC) | st.none()).map(str),
    st.sampled_from(
        ["0001-01-01T00:00:00+10:00", "9999-12-31T23:59:59-10:00", str(2**63), "USD", "cny"]
    ),
    st.builds(new_code),
)


@FAST
@given(NUMBERISH | st.text())
@example("1e999999999")
@example("1e-999999999")
@example("-0")
@example("9" * 5000)
@example("1." + "0" * 60 + "1")
def test_amounts_are_a_bounded_whole_number_of_minor_units_or_a_value_error(raw: str):
    try:
        minor, currency = parse_money(raw)
    except ValueError:
        return
    assert 0 <= minor <= MAX_AMOUNT
    assert currency is None or len(currency) == 3


@FAST
@given(NUMBERISH | st.text())
@example("Infinity")
@example("-Infinity")
@example("NaN")
@example("sNaN")
@example("1e100000")
@example("٣")
@example("12.5%")
def test_a_percentage_is_basis_points_within_a_hundred_or_a_value_error(raw: str):
    try:
        bp = parse_percent(raw)
    except ValueError:
        return
    assert isinstance(bp, int) and 0 < bp <= 10_000


@FAST
@given(st.integers(0, MAX_AMOUNT))
def test_every_amount_reads_back_exactly(minor: int):
    assert parse_money(f"{minor // 100}.{minor % 100:02d}") == (minor, None)


@FAST
@given(st.text() | st.builds(new_code).map(str.lower))
def test_coupon_codes_normalize_or_are_rejected(typed: str):
    try:
        code = normalize(typed)
    except CouponRejected:
        return
    assert normalize(code) == code


# Chat command words as PTB splits them: no empty words, no whitespace inside one.
WORDS = st.lists(
    st.sampled_from(["post", "GRANT", "end", "list", "new", "#7", "0", "²", "-1", str(2**63)])
    | NUMBERISH.map(lambda w: "".join(w.split()) or "1")
    | st.text(min_size=1).map(lambda w: "".join(w.split()) or "x"),
    max_size=5,
)


@FAST
@given(WORDS | st.lists(st.text(), max_size=5))
def test_coupon_commands_are_read_or_answered_with_their_usage(words: list[str]):
    with contextlib.suppress(CouponUsage):
        code, order, currency = parse_redeem(words)
        assert code and 0 <= order <= MAX_AMOUNT and (currency is None or len(currency) == 3)
    try:
        verb, offer_id = parse_offer_command(words)
    except CouponUsage:
        return
    assert (offer_id is None) == (verb is OfferVerb.LIST)
    assert offer_id is None or 0 < offer_id < 2**63


# Terms as shops write them, and near misses: the pieces every form is made of.
TERM_PIECES = st.lists(
    st.sampled_from(["满", "减", "打", "折", "无门槛", "立减", "最高减", "封顶", "，", " ", "off",
                     "cap", "up to", "over", "%", "％", "¥", "$", "元", "usd", "(", ")", "A:"])
    | NUMBERISH,
    max_size=8,
).map("".join)  # fmt: skip


@FAST
@given(TERM_PIECES | st.text(max_size=100))
@example("满1e999减1")
@example("9" * 5000 + "折")
@example("满100减10" + "0" * 90)
def test_variant_terms_are_read_or_refused_as_unreadable(typed: str):
    try:
        terms = parse_terms(typed)
    except TermsRefused as refused:
        assert refused.problem is TermsProblem.UNREADABLE
        assert len(refused.value) <= 40
        return
    assert len(typed) <= MAX_TERMS
    assert terms.kind in {CouponKind.FIXED, CouponKind.PERCENT}
    assert 0 < terms.value <= (10_000 if terms.kind is CouponKind.PERCENT else MAX_AMOUNT)
    assert 0 <= terms.min_spend <= MAX_AMOUNT and terms.currency in {None, "CNY", "USD"}
    assert templates_of([terms], Template(CouponKind.FIXED, 1))  # a valid coupon


def _typed(terms: Terms) -> str:
    """The terms as a shop writes them."""
    money = lambda minor: f"{minor // 100}.{minor % 100:02d}"  # noqa: E731
    if terms.kind is CouponKind.FIXED:
        return (
            f"满{money(terms.min_spend)}减{money(terms.value)}"
            if terms.min_spend
            else (f"无门槛{money(terms.value)}")
        )
    pct = f"{terms.value // 100}.{terms.value % 100:02d}%"
    over = f" over {money(terms.min_spend)}" if terms.min_spend else ""
    cap = f" cap {money(terms.cap)}" if terms.cap is not None else ""
    return f"{pct} off{over}{cap}"


@FAST
@given(
    st.builds(
        Terms,
        kind=st.just(CouponKind.FIXED),
        value=st.integers(1, 10**8),
        min_spend=st.integers(0, 10**8),
    ).filter(lambda t: t.min_spend == 0 or t.min_spend >= t.value)  # 满5减10 is refused
    | st.builds(
        Terms,
        kind=st.just(CouponKind.PERCENT),
        value=st.integers(1, 10_000),
        min_spend=st.integers(0, 10**8),
        cap=st.none() | st.integers(1, 10**8),
    )
)
def test_every_variant_reads_back_exactly(terms: Terms):
    assert parse_terms(_typed(terms)) == terms


@FAST
@given(
    st.lists(
        st.sampled_from(["Sale", "周末券", "stock=5", "per=2", "days=0", "holdout=50",
                         "holdout=51", "plan=1", "x=1", "=", "库存=１０"])
        | st.text(min_size=1).map(lambda w: "".join(w.split()) or "x"),
        max_size=6,
    ),
    st.lists(TERM_PIECES | st.sampled_from(["满100减10", "B: 85折", "C: ¥5", "E: 1%"]), max_size=6),
)  # fmt: skip
def test_new_offers_are_read_or_refused_with_a_problem(words: list[str], lines: list[str]):
    try:
        new = parse_new_offer(words, lines)
    except TermsRefused as refused:
        assert isinstance(refused.problem, TermsProblem)
        return
    assert new.name and 1 <= len(new.terms) <= 4
    assert 0 <= new.holdout <= 50 and new.per_member >= 1
    assert new.stock is None or new.stock >= 1


@FAST
@given(WORDS | st.lists(st.text(), max_size=5))
def test_groupbuy_commands_are_read_or_answered_with_the_usage(words: list[str]):
    try:
        verb, deal_id = parse_groupbuy_command(words)
    except GroupBuyUsage:
        return
    assert deal_id is not None or verb in {DealVerb.NEW, DealVerb.LIST}
    assert deal_id is None or 0 < deal_id < 2**63


@FAST
@given(st.text() | CRON, ZONES)
@example("0 9 31 4 *", "UTC")
@example("2026-12-31 23:59-14:00", "UTC")
@example("9999-12-31 23:59-14:00", "UTC")
@example("0001-01-01 00:00", "Pacific/Kiritimati")
@example("9999-12-31 23:59", "America/Adak")
def test_schedules_parse_or_are_refused_with_a_reason(text: str, zone: str):
    try:
        when = parse_when(text, zone, NOW)
    except ScheduleError:
        return
    assert isinstance(when, When)
    nxt = when.next_after(NOW)
    assert nxt is not None and nxt > NOW


@FAST
@given(CRON, ZONES)
def test_random_cron_fields_parse_or_are_refused_with_a_reason(text: str, zone: str):
    try:
        when = parse_when(text, zone, NOW)
    except ScheduleError:
        return
    assert when.recurring and len(when.upcoming(NOW, 2)) >= 1


AUDIENCE = st.lists(
    st.tuples(
        st.sampled_from(["joined", "active", "checkin", "points", "all", "x"]),
        st.sampled_from(["<", ">", "<=", ">=", "=", "!"]),
        DIGITS,
        st.sampled_from(["d", "", "D"]),
    ).map("".join),
    max_size=4,
).map(" ".join)


@FAST
@given(st.text() | AUDIENCE)
@example("points>=" + "9" * 5000)
@example("points>=99999999999999999999")
def test_audience_rules_parse_or_are_refused(text: str):
    try:
        audience = parse_audience(text)
    except AudienceError:
        return
    assert isinstance(audience, Audience)
    assert (audience.points_min or 0) < 2**63  # compared in SQL with a BIGINT


SPEC = st.lists(
    st.lists(
        DIGITS | st.text(max_size=8) | st.builds(lambda n: f"coupon{n}", DIGITS), max_size=4
    ).map(":".join),
    max_size=4,
).map(",".join)


@FAST
@given(st.text() | SPEC)
def test_referral_tiers_and_milestones_parse_or_are_refused(raw: str):
    for parse in (parse_tiers, parse_milestones):
        with contextlib.suppress(InvalidSetting):
            parse(raw)


@FAST
@given(st.sampled_from([*SETTING_KEYS, "nope", ""]), st.text() | SPEC | DIGITS)
def test_every_set_value_is_applied_or_refused(key: str, raw: str):
    try:
        changed = apply_setting(ChatSettings(), key, raw)
    except InvalidSetting:
        return
    assert isinstance(changed, ChatSettings)


@FAST
@given(st.sampled_from([*PROGRAM_EXAMPLES, "nope"]), st.text() | SPEC | DIGITS)
def test_every_referral_set_value_is_applied_or_refused(key: str, raw: str):
    try:
        changed = apply_program_setting(ReferralProgram(), key, raw)
    except InvalidSetting:
        return
    assert isinstance(changed, ReferralProgram)


@FAST
@given(st.text() | st.none())
def test_start_payloads_and_link_names_are_read_or_ignored(raw: str | None):
    code_from_start(raw)
    owner = owner_from_name(raw)
    assert owner is None or owner >= 0


BUTTONS = st.lists(
    st.tuples(
        st.sampled_from(["button", "按钮", "Button"]),
        st.text(max_size=10),
        st.sampled_from(["https://x.example", "coupon ", "groupbuy ", "ftp://x", ""]),
        DIGITS | st.text(max_size=5),
    ).map(lambda t: f"{t[0]}: {t[1]} | {t[2]}{t[3]}"),
    max_size=3,
).map("\n".join)


@FAST
@given(st.text(), BUTTONS)
@example("hi", "button: Go | coupon ²")
@example("hi", "button: Go | groupbuy " + "9" * 5000)
@example("hi", "button: Go | coupon 99999999999999999999")
def test_post_buttons_are_read_or_refused_as_telegram_would(text: str, buttons: str):
    try:
        _, read = split_buttons(text + "\n" + buttons)
    except ValidationError:
        return
    assert all((b.coupon or 0) < 2**63 and (b.groupbuy or 0) < 2**63 for b in read)


HTMLISH = st.text(alphabet="<>/&;#x0123 biau\n", max_size=40)
PYDANTIC_WORDS = ("Value error", "Input should", "validation error", "Field required")


def said_without_pydantic(refused: ContentRefused) -> None:
    """The refusal reads the same in both languages' texts, without pydantic's own words."""
    for language in ("en", "zh"):
        said = CalendarTexts(language).content_refused(refused)
        assert not any(words in said for words in PYDANTIC_WORDS), said


@FAST
@given(
    st.tuples(st.text() | HTMLISH, BUTTONS).map("\n".join),
    st.none() | st.text(max_size=5),
)
@example("", None)
@example("<b>x" + "y" * 5000, "photo")
@example("hi\n" + "\n".join(["button: a | https://x.example"] * 9), None)
@example("hi\nbutton: Go | coupon 99999999999999999999", None)
def test_odd_posts_are_read_or_refused_with_a_code(text: str, photo: str | None):
    try:
        read_post(text, photo)
    except ContentRefused as refused:
        assert refused.problem in set(ContentProblem) - {ContentProblem.INVALID}
        said_without_pydantic(refused)


CONTENT = st.fixed_dictionaries(
    {},
    optional={
        "text": st.text(max_size=10) | JSON,
        "photo": st.text(max_size=5) | JSON,
        "buttons": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "text": st.text(max_size=70) | JSON,
                    "url": st.text(max_size=10) | JSON,
                    "coupon": st.integers() | JSON,
                    "groupbuy": st.integers() | JSON,
                },
            )
            | JSON,
            max_size=10,
        ),
        "pin": st.booleans() | JSON,
    },
)


@FAST
@given(CONTENT | JSON)
def test_odd_stored_content_validates_or_is_refused_with_a_code(data: object):
    try:
        PostContent.model_validate(data)
    except ValidationError as error:
        said_without_pydantic(refusal_of(error))


# -- calendar files ----------------------------------------------------------------------

POST = st.fixed_dictionaries(
    {"text": st.text(max_size=10)},
    optional={
        "day": st.integers(-2, 400) | st.text(max_size=3),
        "time": st.sampled_from(["09:00", "24:00", "9:5", ""]),
        "at": st.datetimes(timezones=st.just(dt.UTC) | st.none()) | st.text(max_size=5),
        "cron": CRON | st.text(max_size=10),
        "buttons": st.lists(
            st.fixed_dictionaries(
                {"text": st.text(max_size=5)},
                optional={"url": st.text(max_size=10), "coupon": st.integers()},
            ),
            max_size=2,
        ),
        "pin": st.booleans() | st.text(max_size=3),
    },
)
PHASE = st.fixed_dictionaries({"name": st.text(max_size=5), "posts": st.lists(POST, max_size=3)})
PLAN = st.fixed_dictionaries(
    {"phases": st.lists(PHASE, max_size=2)},
    optional={
        "timezone": ZONES | st.text(max_size=5),
        "start": st.datetimes(),
        "chat": st.integers(),
        "campaign": st.text(max_size=5),
    },
)


def read_calendar(text: str) -> None:
    """Load as `growthbot calendar import` does, then resolve every plan."""
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / "plan.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            plans = load(path)
        except FileError:
            return
    for plan, _ in plans:
        with contextlib.suppress(PlanError):
            resolve(plan, "Asia/Shanghai", NOW)


@FAST
@given(st.text())
@example("\x01")
@example("a: [" * 200)
@example("phases:\n- name: x\n  posts:\n  - {text: hi, at: 9999-12-31T23:59:59-10:00}\n")
def test_calendar_files_load_or_name_the_problem(text: str):
    read_calendar(text)


@FAST
@given(PLAN | JSON)
def test_calendar_structures_load_or_name_the_problem(data: object):
    read_calendar(yaml.safe_dump(data, allow_unicode=True))


@FAST
@given(PLAN)
def test_calendar_plans_resolve_or_name_the_post(data: dict[str, object]):
    try:
        plan = Plan.model_validate(data)
    except ValidationError:
        return
    with contextlib.suppress(PlanError):
        resolve(plan, "Asia/Shanghai", NOW)


@FAST
@given(PLAN | JSON)
def test_calendar_file_problems_are_said_from_codes(data: object):
    """What `growthbot calendar import` prints is said from codes, not by pydantic."""
    try:
        plan = Plan.model_validate(data)
    except ValidationError as error:
        said = [explain(each) for each in error.errors()]
    else:
        try:
            resolve(plan, "Asia/Shanghai", NOW)
            return
        except PlanError as error:
            said = [plan_problem(each) for each in error.problems]
    assert all(said) and not any(w in s for s in said for w in PYDANTIC_WORDS[:3]), said


# -- orders ------------------------------------------------------------------------------


@FAST
@given(st.dictionaries(st.sampled_from([*ORDER_KEYS, "x"]), ORDER_VALUES) | JSON)
def test_order_rows_and_bodies_validate_or_name_the_field(data: object):
    try:
        order = OrderIn.model_validate(data)
    except ValidationError:
        return
    assert 0 <= order.amount <= MAX_AMOUNT
    assert order.at.tzinfo is not None and order.at.utcoffset() == dt.timedelta(0)


@FAST
@given(st.dictionaries(st.sampled_from(ORDER_KEYS), ORDER_VALUES))
def test_order_csv_rows_validate_or_name_the_field(row: dict[str, object]):
    """CSV cells are strings."""
    cells = {k: v if isinstance(v, str) else json.dumps(v) for k, v in row.items()}
    with contextlib.suppress(ValidationError):
        OrderIn.model_validate(cells)


@given(st.text(max_size=12))
def test_read_int_reads_only_typed_digits_and_never_raises_anything_else(text: str):
    from campaigns.numbers import read_int

    try:
        value = read_int(text)
    except ValueError:
        return
    assert str(abs(value)) in unicodedata.normalize("NFKC", text).lstrip("+-0") or value == 0


def test_superscripts_and_other_scripts_are_no_amounts():
    from campaigns.numbers import read_int

    for typed in ("²", "٣", "1²", "1_000", "¹²"):
        with pytest.raises(ValueError):
            read_int(typed)
        with pytest.raises(ValueError):
            parse_money(typed)
    assert read_int("１２") == 12 and parse_money("１２")[0] == 1200


# -- /survey: ratings to an audience, polls within Telegram's limits ----------------------------

SURVEY_WORDS = st.lists(
    st.sampled_from(["csat", "NPS", "poll", "@vip", "@", "@a.b", "|", "｜", "||", "results",
                     "close", "list", "#7", "²", "🍵" * 60, "\u200b", "\n"])
    | st.text(max_size=30),
    max_size=16,
)  # fmt: skip


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@FAST
@given(SURVEY_WORDS)
@example(["poll", "Q", "|", "a", "|", "A"])
@example(["poll", "Q", *["|", "x"] * 12])
def test_survey_commands_are_read_within_telegrams_limits_or_refused_with_a_code(
    words: list[str],
):
    try:
        command = parse_survey_command(words)
    except SurveyInputError:
        return
    if command.question is not None:
        assert 1 <= utf16(command.question) <= QUESTION_MAX
    if command.kind is SurveyKind.POLL:
        assert len(command.options) in OPTIONS and command.audience is None
        assert all(1 <= utf16(o) <= OPTION_MAX and "\n" not in o for o in command.options)
        assert len({o.casefold() for o in command.options}) == len(command.options)
    if command.audience is not None:
        assert command.audience == parse_name(command.audience)


POLICY_WORDS = st.lists(
    st.sampled_from(["warn", "mute", "off", "all", "new", "WARN", "ban", "", ",", "全部"]),
    max_size=4,
).map(" ".join)


@FAST
@given(st.sampled_from([*MODERATION_EXAMPLES, "nope"]), st.text() | SPEC | DIGITS | POLICY_WORDS)
def test_every_moderation_value_is_applied_or_refused_and_reads_back(key: str, raw: str):
    try:
        changed = apply_moderation_setting(ModerationRules(), key, raw)
    except InvalidSetting:
        return
    assert ModerationRules.from_json(changed.to_json()) == changed


@FAST
@given(st.text(max_size=300) | st.lists(st.text(max_size=70), max_size=120).map(",".join))
def test_stop_words_are_read_within_their_limits_or_refused(raw: str):
    try:
        words = parse_stop_words(raw)
    except InvalidSetting as error:
        assert error.reason == "bad_words"
        return
    assert len(words) <= 100 and all(0 < len(w) <= 64 for w in words)


@FAST
@given(JSON)
def test_stored_moderation_settings_of_any_shape_are_read_or_defaulted(data: object):
    rules = ModerationRules.from_json(data if isinstance(data, dict) else None)
    assert isinstance(rules, ModerationRules)


@FAST
@given(
    st.text(max_size=200),
    st.lists(st.sampled_from(["url", "text_link", "mention", "bold", "bot_command"])),
    st.lists(st.text(min_size=1, max_size=10), max_size=5),
)
def test_any_message_has_features_and_a_verdict(text: str, entities: list[str], words):
    rules = ModerationRules(antispam=True, stop_words=tuple(words))
    features = features_of(text, entity_types=entities, media=True)
    for newcomer in (True, False):
        rule = spam_rule(features, rules, newcomer=newcomer)
        assert rule is None or verdict(rule, False, rules) is not None
    assert text_hash(text) is None or len(text_hash(text) or "") == 16


@FAST
@given(st.text(max_size=400))
def test_a_warn_reason_is_trimmed_to_its_limit_or_none(text: str):
    reason = parse_reason(text)
    assert reason is None or (0 < len(reason) <= 200 and reason == reason.strip())
