"""Coupon use cases: offers, claims against stock and per-member limits, redemption (核销).

Every limit is held by the database inside one transaction: the coupon row's unique
(offer, member, slot) for the per-member limit, a conditional UPDATE for the stock, and a
conditional UPDATE from active to used for single use.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

from campaigns.access import ButtonKind, Gate, Tap, parse_id
from campaigns.audiences import parse_name
from campaigns.coupon_variants import AUDIENCE_SOURCE, arm_of, check_test
from campaigns.coupons import (
    CouponRejected,
    CouponState,
    OfferPurpose,
    OfferState,
    Reason,
    Template,
    check_offer,
    check_usable,
    coupon_state,
    in_audience,
    new_code,
    normalize,
    offer_state,
    used_at,
)
from campaigns.errors import DomainError
from campaigns.experiments import HOLDOUT, is_experiment
from campaigns.members import Person
from campaigns.orders import OrderIn
from campaigns.ports import UnitOfWork
from campaigns.ports.chats import ChatRecord
from campaigns.ports.coupons import CouponRecord, TemplateRecord
from campaigns.ports.members import Contact
from campaigns.referral import Reward
from campaigns.services.access import require_button, require_member
from campaigns.services.audiences import saved_expr
from campaigns.services.chats import claim_update, require_chat
from campaigns.services.orders import apply_order
from campaigns.services.segments import tapped
from campaigns.services.tiers import TierChange

CODE_ATTEMPTS = 3
log = logging.getLogger(__name__)


class Unavailable(StrEnum):
    """Why an offer cannot hand out a coupon (a claim, a grant, a post, an admin's end)."""

    UNKNOWN = "unknown"  # no such offer here, or not one members may claim
    ENDED = "ended"  # ended by an admin or past its end date
    SOLD_OUT = "sold_out"
    LIMIT = "limit"  # the member holds as many as the offer allows
    AUDIENCE = "audience"  # the offer is for newer members


@dataclass
class CouponUnavailable(DomainError):
    """An offer that cannot hand out a coupon now; nothing was changed."""

    reason: Unavailable
    offer: TemplateRecord | None = None
    offer_id: int | None = None  # the id an admin's command named, when no such offer is theirs

    @property
    def gone(self) -> bool:
        """Nothing is left to claim from the offer's posts: their button can go."""
        return self.reason in {Unavailable.SOLD_OUT, Unavailable.ENDED}


@dataclass(frozen=True)
class Issued:
    code: str
    offer: TemplateRecord
    expires_at: dt.datetime | None
    last: bool = False  # this one emptied the stock: the claim posts lose their button


@dataclass(frozen=True)
class Redemption:
    """What the cashier is told: the discount and what is left to pay."""

    code: str
    offer: TemplateRecord
    owner_id: int
    order: int
    discount: int
    promotion: TierChange | None = None  # the checkout made the member qualify for a tier

    @property
    def to_pay(self) -> int:
        return self.order - self.discount


def status_at(coupon: CouponRecord, now: dt.datetime) -> CouponState:
    """active, used or expired (expiry is not stored: it is a matter of time)."""
    return coupon_state(coupon.status, coupon.expires_at, now)


async def create_offer(
    uow: UnitOfWork,
    *,
    chat_id: int,
    name: str,
    template: Template,
    stock: int | None,
    per_member: int,
    at: dt.datetime,
    audience_joined_days: int | None = None,
    purpose: OfferPurpose = OfferPurpose.OFFER,
    variants: Sequence[Template] = (),
    holdout: int = 0,
    planned: int | None = None,
    update: tuple[int, int] | None = None,
) -> TemplateRecord:
    """Store a coupon offer for a group the bot is in; OfferRefused if members could never
    claim it as made (see `check_offer`), TermsRefused if its A/B test could not run.

    `variants` (A first; A's terms are `template`'s) and `holdout` make it an A/B test
    (campaigns/coupon_variants.py); `update` is (bot id, update id) of an admin's /coupon new,
    so a redelivery creates nothing twice."""
    check_offer(
        name=name,
        template=template,
        stock=stock,
        per_member=per_member,
        audience_joined_days=audience_joined_days,
        now=at,
    )
    check_test(len(variants), holdout, planned)
    if variants and variants[0] != template:
        raise ValueError("variant A's terms are the offer's own")
    if holdout and not variants:
        variants = (template,)  # one set of terms against a holdout: arm A
    async with uow:
        if update is not None:
            await claim_update(uow, update[0], update[1], at)
        record = await require_chat(uow, chat_id)
        offer_id = await uow.coupons.add_template(
            record.pk,
            name=name,
            template=template,
            stock=stock,
            per_member=per_member,
            at=at,
            audience_joined_days=audience_joined_days,
            purpose=purpose,
            variants=variants if is_experiment(len(variants), holdout) else (),
            holdout=holdout,
            planned=planned,
        )
        offer = await uow.coupons.template(offer_id)
        await uow.commit()
    assert offer is not None
    return offer


async def own_offer(uow: UnitOfWork, chat_pk: int, template_id: int) -> TemplateRecord:
    """An operator's offer of this group; anything else (another group's, a group-buy
    payout, an id that does not exist) is unknown here."""
    offer = await uow.coupons.template(template_id)
    if offer is None or offer.chat_pk != chat_pk or offer.purpose is not OfferPurpose.OFFER:
        raise CouponUnavailable(Unavailable.UNKNOWN, offer_id=template_id)
    return offer


async def offer_of(
    uow: UnitOfWork,
    *,
    chat_id: int,
    template_id: int,
    now: dt.datetime,
    update: tuple[int, int] | None = None,
) -> TemplateRecord:
    """An offer of this group that may be posted for claiming (live, not expired, not a
    group-buy's): an expired one is "ended", as a tap on its button would be.

    `update` is (bot id, update id) of a /coupon post, so a redelivery posts nothing twice.
    """
    async with uow:
        record = await require_chat(uow, chat_id)
        offer = await own_offer(uow, record.pk, template_id)
        state = state_of(offer, now)
        if state is not OfferState.LIVE:
            raise CouponUnavailable(Unavailable(state.value), offer)
        if update is not None:
            await claim_update(uow, update[0], update[1], now)
            await uow.commit()
    return offer


async def end_offer(uow: UnitOfWork, *, chat_id: int, template_id: int) -> TemplateRecord:
    """An admin ends an offer early: no more claims, grants or rewards from it."""
    async with uow:
        record = await require_chat(uow, chat_id)
        offer = await own_offer(uow, record.pk, template_id)
        if not await uow.coupons.end(offer.id):
            raise CouponUnavailable(Unavailable.ENDED, offer)
        ended = await uow.coupons.template(offer.id)
        await uow.commit()
    assert ended is not None
    return ended


@dataclass(frozen=True)
class OfferLine:
    """One line of /coupon list: the offer and how it is doing."""

    offer: TemplateRecord
    redeemed: int
    state: OfferState


async def group_offers(uow: UnitOfWork, *, chat_id: int, at: dt.datetime) -> list[OfferLine]:
    """The group's offers for /coupon list, newest first."""
    async with uow:
        record = await require_chat(uow, chat_id)
        offers = await uow.coupons.offers_of(record.pk)
    return [OfferLine(offer, redeemed, state_of(offer, at)) for offer, redeemed in offers]


def state_of(offer: TemplateRecord, now: dt.datetime) -> OfferState:
    """`offer_state` of a stored offer."""
    return offer_state(
        active=offer.active, valid_until=offer.template.valid_until, stock=offer.stock,
        issued=offer.issued, now=now, valid_days=offer.template.valid_days,
    )  # fmt: skip


async def claim(
    uow: UnitOfWork,
    *,
    gate: Gate,
    bot_id: int,
    update_id: int,
    template_id: int,
    person: Person,
    tap: Tap,
    at: dt.datetime,
    source: str = "claim",
) -> Issued:
    """Issue one coupon of the offer to the member, within stock and their limit.

    Only an operator's offer, tapped on a message the bot sent for it, by a present member
    of the offer's group.
    """
    async with uow:
        offer = await uow.coupons.template(template_id)
        if offer is None or offer.purpose is not OfferPurpose.OFFER:
            raise CouponUnavailable(Unavailable.UNKNOWN)
        await require_button(uow, ButtonKind.COUPON, offer.id, tap)
        chat = await uow.chats.by_pk(offer.chat_pk)
        if chat is None or not chat.active:
            raise CouponUnavailable(Unavailable.UNKNOWN)
        await require_member(uow, gate, chat, person.user_id)
        await claim_update(uow, bot_id, update_id, at)
        if state_of(offer, at) is OfferState.ENDED:  # sold out is for the stock UPDATE to say
            raise CouponUnavailable(Unavailable.ENDED, offer)
        await uow.users.upsert([person])
        await tapped(uow, chat, person.user_id, at)
        if offer.audience_joined_days is not None:
            member = await uow.members.stats(offer.chat_pk, person.user_id)
            joined = member.joined_at if member else None
            if not in_audience(joined, at, offer.audience_joined_days):
                raise CouponUnavailable(Unavailable.AUDIENCE, offer)
        issued = await issue_coupon(uow, offer, person.user_id, source=source, at=at)
        now = await uow.coupons.template(offer.id)
        if now is not None and now.stock is not None and now.issued >= now.stock:
            issued = replace(issued, last=True)
        await uow.commit()
    return issued


async def issue_coupon(
    uow: UnitOfWork, offer: TemplateRecord, user_id: int, *, source: str, at: dt.datetime
) -> Issued:
    """Take one from the stock, then insert the coupon in the member's next slot.

    Taking stock first means a refusal leaves nothing behind, even inside a larger
    transaction (a referral tier that grants a coupon).
    """
    held = await uow.coupons.held(offer.id, user_id)
    if held >= offer.per_member:
        raise CouponUnavailable(Unavailable.LIMIT, offer)
    if not await uow.coupons.take_stock(offer.id):
        current = await uow.coupons.template(offer.id)
        ended = current is not None and not current.active
        raise CouponUnavailable(Unavailable.ENDED if ended else Unavailable.SOLD_OUT, offer)
    arm = variant_of(offer, user_id)
    expires = offer.template.expires_at(at)
    for _ in range(CODE_ATTEMPTS + offer.per_member):
        code = new_code()
        if await uow.coupons.issue(
            offer, user_id, code=code, slot=held + 1, source=source, at=at, expires_at=expires,
            arm=arm,
        ):  # fmt: skip
            return Issued(code=code, offer=offer.for_arm(arm), expires_at=expires)
        # A concurrent claim took that slot (or, rarely, the code): look again.
        held = await uow.coupons.held(offer.id, user_id)
        if held >= offer.per_member:
            await uow.coupons.release_stock(offer.id)
            raise CouponUnavailable(Unavailable.LIMIT, offer)
    raise RuntimeError("could not find a free coupon code")


def variant_of(offer: TemplateRecord, user_id: int) -> str | None:
    """The variant whose terms the member gets (None for an offer that is not a test): never
    the holdout, which only an audience grant applies."""
    if not offer.is_test:
        return None
    return arm_of(offer.id, user_id, len(offer.variants), offer.holdout, may_hold_out=False)


def _require_not_ended(offer: TemplateRecord, at: dt.datetime) -> None:
    """An admin grant follows the offer's one rule too: an offer ended early or past its end
    date gives nothing (its coupons would expire before they were issued)."""
    state = offer_state(
        active=offer.active, valid_until=offer.template.valid_until, stock=None,
        issued=offer.issued, now=at, valid_days=offer.template.valid_days,
    )  # fmt: skip
    if state is OfferState.ENDED:
        raise CouponUnavailable(Unavailable.ENDED, offer)


async def grant(
    uow: UnitOfWork,
    *,
    bot_id: int,
    update_id: int,
    chat_id: int,
    template_id: int,
    person: Person,
    at: dt.datetime,
) -> Issued:
    """An admin gives one member a coupon of this group's offer (limits still apply)."""
    async with uow:
        await claim_update(uow, bot_id, update_id, at)
        record = await require_chat(uow, chat_id)
        offer = await own_offer(uow, record.pk, template_id)
        _require_not_ended(offer, at)
        await uow.users.upsert([person])
        issued = await issue_coupon(uow, offer, person.user_id, source="grant", at=at)
        await uow.commit()
    return issued


MAX_AUDIENCE_GRANT = 2000  # members one /coupon grant … @audience may reach (one transaction)


@dataclass(frozen=True)
class AudienceGrant:
    """What granting an offer to a saved audience did."""

    offer: TemplateRecord
    audience: str
    granted: int
    had_it: int  # at the per-member limit already
    missed: int  # none left: sold out or ended on the way
    held_out: int = 0  # the offer's A/B test kept them out: no coupon, the control


@dataclass
class AudienceTooLarge(DomainError):
    audience: str
    members: int
    limit: int = MAX_AUDIENCE_GRANT


async def grant_to_audience(
    uow: UnitOfWork,
    *,
    bot_id: int,
    update_id: int,
    chat_id: int,
    template_id: int,
    audience: str,
    at: dt.datetime,
) -> AudienceGrant:
    """An admin gives each member a saved audience selects now a coupon of the offer, as
    many as the stock allows (in member order), each within the per-member limit. The codes
    are not sent one by one: members see them with /mycoupons (a /broadcast to the same
    audience can say so). All in one transaction: a redelivery grants nothing twice.

    An offer with a holdout keeps its share of the members out: they get no coupon and a
    row that counts them as the control (a member who holds one already is not moved)."""
    name = parse_name(audience)
    async with uow:
        await claim_update(uow, bot_id, update_id, at)
        record = await require_chat(uow, chat_id)
        offer = await own_offer(uow, record.pk, template_id)
        _require_not_ended(offer, at)
        expr = await saved_expr(uow, record.pk, name)
        members = await uow.audiences.members(record.pk, expr, at, limit=MAX_AUDIENCE_GRANT + 1)
        if len(members) > MAX_AUDIENCE_GRANT:
            raise AudienceTooLarge(name, len(members))
        granted = had_it = held_out = 0
        for at_index, user_id in enumerate(members):
            if await _held_out(uow, offer, user_id, at):
                held_out += 1
                continue
            try:
                await issue_coupon(uow, offer, user_id, source=AUDIENCE_SOURCE, at=at)
                granted += 1
            except CouponUnavailable as err:
                if err.reason is not Unavailable.LIMIT:  # sold out or ended: the rest get none
                    missed = len(members) - at_index
                    break
                had_it += 1
        else:
            missed = 0
        await uow.commit()
    return AudienceGrant(offer, name, granted, had_it, missed, held_out)


async def _held_out(uow: UnitOfWork, offer: TemplateRecord, user_id: int, at: dt.datetime) -> bool:
    """Whether the offer's test holds this member of an audience grant out; recorded once,
    unless they already hold a coupon of it (they are in a variant's arm then)."""
    if not offer.holdout:
        return False
    arm = arm_of(offer.id, user_id, len(offer.variants), offer.holdout, may_hold_out=True)
    if arm != HOLDOUT or await uow.coupons.held(offer.id, user_id):
        return False
    await uow.coupons.hold_out(offer, user_id, at)
    return True


async def reward_coupon(
    uow: UnitOfWork, chat_pk: int, user_id: int, reward: Reward, key: str, at: dt.datetime
) -> None:
    """A referral tier's coupon; an offer that is gone or sold out is skipped, not fatal."""
    offer = await uow.coupons.template(reward.amount)
    if (
        offer is None
        or offer.chat_pk != chat_pk
        or not offer.active
        or offer.purpose is not OfferPurpose.OFFER
    ):
        log.warning("referral tier names coupon offer %s, which this group lacks", reward.amount)
        return
    try:
        await issue_coupon(uow, offer, user_id, source="referral", at=at)
    except CouponUnavailable as err:
        log.warning("referral coupon %s not issued to %s: %s", offer.id, user_id, err.reason)


async def redeem(
    uow: UnitOfWork,
    *,
    bot_id: int,
    update_id: int,
    chat_id: int,
    typed_code: str,
    order: int,
    staff_id: int,
    at: dt.datetime,
    currency: str | None = None,
) -> Redemption:
    """核销: validate the code for this group and order, then mark it used exactly once.

    `currency` is the order's if the cashier typed one (`$20`); else the coupon's.
    """
    code = normalize(typed_code)
    async with uow:
        await claim_update(uow, bot_id, update_id, at)
        record = await require_chat(uow, chat_id)
        coupon = await uow.coupons.by_code(code)
        if coupon is None:
            raise CouponRejected(Reason.UNKNOWN)
        if coupon.chat_pk != record.pk:
            raise CouponRejected(Reason.WRONG_GROUP)
        off = check_usable(
            coupon.offer.template,
            status=coupon.status,
            issued_at=coupon.issued_at,
            expires_at=coupon.expires_at,
            order=order,
            currency=currency or coupon.offer.template.currency,
            now=at,
        )
        if not await uow.coupons.redeem(
            coupon.id,
            by=staff_id,
            order_amount=order,
            discount=off,
            at=used_at(coupon.issued_at, at),
        ):
            raise CouponRejected(Reason.USED)
        # The checkout is an order too: it earns purchase points and the first-order reward.
        applied = await apply_order(
            uow,
            record,
            OrderIn(
                external_id=f"redeem:{code}",
                member=coupon.user_id,
                amount=str(Decimal(order - off) / 100),  # what the member paid
                currency=coupon.offer.template.currency,
                at=at,
                coupons=[code],
            ),
            source="redeem",
            now=at,
            redeemed=(code,),
        )
        await uow.commit()
    return Redemption(
        code=code, offer=coupon.offer, owner_id=coupon.user_id, order=order, discount=off,
        promotion=applied.promotion,
    )  # fmt: skip


async def tier_coupon(
    uow: UnitOfWork, record: ChatRecord, user_id: int, offer_ref: str, now: dt.datetime
) -> str | None:
    """A membership tier's entry coupon through the usual grant: the offer's name, or None
    for an offer that is not the group's live one or is sold out (the promotion stands)."""
    offer_id = parse_id(offer_ref)  # a ladder stored before its ids were checked, too
    if offer_id is None:
        return None
    offer = await uow.coupons.template(offer_id)
    if (
        offer is None
        or offer.chat_pk != record.pk
        or not offer.active
        or offer.purpose is not OfferPurpose.OFFER
    ):
        return None
    try:
        await issue_coupon(uow, offer, user_id, source="tier", at=now)
    except CouponUnavailable:
        return None
    return offer.name


@dataclass(frozen=True)
class MyCoupon:
    """A member's coupon with its group, whose clock its expiry is told in."""

    coupon: CouponRecord
    group_title: str | None
    timezone: str


async def my_coupons(uow: UnitOfWork, *, user_id: int, default_timezone: str) -> list[MyCoupon]:
    """A member's coupons in every group, newest first."""
    async with uow:
        coupons = await uow.coupons.of_member(user_id)
        groups = {pk: await uow.chats.by_pk(pk) for pk in {c.chat_pk for c in coupons}}
    out = []
    for c in coupons:
        group = groups.get(c.chat_pk)
        zone = group.settings.timezone if group is not None else default_timezone
        out.append(MyCoupon(c, group.title if group is not None else None, zone))
    return out


async def chat_coupons(uow: UnitOfWork, *, chat_id: int) -> list[CouponRecord]:
    """Every coupon issued in the group, for `export coupons`."""
    async with uow:
        record = await require_chat(uow, chat_id)
        return await uow.coupons.of_chat(record.pk)


REMIND_BEFORE = dt.timedelta(hours=24)


@dataclass(frozen=True)
class Reminder:
    coupon: CouponRecord
    owner: Contact
    group_title: str | None
    timezone: str


async def due_reminders(uow: UnitOfWork, *, now: dt.datetime, limit: int = 500) -> list[Reminder]:
    """Coupons expiring within 24 hours (`reminder_due`), each handed out once for a reminder."""
    async with uow:
        rows = await uow.coupons.claim_reminders(now, now + REMIND_BEFORE, limit)
        await uow.commit()
    return [Reminder(*row) for row in rows]
