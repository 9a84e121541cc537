"""/survey (admins): feedback surveys (用户反馈) with rating buttons in the group, their
results (privately where possible, like /stats), the list and closing; and the rating tap."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from campaigns.services.surveys import (
    answer_survey,
    close_survey,
    list_surveys,
    remember_survey,
    start_survey,
    survey_report,
)
from campaigns.settings import language_for
from campaigns.surveys import SCALE, Survey, SurveyCommand, SurveyVerb, parse_survey_command
from handlers.callbacks import SurveyButton, callback_button, tapped
from handlers.reports import report_privately
from handlers.survey_texts import SurveyTexts
from handlers.use_case import Call, use_case


def survey_markup(survey: Survey) -> InlineKeyboardMarkup:
    """CSAT: 1-5 in one row; NPS: 0-5 and 6-10 in two."""
    values = list(SCALE[survey.kind])
    rows = [values] if len(values) <= 5 else [values[:6], values[6:]]
    return InlineKeyboardMarkup([[_button(survey, v) for v in row] for row in rows])


def _button(survey: Survey, value: int) -> InlineKeyboardButton:
    return callback_button(SurveyTexts.button(survey.kind, value), SurveyButton(survey.id, value))


@use_case(SurveyTexts, admin=True)
async def survey_command(call: Call[SurveyTexts]) -> None:
    """`/survey csat|nps <question>`, `/survey results [id]`, `/survey list`,
    `/survey close <id>`; anything else gets the usage."""
    command = parse_survey_command(call.words)
    uow, key, group = call.deps.uow, call.key, call.group_id
    timezone = (await call.deps.settings_of(group)).timezone
    if command.verb is SurveyVerb.NEW:
        await post_survey(call, command)
    elif command.verb is SurveyVerb.CLOSE and command.survey_id is not None:
        closed = await close_survey(uow(), bot_id=key[0], update_id=key[1], chat_id=group,
                                    survey_id=command.survey_id, at=call.at)  # fmt: skip
        await call.reply(call.t.closed(closed))
    elif command.verb is SurveyVerb.LIST:
        await call.reply(call.t.listing(await list_surveys(uow(), chat_id=group), timezone))
    else:
        report = await survey_report(uow(), chat_id=group, survey_id=command.survey_id)
        text = call.t.report(report, timezone)
        await report_privately(call, text, [], sent_note=call.t.sent_privately())


async def post_survey(call: Call[SurveyTexts], command: SurveyCommand) -> None:
    """The question goes to the group with its buttons, which count on that message only."""
    assert command.kind is not None and command.question is not None and call.user_id
    uow, key, group = call.deps.uow, call.key, call.group_id
    survey = await start_survey(uow(), bot_id=key[0], update_id=key[1], chat_id=group,
                                kind=command.kind, question=command.question, by=call.user_id,
                                at=call.at)  # fmt: skip
    sent = await call.context.bot.send_message(
        group, call.t.question(survey), reply_markup=survey_markup(survey)
    )
    await remember_survey(uow(), chat_id=group, message_id=sent.message_id, survey_id=survey.id,
                          at=call.at)  # fmt: skip
    if call.update.effective_chat is None or call.update.effective_chat.id != group:
        await call.reply(call.t.posted(survey))  # from /manage: say where it went


@use_case(SurveyTexts)
async def on_rating(call: Call[SurveyTexts]) -> None:
    """A rating tap: the answer taken (or changed), or why not, in the tapper's language."""
    button, member, d = tapped(call.update, SurveyButton), call.person, call.deps
    if button is None or member is None:
        return
    call.t = SurveyTexts(language_for(member.language_code, call.t.language))
    done = await answer_survey(
        d.uow(), gate=d.gate(call.context.bot), bot_id=call.key[0], update_id=call.key[1],
        survey_id=button.survey_id, value=button.value, person=member, tap=call.tap, at=call.at,
    )  # fmt: skip
    await call.alert(call.t.answered(done))
