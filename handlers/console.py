"""/manage: an admin picks one of their groups in a private chat, then runs admin commands
there for that group instead of in front of its members."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from campaigns.access import ButtonKind
from campaigns.ports.chats import ChatRecord
from campaigns.services.access import remember_buttons
from campaigns.services.chats import admin_groups, choose_group
from handlers.callbacks import ManageButton, callback_button, tapped
from handlers.console_texts import ConsoleTexts
from handlers.extract import is_group
from handlers.use_case import Call, use_case

SHOWN = 20  # buttons on the chooser


@use_case(ConsoleTexts)
async def manage_command(call: Call[ConsoleTexts]) -> None:
    """In a private chat: a button per group the caller is an admin of."""
    d = call.deps
    if call.user_id is None or is_group(call.update.effective_chat):
        await call.reply(call.t.manage_in_private())
        return
    groups = await admin_groups(d.uow(), gate=d.gate(call.context.bot), user_id=call.user_id)
    if groups:
        await _chooser(call, groups[:SHOWN])
    else:
        await call.reply(call.t.no_admin_groups())


@use_case(ConsoleTexts)
async def on_manage(call: Call[ConsoleTexts]) -> None:
    """A group picked on the chooser: remembered for the admin's next commands here."""
    button, d = tapped(call.update, ManageButton), call.deps
    if button is None or call.user_id is None:
        return
    group = await choose_group(
        d.uow(), gate=d.gate(call.context.bot), user_id=call.user_id,
        chat_id=button.chat_id, tap=call.tap, at=call.at,
    )  # fmt: skip
    await call.alert()
    await call.reply(call.t.managing(group.title or str(group.chat_id), group.chat_id))


async def _chooser(call: Call[ConsoleTexts], groups: list[ChatRecord]) -> None:
    """The groups' buttons; taps are honoured on this message only, by this admin only."""
    message, user_id = call.update.effective_message, call.user_id
    assert message is not None and user_id is not None
    titles = [g.title or str(g.chat_id) for g in groups]
    buttons = [  # two groups with one title are told apart by their chat id
        [callback_button(label(g.title, g.chat_id, titles), ManageButton(g.chat_id))]
        for g in groups
    ]
    sent = await message.reply_text(call.t.pick_group(), reply_markup=InlineKeyboardMarkup(buttons))
    await remember_buttons(
        call.deps.uow(), kind=ButtonKind.CHOOSER, object_id=user_id, chat_id=sent.chat_id,
        message_id=sent.message_id, at=call.at,
    )  # fmt: skip


def label(title: str | None, chat_id: int, titles: list[str]) -> str:
    """A group's button: its title, with its chat id when another listed group shares it."""
    name = title or str(chat_id)
    return f"{name} · {chat_id}" if titles.count(name) > 1 else name
