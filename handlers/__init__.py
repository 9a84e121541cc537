"""Thin Telegram adapters: parse the update, call a use case, render the reply."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatJoinRequestHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    PollAnswerHandler,
    filters,
)

from handlers.admin import set_command, settings_command
from handlers.analytics import cohorts_command, funnels_command
from handlers.audiences import audience_command, tag_command, tags_command, untag_command
from handlers.birthday import birthday_command
from handlers.broadcasts import broadcast_command, on_broadcast_button
from handlers.calendar import (
    on_schedule_button,
    post_command,
    posts_command,
    schedule_command,
    sequence_command,
)
from handlers.callbacks import (
    BroadcastButton,
    CaptchaButton,
    ChooserButton,
    ClaimButton,
    GroupBuyButton,
    ManageButton,
    ModLogButton,
    ScheduleButton,
    SegmentButton,
    SegmentPageButton,
    ShopButton,
    SurveyButton,
    pattern,
)
from handlers.campaigns import campaign_command
from handlers.captcha import on_captcha_tap, raid_command
from handlers.channels import link_command
from handlers.checkin import CHECKIN_WORDS, checkin_command
from handlers.console import manage_command, on_manage
from handlers.coupons import coupon_command, mycoupons_command, on_claim, redeem_command
from handlers.dashboard import dashboard_command
from handlers.errors import on_error
from handlers.faq import faq_command
from handlers.groupbuys import groupbuy_command, on_button
from handlers.invite import invite_command, invites_command, on_choose
from handlers.invite_links import on_join_request, track_private
from handlers.journeys import journey_command, subscribe_command
from handlers.listening import on_group_message
from handlers.members import (
    on_bot_membership,
    on_member_update,
    on_migrate,
    on_service_join_or_leave,
    track_message,
)
from handlers.moderation import (
    guard_message,
    modlog_command,
    on_undo,
    unwarn_command,
    warn_command,
    warns_command,
)
from handlers.profile import me_command, top_command
from handlers.referral import referral_command
from handlers.segments import on_segment_button, segments_command
from handlers.shop import on_redeem, points_command, shop_command
from handlers.start import help_command, unknown_in_private, unknown_tap
from handlers.stats import stats_command
from handlers.surveys import on_poll_answer, on_rating, survey_command
from handlers.tier import tier_command
from handlers.watch import watch_command

MODERATION, TRACKING, MEMBERS, COMMANDS, FALLBACK = -2, -1, 0, 1, 2
LISTENING = 3  # watch words and FAQ answers: last, so a handler that stops an update wins
GROUPS = filters.ChatType.GROUPS

ALLOWED_UPDATES = [
    Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY, Update.CHAT_MEMBER,
    Update.MY_CHAT_MEMBER, Update.CHAT_JOIN_REQUEST, Update.POLL_ANSWER,
]  # fmt: skip


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Handlers in ordered groups: anti-spam sees every message first (a message it deletes
    goes no further), then tracking, then membership, then commands."""
    # A text is never a service message: most messages pass on that cheap check, sparing
    # them StatusUpdate.ALL's fifty (a third of the dispatch cost of group chatter).
    not_service = filters.TEXT | ~filters.StatusUpdate.ALL
    member_messages = GROUPS & filters.UpdateType.MESSAGE & not_service
    guarded = member_messages | (GROUPS & filters.UpdateType.EDITED_MESSAGE)
    app.add_handler(MessageHandler(guarded, guard_message), group=MODERATION)
    app.add_handler(MessageHandler(member_messages, track_message), group=TRACKING)
    app.add_handler(
        MessageHandler(filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE, track_private),
        group=TRACKING,
    )

    app.add_handler(
        ChatMemberHandler(on_bot_membership, ChatMemberHandler.MY_CHAT_MEMBER), group=MEMBERS
    )
    app.add_handler(
        ChatMemberHandler(on_member_update, ChatMemberHandler.CHAT_MEMBER), group=MEMBERS
    )
    app.add_handler(
        MessageHandler(
            filters.StatusUpdate.NEW_CHAT_MEMBERS | filters.StatusUpdate.LEFT_CHAT_MEMBER,
            on_service_join_or_leave,
        ),
        group=MEMBERS,
    )
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate), group=MEMBERS)
    app.add_handler(ChatJoinRequestHandler(on_join_request), group=MEMBERS)

    commands = filters.UpdateType.MESSAGE
    app.add_handler(CommandHandler("checkin", checkin_command, commands), group=COMMANDS)
    app.add_handler(
        MessageHandler(GROUPS & commands & filters.Regex(CHECKIN_WORDS), checkin_command),
        group=COMMANDS,
    )
    app.add_handler(CommandHandler("me", me_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler("top", top_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler("tier", tier_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler("settings", settings_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler("set", set_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler(["start", "help"], help_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler("invite", invite_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler("invites", invites_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler("referral", referral_command, commands), group=COMMANDS)
    app.add_handler(CallbackQueryHandler(on_choose, pattern=pattern(ChooserButton)), group=COMMANDS)
    app.add_handler(CommandHandler("redeem", redeem_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler("mycoupons", mycoupons_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler("coupon", coupon_command, commands), group=COMMANDS)
    app.add_handler(CallbackQueryHandler(on_claim, pattern=pattern(ClaimButton)), group=COMMANDS)
    app.add_handler(CommandHandler("groupbuy", groupbuy_command, commands), group=COMMANDS)
    app.add_handler(
        CallbackQueryHandler(on_button, pattern=pattern(GroupBuyButton)), group=COMMANDS
    )
    app.add_handler(CommandHandler("schedule", schedule_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler("posts", posts_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler("post", post_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler("sequence", sequence_command, commands), group=COMMANDS)
    app.add_handler(
        CallbackQueryHandler(on_schedule_button, pattern=pattern(ScheduleButton)), group=COMMANDS
    )
    app.add_handler(CommandHandler("broadcast", broadcast_command, commands), group=COMMANDS)
    app.add_handler(
        CallbackQueryHandler(on_broadcast_button, pattern=pattern(BroadcastButton)), group=COMMANDS
    )
    app.add_handler(CommandHandler("tag", tag_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler("untag", untag_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler("tags", tags_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler("audience", audience_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler("manage", manage_command, commands), group=COMMANDS)
    app.add_handler(CallbackQueryHandler(on_manage, pattern=pattern(ManageButton)), group=COMMANDS)
    app.add_handler(CommandHandler("segments", segments_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler("funnels", funnels_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler("cohorts", cohorts_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler("stats", stats_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler("dashboard", dashboard_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler("raid", raid_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler("campaign", campaign_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler("link", link_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler("journey", journey_command, commands), group=COMMANDS)
    app.add_handler(
        CommandHandler(["subscribe", "unsubscribe"], subscribe_command, commands), group=COMMANDS
    )
    app.add_handler(CommandHandler("birthday", birthday_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler("watch", watch_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler("faq", faq_command, commands), group=COMMANDS)
    for kind in (SegmentButton, SegmentPageButton):
        app.add_handler(
            CallbackQueryHandler(on_segment_button, pattern=pattern(kind)), group=COMMANDS
        )
    app.add_handler(CommandHandler("shop", shop_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler("points", points_command, commands), group=COMMANDS)
    app.add_handler(CallbackQueryHandler(on_redeem, pattern=pattern(ShopButton)), group=COMMANDS)
    app.add_handler(CommandHandler("survey", survey_command, commands), group=COMMANDS)
    app.add_handler(CallbackQueryHandler(on_rating, pattern=pattern(SurveyButton)), group=COMMANDS)
    app.add_handler(PollAnswerHandler(on_poll_answer), group=COMMANDS)
    app.add_handler(CommandHandler("warn", warn_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler("warns", warns_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler("unwarn", unwarn_command, commands), group=COMMANDS)
    app.add_handler(CommandHandler("modlog", modlog_command, commands), group=COMMANDS)
    app.add_handler(CallbackQueryHandler(on_undo, pattern=pattern(ModLogButton)), group=COMMANDS)
    app.add_handler(
        CallbackQueryHandler(on_captcha_tap, pattern=pattern(CaptchaButton)), group=COMMANDS
    )
    app.add_handler(CallbackQueryHandler(unknown_tap), group=COMMANDS)  # after every pattern
    private = filters.ChatType.PRIVATE & commands
    app.add_handler(  # 签到 in a private chat is explained like /checkin
        MessageHandler(private & filters.Regex(CHECKIN_WORDS), checkin_command), group=COMMANDS
    )
    app.add_handler(MessageHandler(private & filters.COMMAND, unknown_in_private), group=FALLBACK)
    heard = GROUPS & filters.UpdateType.MESSAGE & (filters.TEXT | filters.CAPTION)
    app.add_handler(MessageHandler(heard & ~filters.COMMAND, on_group_message), group=LISTENING)
    app.add_error_handler(on_error)
