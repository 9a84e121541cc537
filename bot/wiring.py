"""The ports campaigns/ leaves open, filled in once at start by every entry point.

`build_application`, the `growthbot` command line and the tests call `install()`; nothing
depends on which module happened to be imported first.
"""

from __future__ import annotations

from bot.cron import ApschedulerCron
from campaigns.schedule import use_cron
from campaigns.services.coupons import reward_coupon, tier_coupon
from campaigns.services.referral import register_reward
from campaigns.services.tiers import register_coupon_reward


def install() -> None:
    """Install the cron engine, the coupon referral reward and the tier coupon (idempotent)."""
    use_cron(ApschedulerCron())
    register_reward("coupon", reward_coupon)
    register_coupon_reward(tier_coupon)
