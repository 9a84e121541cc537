"""The composition root fills in the ports campaigns/ leaves open, whatever was imported."""

from __future__ import annotations

from bot import wiring
from bot.cron import ApschedulerCron
from campaigns.schedule import cron_engine
from campaigns.services.coupons import reward_coupon
from campaigns.services.referral import ISSUERS


def test_install_sets_the_cron_engine_and_the_coupon_reward() -> None:
    wiring.install()

    assert isinstance(cron_engine(), ApschedulerCron)
    assert ISSUERS["coupon"] is reward_coupon


def test_install_twice_is_harmless() -> None:
    wiring.install()
    wiring.install()

    assert ISSUERS["coupon"] is reward_coupon
    assert set(ISSUERS) == {"points", "title", "coupon"}
