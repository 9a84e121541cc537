"""Survey rules: CSAT and NPS computed by hand (no answers, all detractors, values off the
scale), pooled over several surveys and their change, each result's full distribution (a
poll's per option), a poll vote's one option, and the /survey parser (audiences and polls
within Telegram's limits), which never raises anything but its coded error."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.surveys import (
    OPTION_MAX,
    QUESTION_MAX,
    Survey,
    SurveyCommand,
    SurveyInputError,
    SurveyKind,
    SurveyProblem,
    SurveyRefused,
    SurveyVerb,
    change,
    csat,
    nps,
    on_scale,
    parse_survey_command,
    poll_choice,
    pooled,
    survey_result,
)

T0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)


def test_csat_is_the_share_of_fours_and_fives():
    # 10 answers: 5×5, 2×4, 1×3, 2×1 -> 7 satisfied of 10
    score = csat({5: 5, 4: 2, 3: 1, 1: 2})

    assert (score.answers, score.good, score.bad, score.value) == (10, 7, 3, 70.0)


def test_nps_is_promoters_minus_detractors_in_percent():
    # 20 answers: promoters 10×9-10 (50%), passives 4×7-8, detractors 6×0-6 (30%) -> NPS 20
    score = nps({10: 6, 9: 4, 8: 2, 7: 2, 6: 3, 3: 2, 0: 1})

    assert (score.answers, score.good, score.bad, score.value) == (20, 10, 6, 20.0)


def test_no_answers_have_no_score_rather_than_zero():
    assert csat({}).value is None and nps({}).value is None
    assert csat({}).answers == 0 and nps({}).answers == 0


def test_all_detractors_make_nps_minus_100_and_all_unsatisfied_csat_0():
    assert nps({0: 3, 6: 4}).value == -100.0
    assert csat({1: 2, 3: 1}).value == 0.0


def test_passives_alone_make_nps_zero():
    assert nps({7: 1, 8: 1}).value == 0.0


def test_values_off_the_scale_are_not_counted():
    assert csat({0: 4, 6: 1, 5: 1}).answers == 1
    assert nps({11: 3, -1: 2, 10: 1}).value == 100.0


def test_the_scales():
    assert [v for v in range(-1, 12) if on_scale(SurveyKind.CSAT, v)] == [1, 2, 3, 4, 5]
    assert [v for v in range(-1, 12) if on_scale(SurveyKind.NPS, v)] == list(range(11))


def test_a_result_lists_every_value_of_the_scale():
    survey = Survey(1, 1, SurveyKind.CSAT, "How was it?", T0, None)

    result = survey_result(survey, {5: 2, 2: 1})

    assert result.distribution == ((1, 0), (2, 1), (3, 0), (4, 0), (5, 2))
    assert result.score.value == pytest.approx(200 / 3)


def test_the_command_forms():
    assert parse_survey_command(["CSAT", "How", "was", "delivery?"]) == SurveyCommand(
        SurveyVerb.NEW, SurveyKind.CSAT, "How was delivery?"
    )
    assert parse_survey_command(["nps", "推荐", "我们吗？"]).question == "推荐 我们吗？"
    assert parse_survey_command(["results"]) == SurveyCommand(SurveyVerb.RESULTS)
    assert parse_survey_command(["results", "#7"]).survey_id == 7
    assert parse_survey_command(["close", "7"]) == SurveyCommand(SurveyVerb.CLOSE, survey_id=7)
    assert parse_survey_command(["list"]) == SurveyCommand(SurveyVerb.LIST)
    assert parse_survey_command(["nps", "@VIP", "Recommend", "us?"]) == SurveyCommand(
        SurveyVerb.NEW, SurveyKind.NPS, "Recommend us?", audience="vip"
    )
    assert parse_survey_command(["csat", "@老客", "满意吗？"]).audience == "老客"
    assert parse_survey_command(["csat", "Ask", "@vip"]).question == "Ask @vip"  # not first


def test_a_poll_is_a_question_and_its_options_between_bars():
    asked = parse_survey_command(["POLL", "Which", "flavour", "next?", "|", "Mango|Lychee"])
    chinese = parse_survey_command(["poll", "下次出什么口味？｜芒果｜荔枝｜", "桃子"])

    assert (asked.kind, asked.question) == (SurveyKind.POLL, "Which flavour next?")
    assert asked.options == ("Mango", "Lychee")
    assert chinese == SurveyCommand(
        SurveyVerb.NEW, SurveyKind.POLL, "下次出什么口味？", options=("芒果", "荔枝", "桃子")
    )
    twelve = parse_survey_command(["poll", "Q", *(f"|{i}" for i in range(12))])
    assert twelve.options == tuple(str(i) for i in range(12))


def test_an_empty_last_option_is_refused_not_dropped():
    with pytest.raises(SurveyInputError) as refused:
        parse_survey_command(["poll", "Which", "flavour", "next?", "|", "Mango|Lychee", "|"])

    assert refused.value.problem is SurveyProblem.OPTION


def test_a_poll_result_counts_votes_per_option_and_has_no_score():
    survey = Survey(3, 1, SurveyKind.POLL, "Which?", T0, None, ("Mango", "Lychee", "Peach"))

    result = survey_result(survey, {0: 2, 2: 1, 7: 4})  # option 7 does not exist

    assert result.distribution == ((0, 2), (1, 0), (2, 1))
    assert (result.score.answers, result.score.value) == (3, None)


def test_a_poll_vote_is_one_option_or_taken_back():
    survey = Survey(3, 1, SurveyKind.POLL, "Which?", T0, None, ("Mango", "Lychee"))

    assert poll_choice(survey, [1]) == 1
    assert poll_choice(survey, []) is None
    for forged in ([2], [-1], [0, 1]):
        with pytest.raises(SurveyRefused):
            poll_choice(survey, forged)


def test_surveys_pooled_count_every_answer_once_and_the_change_is_in_points():
    first, second = {5: 1, 4: 1}, {5: 1, 2: 1, 1: 2}  # 2 of 2, then 1 of 4

    together = pooled(SurveyKind.CSAT, [first, second])

    assert (together.answers, together.good, together.value) == (6, 3, 50.0)
    assert change(csat(first), csat(second)) == -75.0
    assert change(csat({}), csat(second)) is None
    assert pooled(SurveyKind.NPS, []).value is None


@pytest.mark.parametrize(
    ("words", "problem"),
    [
        ([], SurveyProblem.USAGE),
        (["quiz", "x"], SurveyProblem.USAGE),
        (["close"], SurveyProblem.USAGE),
        (["close", "-3"], SurveyProblem.ID),
        (["results", "²"], SurveyProblem.ID),
        (["csat"], SurveyProblem.QUESTION),
        (["csat", "x" * (QUESTION_MAX + 1)], SurveyProblem.QUESTION),
        (["csat", "a\u200bb"], SurveyProblem.QUESTION),
        (["csat", "@", "Rate", "us"], SurveyProblem.AUDIENCE),
        (["nps", "@v.i.p", "Rate", "us"], SurveyProblem.AUDIENCE),
        (["nps", "@" + "v" * 33, "Rate", "us"], SurveyProblem.AUDIENCE),
        (["csat", "@vip"], SurveyProblem.QUESTION),
        (["poll", "@vip", "Which?", "|", "a", "|", "b"], SurveyProblem.POLL_AUDIENCE),
        (["poll", "Which?"], SurveyProblem.OPTIONS),
        (["poll", "Which?", "|", "only"], SurveyProblem.OPTIONS),
        (["poll", "Which?", *["|", "x"] * 13], SurveyProblem.OPTIONS),
        (["poll", "|", "a", "|", "b"], SurveyProblem.QUESTION),
        (["poll", "Which?", "|", "a", "|", "|", "b"], SurveyProblem.OPTION),
        (["poll", "Which?", "|", "a", "|", "x" * (OPTION_MAX + 1)], SurveyProblem.OPTION),
        (["poll", "Which?", "|", "a", "|", "🍵" * 51], SurveyProblem.OPTION),  # 102 in UTF-16
        (["poll", "Which?", "|", "Mango", "|", "mango"], SurveyProblem.DUPLICATE),
        (["poll", "🍵" * 151, "|", "a", "|", "b"], SurveyProblem.QUESTION),
    ],
)
def test_anything_else_is_a_coded_error(words: list[str], problem: SurveyProblem):
    with pytest.raises(SurveyInputError) as refused:
        parse_survey_command(words)

    assert refused.value.problem is problem


@given(st.lists(st.text(max_size=40), max_size=6))
def test_the_parser_never_raises_anything_else(words: list[str]):
    try:
        command = parse_survey_command(words)
    except SurveyInputError:
        return
    if command.question is not None:
        assert 1 <= len(command.question) <= QUESTION_MAX


@given(st.dictionaries(st.integers(-3, 14), st.integers(0, 50)))
def test_scores_stay_within_their_ranges(distribution: dict[int, int]):
    c, n = csat(distribution), nps(distribution)

    assert c.value is None or 0 <= c.value <= 100
    assert n.value is None or -100 <= n.value <= 100
    assert (c.value is None) == (c.answers == 0)
