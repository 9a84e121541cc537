"""A post as Telegram shows it: the admin's preview and the outbox sender both send it so;
and a survey's rating buttons, under its question in the group or sent privately."""

from __future__ import annotations

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message

from campaigns.content import PostContent
from campaigns.surveys import Survey
from handlers.callbacks import (
    ClaimButton,
    GroupBuyButton,
    GroupBuyVerb,
    SurveyButton,
    callback_button,
)
from handlers.survey_texts import SurveyTexts


def markup_of(content: PostContent) -> InlineKeyboardMarkup | None:
    """One button per row: a link, 🎟 claim (`cpn:`) or ➕ join (`gb:a:`)."""
    if not content.buttons:
        return None
    rows = []
    for b in content.buttons:
        if b.url is not None:
            rows.append([InlineKeyboardButton(b.text, url=b.url)])
        elif b.coupon is not None:
            rows.append([callback_button(b.text, ClaimButton(b.coupon))])
        elif b.groupbuy is not None:
            join = GroupBuyButton(GroupBuyVerb.JOIN_ANY, b.groupbuy)
            rows.append([callback_button(b.text, join)])
    return InlineKeyboardMarkup(rows)


def survey_markup(survey: Survey) -> InlineKeyboardMarkup:
    """CSAT: 1-5 in one row; NPS: 0-5 and 6-10 in two (`sv:<survey>:<value>`)."""
    values = list(survey.scale)
    rows = [values] if len(values) <= 5 else [values[:6], values[6:]]
    return InlineKeyboardMarkup(
        [[callback_button(SurveyTexts.button(survey.kind, v), SurveyButton(survey.id, v))
          for v in row] for row in rows]
    )  # fmt: skip


async def send_content(
    bot: Bot,
    chat_id: int,
    content: PostContent,
    photo: str | InputFile | None = None,
    *,
    survey: Survey | None = None,
) -> Message:
    """The post as members see it (also the admin's preview); `photo` replaces a stored
    photo reference with what Telegram takes (a file id or the upload); a `survey`'s rating
    buttons go under its question instead of the content's own."""
    markup = survey_markup(survey) if survey is not None else markup_of(content)
    if content.photo:
        return await bot.send_photo(
            chat_id,
            photo or content.photo,
            caption=content.text,
            parse_mode="HTML",
            disable_notification=content.silent,
            reply_markup=markup,
        )
    return await bot.send_message(
        chat_id,
        content.text,
        parse_mode="HTML",
        disable_notification=content.silent,
        reply_markup=markup,
    )
