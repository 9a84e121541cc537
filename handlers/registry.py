"""Every route: which update reaches which handler, in which group (bot/app.py registers
them). Apart from handlers/__init__ so that importing one handler does not load all."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatJoinRequestHandler,
    ChatMemberHandler,
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
from handlers.routing import (
    GROUP_MESSAGES,
    GUARDED,
    HEARD,
    JOINS_OR_LEAVES,
    MIGRATIONS,
    PRIVATE_MESSAGES,
    Callback,
    Commands,
    Taps,
    said_in_groups,
    said_in_private,
)
from handlers.segments import on_segment_button, segments_command
from handlers.shop import on_redeem, points_command, shop_command
from handlers.start import help_command, unknown_in_private, unknown_tap
from handlers.stats import stats_command
from handlers.surveys import on_poll_answer, on_rating, survey_command
from handlers.tier import tier_command
from handlers.watch import watch_command

MODERATION, TRACKING, MEMBERS, COMMANDS, FALLBACK = -2, -1, 0, 1, 2
LISTENING = 3  # watch words and FAQ answers: last, so a handler that stops an update wins

ALLOWED_UPDATES = [
    Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY, Update.CHAT_MEMBER,
    Update.MY_CHAT_MEMBER, Update.CHAT_JOIN_REQUEST, Update.POLL_ANSWER,
]  # fmt: skip


COMMAND_ROUTES: dict[str, Callback] = {
    "checkin": checkin_command, "me": me_command, "top": top_command, "tier": tier_command,
    "settings": settings_command, "set": set_command, "start": help_command,
    "help": help_command, "invite": invite_command, "invites": invites_command,
    "referral": referral_command, "redeem": redeem_command, "mycoupons": mycoupons_command,
    "coupon": coupon_command, "groupbuy": groupbuy_command, "schedule": schedule_command,
    "posts": posts_command, "post": post_command, "sequence": sequence_command,
    "broadcast": broadcast_command, "tag": tag_command, "untag": untag_command,
    "tags": tags_command, "audience": audience_command, "manage": manage_command,
    "segments": segments_command, "funnels": funnels_command, "cohorts": cohorts_command,
    "stats": stats_command, "dashboard": dashboard_command, "raid": raid_command,
    "campaign": campaign_command, "link": link_command, "journey": journey_command,
    "subscribe": subscribe_command, "unsubscribe": subscribe_command,
    "birthday": birthday_command, "watch": watch_command, "faq": faq_command,
    "shop": shop_command, "points": points_command, "survey": survey_command,
    "warn": warn_command, "warns": warns_command, "unwarn": unwarn_command,
    "modlog": modlog_command,
}  # fmt: skip
BUTTONS: list[tuple[type[Any], Callback]] = [
    (ChooserButton, on_choose), (ClaimButton, on_claim), (GroupBuyButton, on_button),
    (ScheduleButton, on_schedule_button), (BroadcastButton, on_broadcast_button),
    (ManageButton, on_manage), (SegmentButton, on_segment_button),
    (SegmentPageButton, on_segment_button), (ShopButton, on_redeem),
    (SurveyButton, on_rating), (ModLogButton, on_undo), (CaptchaButton, on_captcha_tap),
]  # fmt: skip


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Handlers in ordered groups: anti-spam sees every message first (a message it deletes
    goes no further), then tracking, then membership, then commands."""
    # Every filter here is one function (handlers/routing.py): PTB asks each handler of a
    # group in turn, and composed PTB filters made that a quarter of handling group chatter.
    app.add_handler(MessageHandler(GUARDED, guard_message), group=MODERATION)
    app.add_handler(MessageHandler(GROUP_MESSAGES, track_message), group=TRACKING)
    app.add_handler(MessageHandler(PRIVATE_MESSAGES, track_private), group=TRACKING)

    app.add_handler(
        ChatMemberHandler(on_bot_membership, ChatMemberHandler.MY_CHAT_MEMBER), group=MEMBERS
    )
    app.add_handler(
        ChatMemberHandler(on_member_update, ChatMemberHandler.CHAT_MEMBER), group=MEMBERS
    )
    app.add_handler(MessageHandler(JOINS_OR_LEAVES, on_service_join_or_leave), group=MEMBERS)
    app.add_handler(MessageHandler(MIGRATIONS, on_migrate), group=MEMBERS)
    app.add_handler(ChatJoinRequestHandler(on_join_request), group=MEMBERS)

    app.add_handler(Commands(COMMAND_ROUTES, filters.UpdateType.MESSAGE), group=COMMANDS)
    app.add_handler(  # 签到 in a group is a check-in
        MessageHandler(said_in_groups(CHECKIN_WORDS), checkin_command), group=COMMANDS
    )
    taps = [CallbackQueryHandler(on_tap, pattern=pattern(kind)) for kind, on_tap in BUTTONS]
    taps.append(CallbackQueryHandler(unknown_tap))  # after every pattern: refuses the rest
    app.add_handler(Taps(taps), group=COMMANDS)
    app.add_handler(PollAnswerHandler(on_poll_answer), group=COMMANDS)
    app.add_handler(  # 签到 in a private chat is explained like /checkin
        MessageHandler(said_in_private(CHECKIN_WORDS), checkin_command), group=COMMANDS
    )
    app.add_handler(
        MessageHandler(PRIVATE_MESSAGES & filters.COMMAND, unknown_in_private), group=FALLBACK
    )
    app.add_handler(MessageHandler(HEARD, on_group_message), group=LISTENING)
    app.add_error_handler(on_error)
