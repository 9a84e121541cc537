"""/dashboard: open the operator dashboard (a Telegram Mini App served by the bot itself).

In a private chat it answers with a web_app button; in a group (admins only) with a
t.me link carrying the group's signed token, because web_app buttons work only in private
chats; `/dashboard login` in private gives a one-time link for a desktop browser.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo

from campaigns.access import AccessDenied, Denied
from handlers.dashboard_texts import DashboardTexts
from handlers.extract import is_group
from handlers.use_case import Call, is_admin, use_case


@use_case(DashboardTexts)
async def dashboard_command(call: Call[DashboardTexts]) -> None:
    """The way in that works where the command was sent; refusals come from the decorator."""
    links, t, user = call.deps.dashboard, call.t, call.user
    if links is None or user is None:
        await call.reply(t.not_configured())
    elif is_group(call.update.effective_chat):
        if not await is_admin(call.update, call.context):
            raise AccessDenied(Denied.ADMIN_COMMAND)
        wants_login = [w.lower() for w in call.words] == ["login"]
        await call.reply(
            t.login_in_private() if wants_login else t.group_link(links.group_link(call.group_id))
        )
    elif [w.lower() for w in call.words] == ["login"]:
        await call.reply(t.login_link(*links.login_link(user.id, t.language, user.full_name)))
    else:
        button = InlineKeyboardButton(t.open_button(), web_app=WebAppInfo(links.app_url()))
        await call.reply(t.open_private(), reply_markup=InlineKeyboardMarkup([[button]]))
