"""/segments (admins): members per stage, RFM segment and tier; buttons open the lists.

The report goes to the admin's private chat where possible (member names are not for the
whole group); in the group itself it is a summary without lists. A list's buttons are
honoured only on the message the bot sent for that group, and only for its admins.
"""

from __future__ import annotations

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest

from campaigns.access import ButtonKind
from campaigns.services.access import authorize_admin, checked_tap, remember_buttons
from campaigns.services.segments import (
    Dimension,
    MembersPage,
    SegmentsReport,
    segment_members,
    segments_report,
    set_threshold,
    threshold_days,
)
from campaigns.tiers import TierLadder
from handlers.callbacks import (
    SegmentButton,
    SegmentPageButton,
    SegmentView,
    callback_button,
    tapped,
)
from handlers.extract import is_group
from handlers.notify import send_private_message
from handlers.segment_texts import SegmentTexts
from handlers.use_case import Call, use_case

DIMENSIONS = {"s": Dimension.STAGE, "r": Dimension.RFM, "t": Dimension.TIER}


def view_parts(view: SegmentView) -> tuple[Dimension, str]:
    prefix, key = str(view).split("-", 1)
    return DIMENSIONS[prefix], key


def view_named(word: str, ladder: TierLadder | None = None) -> SegmentView | None:
    """`/segments list dormant` / `at_risk` / `2`, or a name as the report shows it in
    either language (`沉默`, `已流失`, `At Risk`) or a tier's name (`VIP`, the default
    ladder's in either language): the list, if any."""
    folded = word.casefold().replace("_", " ").replace("-", " ")
    for view in SegmentView:
        dimension, key = view_parts(view)
        if view is SegmentView.RFM_NEW:
            continue
        if folded == key.replace("_", " "):
            return view
        if dimension is not Dimension.TIER and folded in _shown_names(dimension, key):
            return view
    if folded in {"rfm new", "新客户"}:
        return SegmentView.RFM_NEW
    level = ladder.level_named(word) if ladder is not None else None
    if level is not None and level < 5:
        return SegmentView(f"t-{level}")
    return None


def _shown_names(dimension: Dimension, key: str) -> set[str]:
    """How the report names a stage or segment, in each language (without its icon)."""
    names = set()
    for language in ("en", "zh"):
        label = SegmentTexts(language).label(dimension, key)
        if dimension is Dimension.STAGE:
            label = label.split(" ", 1)[-1]
        names.add(label.casefold().replace("_", " ").replace("-", " "))
    return names


@use_case(SegmentTexts, admin=True)
async def segments_command(call: Call[SegmentTexts]) -> None:
    """`/segments`, `/segments set <key> <days>`, `/segments list <stage|segment|tier> [page]`."""
    words = call.words
    if not words:
        await _report(call)
    elif words[0].lower() == "set" and len(words) == 3:
        new = await set_threshold(
            call.deps.uow(), chat_id=call.group_id, key=words[1], value=words[2], now=call.at
        )
        await call.reply(call.t.threshold_set(words[1].lower(), threshold_days(new, words[1])))
    elif words[0].lower() == "list" and len(words) in (2, 3):
        ladder = (await call.deps.settings_of(call.group_id)).tiers
        view, page = view_named(words[1], ladder), _page(words[2] if len(words) == 3 else "1")
        if view is None:
            await call.reply(call.t.unknown_list())
        else:
            await _list(call, view, page, new_message=True)
    else:
        await call.reply(call.t.usage())


@use_case(SegmentTexts)
async def on_segment_button(call: Call[SegmentTexts]) -> None:
    """A list under the report (a new message) or a page of a list (edited in place)."""
    button = tapped(call.update, SegmentButton) or tapped(call.update, SegmentPageButton)
    if button is None or call.user_id is None:
        return
    d = call.deps
    await checked_tap(d.uow(), kind=ButtonKind.SEGMENTS, object_id=button.chat_id, tap=call.tap)
    await authorize_admin(d.gate(call.context.bot), group_id=button.chat_id, user_id=call.user_id)
    await call.speak_for(button.chat_id)  # the list reads like the report: the group's language
    call.chat = None
    await call.alert()
    await _list(
        call, button.view, button.page, new_message=isinstance(button, SegmentButton),
        group_id=button.chat_id,
    )  # fmt: skip


def _page(word: str) -> int:
    """A page number as typed (1 is the first), 0-based; anything else is the first."""
    return min(int(word), 9999) - 1 if word.isascii() and word.isdigit() and int(word) else 0


async def _report(call: Call[SegmentTexts]) -> None:
    await call.deps.buffer.flush()  # the stages shown must include the latest chatter
    report = await segments_report(call.deps.uow(), chat_id=call.group_id, now=call.at)
    text = call.t.report(report)
    if not is_group(call.update.effective_chat):
        buttons = _report_buttons(call, report)
        shown = await _send(call, call.update.effective_message, text, buttons)
        if shown is not None and buttons is not None:
            await _remember(call, shown, report.chat.chat_id)
        return
    assert call.user_id is not None
    sent = await send_private_message(
        call.context.bot, call.deps, call.user_id, text, _report_buttons(call, report)
    )
    if sent is None:  # the counts only: the lists are for a private chat
        await call.reply(call.t.report(report, buttons=False))
        return
    await _remember(call, sent, report.chat.chat_id)
    await call.reply(call.t.sent_privately())


async def _list(
    call: Call[SegmentTexts],
    view: SegmentView,
    page: int,
    *,
    new_message: bool,
    group_id: int | None = None,
) -> None:
    dimension, key = view_parts(view)
    if new_message:
        await call.deps.buffer.flush()  # a new list is refreshed: with the latest chatter
    listed = await segment_members(
        call.deps.uow(), chat_id=group_id or call.group_id, dimension=dimension, key=key,
        page=page, refresh_at=call.at if new_message else None,
    )  # fmt: skip
    text, markup = call.t.members(listed), _page_buttons(view, listed)
    query = call.update.callback_query
    if query is not None and not new_message:
        await _turn_page(query, text, markup)
        return
    if is_group(call.update.effective_chat):  # names never go to the group: privately
        assert call.user_id is not None
        sent = await send_private_message(call.context.bot, call.deps, call.user_id, text, markup)
        await call.reply(call.t.sent_privately() if sent else call.t.list_in_private())
    else:
        sent = await _send(call, call.update.effective_message, text, markup)
    if sent is not None and markup is not None:
        await _remember(call, sent, listed.chat.chat_id)


async def _turn_page(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """The same message shows the page tapped."""
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as error:  # a second tap on the same page: nothing to change
        if "not modified" not in str(error):
            raise


async def _send(
    call: Call[SegmentTexts],
    to: Message | None,
    text: str,
    markup: InlineKeyboardMarkup | None,
) -> Message | None:
    if to is None:
        return None
    if is_group(to.chat):
        markup = None  # names stay out of the group
    return await to.chat.send_message(text, reply_markup=markup)


async def _remember(call: Call[SegmentTexts], sent: Message, group_id: int) -> None:
    await remember_buttons(
        call.deps.uow(), kind=ButtonKind.SEGMENTS, object_id=group_id, chat_id=sent.chat_id,
        message_id=sent.message_id, at=call.at,
    )  # fmt: skip


def _report_buttons(call: Call[SegmentTexts], r: SegmentsReport) -> InlineKeyboardMarkup | None:
    chat_id = r.chat.chat_id
    buttons = [
        callback_button(
            f"{call.t.label(dimension, key, r.tier_names)} · {n}", SegmentButton(view, 0, chat_id)
        )
        for view in SegmentView
        for dimension, key in (view_parts(view),)
        for counts in ({Dimension.STAGE: r.stages, Dimension.RFM: r.rfm}.get(dimension, r.tiers),)
        if (n := counts.now.get(key, 0))
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return InlineKeyboardMarkup(rows) if rows else None


def _page_buttons(view: SegmentView, p: MembersPage) -> InlineKeyboardMarkup | None:
    chat_id = p.chat.chat_id
    row: list[InlineKeyboardButton] = []
    if p.page > 0:
        row.append(callback_button("◀", SegmentPageButton(view, p.page - 1, chat_id)))
    if p.page + 1 < p.pages:
        row.append(callback_button("▶", SegmentPageButton(view, p.page + 1, chat_id)))
    return InlineKeyboardMarkup([row]) if row else None
