"""/manage: an admin picks one of their groups in a private chat, then runs admin commands
there for that group instead of in front of its members."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from campaigns.access import AccessDenied, ButtonKind
from campaigns.errors import UnknownChat
from campaigns.services.access import remember_buttons
from campaigns.services.chats import admin_groups, choose_group
from handlers.callbacks import ManageButton, callback_button, tapped
from handlers.deps import deps
from handlers.extract import Context, is_group, reply, sent_at, tap_of, texts_for

SHOWN = 20  # buttons on the chooser


async def manage_command(update: Update, context: Context) -> None:
    """In a private chat: a button per group the caller is an admin of."""
    t, user, d = await texts_for(update, context), update.effective_user, deps(context)
    if user is None or is_group(update.effective_chat):
        await reply(update, t.manage_in_private())
        return
    groups = await admin_groups(d.uow(), gate=d.gate(context.bot), user_id=user.id)
    if not groups:
        await reply(update, t.no_admin_groups())
        return
    titles = [g.title or str(g.chat_id) for g in groups[:SHOWN]]
    buttons = [  # two groups with one title are told apart by their chat id
        [callback_button(label(g.title, g.chat_id, titles), ManageButton(g.chat_id))]
        for g in groups[:SHOWN]
    ]
    message = update.effective_message
    assert message is not None
    sent = await message.reply_text(t.pick_group(), reply_markup=InlineKeyboardMarkup(buttons))
    await remember_buttons(
        d.uow(), kind=ButtonKind.CHOOSER, object_id=user.id, chat_id=sent.chat_id,
        message_id=sent.message_id, at=sent_at(update),
    )  # fmt: skip


async def on_manage(update: Update, context: Context) -> None:
    """A group picked on the chooser: remembered for the admin's next commands here."""
    query, user, d = update.callback_query, update.effective_user, deps(context)
    button = tapped(update, ManageButton)
    if query is None or user is None or button is None:
        return
    t = await texts_for(update, context)
    try:
        group = await choose_group(
            d.uow(), gate=d.gate(context.bot), user_id=user.id,
            chat_id=button.chat_id, tap=tap_of(update), at=sent_at(update, d.clock),
        )  # fmt: skip
    except (AccessDenied, UnknownChat) as error:
        denied = error if isinstance(error, AccessDenied) else None
        await query.answer(t.access_denied(denied) if denied else t.group_gone(), True)
        return
    await query.answer()
    await reply(update, t.managing(group.title or str(group.chat_id), group.chat_id))


def label(title: str | None, chat_id: int, titles: list[str]) -> str:
    """A group's button: its title, with its chat id when another listed group shares it."""
    name = title or str(chat_id)
    return f"{name} · {chat_id}" if titles.count(name) > 1 else name
