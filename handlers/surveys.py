"""/survey (admins): feedback surveys (用户反馈) with rating buttons in the group or privately
to a saved audience, native polls, their results (privately where possible, like /stats),
the list and closing; and the two ways members answer: a rating tap and a poll vote."""

from __future__ import annotations

import logging
from typing import Any

from telegram import InputPollOption
from telegram.error import TelegramError

from campaigns.content import PostContent
from campaigns.services.surveys import (
    answer_poll,
    answer_survey,
    ask_audience,
    close_survey,
    discard_survey,
    list_surveys,
    remember_poll,
    remember_survey,
    start_survey,
    survey_report,
)
from campaigns.settings import language_for
from campaigns.surveys import SurveyCommand, SurveyKind, SurveyVerb, parse_survey_command
from handlers.callbacks import SurveyButton, tapped
from handlers.posting import survey_markup
from handlers.reports import figures_privately, report_privately
from handlers.survey_texts import SurveyTexts
from handlers.use_case import Call, use_case

log = logging.getLogger(__name__)
# A poll's question and options are plain text: the app's default HTML parse mode would make
# "A & B?" unreadable to Telegram, and PTB adds a `parse_mode` sendPoll does not have.
PLAIN: dict[str, Any] = {"parse_mode": None}


@use_case(SurveyTexts, admin=True)
async def survey_command(call: Call[SurveyTexts]) -> None:
    """`/survey csat|nps [@audience] <question>`, `/survey poll <question> | <options>`,
    `/survey results [id]`, `/survey list`, `/survey close <id>`; else the usage."""
    command = parse_survey_command(call.words)
    uow, group = call.deps.uow, call.group_id
    timezone = (await call.deps.settings_of(group)).timezone
    if command.verb is SurveyVerb.NEW:
        await _new(call, command)
    elif command.verb is SurveyVerb.CLOSE and command.survey_id is not None:
        await _close(call, command.survey_id)
    elif command.verb is SurveyVerb.LIST:
        listing = call.t.listing(await list_surveys(uow(), chat_id=group), timezone)
        await figures_privately(call, listing)
    else:
        report = await survey_report(uow(), chat_id=group, survey_id=command.survey_id)
        text = call.t.report(report, timezone)
        await report_privately(call, text, [], sent_note=call.t.sent_privately())


async def _new(call: Call[SurveyTexts], command: SurveyCommand) -> None:
    if command.kind is SurveyKind.POLL:
        await post_poll(call, command)
    elif command.audience is not None:
        await ask_privately(call, command)
    else:
        await post_survey(call, command)


async def _close(call: Call[SurveyTexts], survey_id: int) -> None:
    """Closed in the database first; a poll is then stopped in the group (best effort: a
    deleted poll message changes nothing, its votes are no longer taken either way)."""
    key, group = call.key, call.group_id
    closed = await close_survey(call.deps.uow(), bot_id=key[0], update_id=key[1], chat_id=group,
                                survey_id=survey_id, at=call.at)  # fmt: skip
    if closed.poll_message is not None:
        try:
            await call.context.bot.stop_poll(group, closed.poll_message)
        except TelegramError as error:
            log.warning("survey %s closed but its poll not stopped: %s", survey_id, error)
    await call.reply(call.t.closed(closed.survey))


def _from_elsewhere(call: Call[SurveyTexts]) -> bool:
    """Sent from a private chat (/manage): say where the question went."""
    chat = call.update.effective_chat
    return chat is None or chat.id != call.group_id


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
    if _from_elsewhere(call):
        await call.reply(call.t.posted(survey))


async def post_poll(call: Call[SurveyTexts], command: SurveyCommand) -> None:
    """A native, non-anonymous poll in the group (one option per member): votes name its
    poll id, so they are counted per member."""
    assert command.question is not None and call.user_id
    uow, key, group = call.deps.uow, call.key, call.group_id
    survey = await start_survey(uow(), bot_id=key[0], update_id=key[1], chat_id=group,
                                kind=SurveyKind.POLL, question=command.question,
                                options=command.options, by=call.user_id, at=call.at)  # fmt: skip
    # Each option plain too: PTB gives a bare string option the default parse mode.
    options = [InputPollOption(option, text_parse_mode=None) for option in survey.options]
    try:
        sent = await call.context.bot.send_poll(
            group, survey.question, options, is_anonymous=False,
            allows_multiple_answers=False, question_parse_mode=None, explanation_parse_mode=None,
            description_parse_mode=None, api_kwargs=PLAIN,
        )  # fmt: skip
    except TelegramError as error:
        log.warning("survey %s: Telegram refused its poll: %s", survey.id, error)
        await discard_survey(uow(), survey_id=survey.id)
        await call.reply(call.t.poll_refused(error.message))
        return
    if sent.poll is not None:
        await remember_poll(uow(), survey_id=survey.id, poll_id=sent.poll.id,
                            message_id=sent.message_id)  # fmt: skip
    if _from_elsewhere(call):
        await call.reply(call.t.posted(survey))


async def ask_privately(call: Call[SurveyTexts], command: SurveyCommand) -> None:
    """The question, in the group's language and naming the group, queued for each member
    of the audience who started the bot; the outbox sends it at Telegram's pace."""
    assert command.kind and command.question and command.audience and call.user_id
    d, key, group = call.deps, call.key, call.group_id
    words = SurveyTexts((await d.settings_of(group)).language)
    title = call.chat.title if call.chat is not None else None
    message = PostContent(text=words.private_question(command.kind, command.question, title))
    asked = await ask_audience(d.uow(), bot_id=key[0], update_id=key[1], chat_id=group,
                               kind=command.kind, question=command.question,
                               audience=command.audience, message=message, by=call.user_id,
                               at=call.at)  # fmt: skip
    if d.outbox is not None:
        d.outbox.kick()
    await call.reply(call.t.asked(asked))


@use_case(SurveyTexts)
async def on_rating(call: Call[SurveyTexts]) -> None:
    """A rating tap (in the group or privately): the answer taken (or changed), or why not,
    in the tapper's language."""
    button, member, d = tapped(call.update, SurveyButton), call.person, call.deps
    if button is None or member is None:
        return
    call.t = SurveyTexts(language_for(member.language_code, call.t.language))
    done = await answer_survey(
        d.uow(), gate=d.gate(call.context.bot), bot_id=call.key[0], update_id=call.key[1],
        survey_id=button.survey_id, value=button.value, person=member, tap=call.tap, at=call.at,
    )  # fmt: skip
    await call.alert(call.t.answered(done))


@use_case(SurveyTexts)
async def on_poll_answer(call: Call[SurveyTexts]) -> None:
    """A vote in a survey's poll (or taken back). Telegram expects no answer, so a refused
    vote (not a present member of the group, a closed survey) is only not counted."""
    vote, member, d = call.update.poll_answer, call.person, call.deps
    if vote is None or member is None:
        return
    await answer_poll(
        d.uow(), gate=d.gate(call.context.bot), bot_id=call.key[0], update_id=call.key[1],
        poll_id=vote.poll_id, person=member, option_ids=list(vote.option_ids), at=call.at,
    )  # fmt: skip
