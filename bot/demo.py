"""`growthbot demo`: a simulated community played through the real Application, offline.

Members join, chat, check in (some every day, some now and then), one leaves, an update is
redelivered, a non-admin tries an admin command. Every request goes through PTB's real HTTP
request class to the project's Bot API double, which checks it against the official spec.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from telegram import Update

from bot.app import GrowthApp, build_application, start_offline, stop_offline
from bot.budget import ChatBudget
from bot.clock import SystemClock
from bot.double import FakeTelegram
from bot.double.transport import double_request
from bot.jobs import refresh_progress
from bot.outbox import OutboxSender
from bot.settings import Settings
from campaigns.coupons import CouponKind, Template
from campaigns.groupbuys import Deal
from campaigns.orders import OrderIn
from campaigns.services.calendar import group_posts, hand_over_due
from campaigns.services.campaigns import list_campaigns
from campaigns.services.coupons import create_offer, group_offers
from campaigns.services.groupbuys import create_deal, expire_teams
from campaigns.services.invite_links import mark_reachable
from campaigns.services.journeys import run_journeys
from campaigns.services.orders import record_order
from campaigns.services.profile import export_members
from campaigns.services.referral import sweep
from campaigns.services.segments import refresh_all
from handlers.callbacks import ClaimButton, GroupBuyButton, GroupBuyVerb, ShopButton, build, parse
from handlers.groupbuys import announce_expired
from handlers.journey_texts import render as render_journey
from handlers.notify import send_notices, send_tier_changes
from storage.engine import create_engine, session_factory
from storage.migrate import upgrade_async
from storage.uow import SqlUnitOfWork

GROUP = -1001234567890
OWNER = 1001
STAFF = 1002
FIRST = [
    "小美",
    "阿强",
    "Lily",
    "王芳",
    "Tom",
    "陈晨",
    "Mia",
    "李雷",
    "韩梅梅",
    "Ken",
    "Zoe",
    "张伟",
    "Ava",
    "刘洋",
    "Leo",
    "赵敏",
    "Noah",
    "周杰",
    "Emma",
    "孙悦",
]
LAST = ["", "Chen", "Wang", "Li", "Smith", "Lin", ""]
PERSONAS = [("loyal", 0.9, 6), ("regular", 0.75, 4), ("casual", 0.35, 2), ("lurker", 0.05, 0)]


def _plain(html_text: str) -> str:
    return (
        re.sub(r"<[^>]+>", "", html_text)
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
        .replace("&quot;", '"')
    )


FRIENDS = ["小林", "阿杰", "Nina", "王磊", "Oscar", "小雨"]


class StoryClock(SystemClock):
    """The system clock, moved to a moment of the story while one is played: a button tap
    carries no time of its own (Telegram's callback queries have none), so the bot reads
    the clock, and a tap "a week later" has to find the bot a week later too."""

    def __init__(self) -> None:
        self.at: dt.datetime | None = None

    def now(self) -> dt.datetime:
        return self.at or super().now()


class Demo:
    """Drives the real Application with updates from the double and narrates a few moments."""

    def __init__(self, app: GrowthApp, world: FakeTelegram, clock: StoryClock) -> None:
        self.app = app
        self.world = world
        self.clock = clock  # the application's
        self.highlights: list[str] = []

    async def feed(self, update: dict[str, Any]) -> list[str]:
        """Process one update as polling would; returns the bot's replies to it."""
        before = len(self.world.calls)
        await self.app.process_update(Update.de_json(update, self.app.bot))
        return [
            c.text
            for c in self.world.calls[before:]
            if c.method == "sendMessage" and c.status == 200  # what members actually saw
        ]

    async def sweep(self, at: dt.datetime) -> int:
        """The scheduled referral sweep, run at a simulated time; returns notices sent."""
        deps = self.app.bot_data.deps
        await deps.buffer.flush()
        notices = await sweep(deps.uow, now=at)
        await send_notices(self.app.bot, deps, notices)
        return len(notices)

    async def show(self, caption: str, update: dict[str, Any]) -> list[str]:
        """Process and keep the exchange for the transcript."""
        replies = await self.feed(update)
        said = update.get("message", {}).get("text", "")
        self.highlights.append(
            f"— {caption}\n  » {said}\n"
            + "\n".join("  « " + _plain(r).replace("\n", "\n    ") for r in replies)
        )
        return replies


# The story casts members by position: 0-7 check in, invite, farm and chat, 8-11 form a
# group-buy team of three plus a latecomer; every member has joined by the third day.
MIN_MEMBERS = 12
MIN_DAYS = 3


def too_small(*, days: int, members: int) -> str | None:
    """Why the story cannot be told with these numbers (None if it can)."""
    if members < MIN_MEMBERS:
        return (
            f"demo --members {members}: the story needs at least {MIN_MEMBERS} members "
            f"(inviters, a re-join farmer, a leaver, a group-buy team and a latecomer), "
            f"e.g. --members {MIN_MEMBERS}"
        )
    if days < MIN_DAYS:
        return (
            f"demo --days {days}: members join over the first {MIN_DAYS} days, so give at "
            f"least {MIN_DAYS}, e.g. --days {MIN_DAYS}"
        )
    return None


async def play(*, days: int, members: int, seed: int, db_path: str | None) -> int:
    """Run the scripted community and print what happened."""
    if (problem := too_small(days=days, members=members)) is not None:
        print(f"growthbot: {problem}", file=sys.stderr)
        return 2
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(db_path) if db_path else Path(tmp) / "demo.db"
        url = f"sqlite+aiosqlite:///{path}"
        await upgrade_async(url)
        settings = Settings(
            telegram_bot_token="0:demo",
            database_url=url,
            default_timezone="Asia/Shanghai",
            default_language="zh",
            _env_file=None,
        )
        world = FakeTelegram()
        # Days pass in seconds here: Telegram's per-minute limits would make them minutes.
        unlimited = ChatBudget(group_limit=1_000_000, overall=1_000_000)
        clock = StoryClock()
        app = build_application(
            settings, request=double_request(world), budget=unlimited, clock=clock
        )
        await start_offline(app)
        try:
            demo = Demo(app, world, clock)
            stats = await _script(demo, world, rng, days=days, members=members)
        finally:
            await stop_offline(app)
        engine = create_engine(url)
        try:
            rows = await export_members(
                SqlUnitOfWork(session_factory(engine)), chat_id=GROUP, at=stats["end"]
            )
        finally:
            await engine.dispose()
        _report(world, demo.highlights, rows, days)
        return 1 if world.problems() else 0


async def _script(
    demo: Demo, world: FakeTelegram, rng: random.Random, *, days: int, members: int
) -> dict[str, Any]:
    start = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).replace(
        hour=1, minute=0, second=0, microsecond=0
    )
    world.add_user(OWNER, "店长 Amy", username="sunny_amy", language_code="zh-hans")
    world.add_user(STAFF, "Staff Ben", username="sunny_ben", language_code="en")
    world.add_group(GROUP, "晴天奶茶 Sunny Tea 粉丝群", owner=OWNER)
    world.set_status(GROUP, STAFF, "administrator")
    await demo.feed(world.add_bot(GROUP, by=OWNER, at=start))
    await demo.show(
        "the owner sets the group's check-in bonus milestones",
        world.message(GROUP, OWNER, "/set milestones 3:5,7:10", at=start),
    )
    opens, closes = start.date(), (start + dt.timedelta(days=days + 1)).date()
    await demo.show(
        "and plans the campaign with its targets (its 复盘 comes at the end)",
        world.message(
            GROUP, OWNER,
            f"/campaign new 冬季拉新 {opens:%Y-%m-%d} {closes:%Y-%m-%d} joins=40 gmv=3000 "
            "coupons_redeemed=5 budget=300",
            at=start,
        ),
    )  # fmt: skip

    people: list[tuple[int, str]] = []
    for i in range(members):
        uid = 20_000 + i
        first = FIRST[i % len(FIRST)]
        if i == 3:
            first = '<b>Bob & "Co"</b>'
        elif i == 4:
            first = "Dr. Who!"
        world.add_user(
            uid,
            first,
            last_name=rng.choice(LAST) or None,
            language_code=rng.choice(["zh-hans", "en", None]),
        )
        people.append((uid, PERSONAS[0 if i < 6 else rng.randrange(len(PERSONAS))][0]))

    joined: set[int] = set()
    left: set[int] = set()
    stats: dict[str, Any] = {"checkin_replies": 0, "already": 0, "joins": 0}
    leaver = people[-1][0]
    for day in range(days):
        base = start + dt.timedelta(days=day)
        # A wave of joins each of the first days; some carry both update kinds (counted once).
        for uid, _ in people[day * members // 3 : (day + 1) * members // 3] if day < 3 else []:
            at = base + dt.timedelta(minutes=rng.randrange(30, 600))
            await demo.feed(world.member_update(GROUP, uid, "member", at=at))
            if rng.random() < 0.5:
                await demo.feed(world.join_message(GROUP, [uid], at=at))
            joined.add(uid)
            stats["joins"] += 1
        for uid, persona in people:
            if uid not in joined or uid in left:
                continue
            _, p_checkin, chatter = next(p for p in PERSONAS if p[0] == persona)
            for _ in range(rng.randint(0, chatter)):
                at = base + dt.timedelta(minutes=rng.randrange(60, 900))
                await demo.feed(
                    world.message(
                        GROUP, uid, rng.choice(["好喝!", "今天有新品吗", "👍", "nice"]), at=at
                    )
                )
            if rng.random() < p_checkin:
                at = base + dt.timedelta(minutes=rng.randrange(0, 120))
                text = rng.choice(["/checkin", "签到", "打卡"])
                update = world.message(GROUP, uid, text, at=at)
                if uid == people[0][0] and day in {2, days - 1}:
                    await demo.show(f"day {day + 1}: a loyal member checks in", update)
                else:
                    stats["checkin_replies"] += len(await demo.feed(update))
                if rng.random() < 0.1:
                    stats["already"] += 1
                    again = world.message(GROUP, uid, "/checkin", at=at + dt.timedelta(minutes=5))
                    if stats["already"] == 1:
                        await demo.show("a second check-in the same day", again)
                    else:
                        await demo.feed(again)
        if day == 1:
            replay = world.message(GROUP, people[1][0], "签到", at=base + dt.timedelta(hours=3))
            await demo.feed(replay)
            replies = await demo.feed(replay)
            demo.highlights.append(
                "— Telegram redelivers a check-in after a crash: the second "
                f"delivery gets {len(replies)} replies and nothing is counted twice"
            )
        if day == days // 2:
            await demo.feed(
                world.member_update(GROUP, leaver, "left", at=base + dt.timedelta(hours=23))
            )
            left.add(leaver)
            await demo.show(
                "a member (not an admin) tries to change settings",
                world.message(
                    GROUP, people[5][0], "/set checkin_points 1000", at=base + dt.timedelta(hours=6)
                ),
            )
    end = start + dt.timedelta(days=days - 1, hours=14)
    await demo.show(
        "the points leaderboard (zh)", world.message(GROUP, people[2][0], "/top", at=end)
    )
    await demo.show("a member's own numbers", world.message(GROUP, people[3][0], "/me", at=end))
    await demo.show(
        "the owner switches the group to English",
        world.message(GROUP, OWNER, "/set language en", at=end),
    )
    await demo.show(
        "the streak leaderboard (en)", world.message(GROUP, people[4][0], "/top streak", at=end)
    )
    await demo.show(
        "a bad value gets a clear answer with an example",
        world.message(GROUP, STAFF, "/set timezone Mars/Olympus", at=end),
    )
    stats["end"] = end
    stats["referrals"] = await _referrals(demo, world, people, start=end - dt.timedelta(days=4))
    stats["coupons"] = await _coupons(demo, world, people, at=end)
    stats["shop"] = await _shop(demo, world, people, at=end + dt.timedelta(hours=4))
    stats["groupbuys"] = await _groupbuys(demo, world, people)
    stats["calendar"] = await _calendar(demo, world, people)
    stats["segments"] = await _segments(demo, world, people)
    stats["journeys"] = await _journeys(demo, world, people)
    stats["charts"] = await _stats(demo, world)
    await _retro(demo, world)
    return stats


async def _referrals(
    demo: Demo, world: FakeTelegram, people: list[tuple[int, str]], *, start: dt.datetime
) -> dict[str, Any]:
    """老带新: an honest inviter, a deep link, a self-invite, a re-join farmer, a join-and-leave."""
    honest, farmer = people[0][0], people[7][0]
    returning = people[-1][0]  # left the group mid-story
    await demo.feed(world.message(GROUP, OWNER, "/set language zh", at=start))
    await demo.show(
        "the owner (back in Chinese) sets the referral tiers: 3 friends → 50 points; 5 → 200 "
        "and a title",
        world.message(GROUP, OWNER, "/referral set tiers 3:50,5:200:推广大使", at=start),
    )
    world.start_private(honest)
    await demo.feed(world.message(honest, honest, "/start", at=start))
    card = await demo.show(
        "a member asks for her invite link",
        world.message(GROUP, honest, "/invite", at=start + dt.timedelta(minutes=5)),
    )
    url = re.search(r"https://t\.me/\+\S+", _plain(card[0]))
    code = re.search(r"start=(ref_\w+)", _plain(card[0]))
    assert url and code, "the /invite reply carries the link and the deep link"
    friends = [(30_000 + i, name) for i, name in enumerate(FRIENDS)]
    for uid, name in friends:
        world.add_user(uid, name, language_code="zh-hans")
    # Four friends come through her link over a day and say hello.
    for i, (uid, _) in enumerate(friends[:4]):
        at = start + dt.timedelta(hours=2 + 5 * i)
        await demo.feed(world.join_via_link(GROUP, uid, url.group(0), at=at))
        await demo.feed(world.message(GROUP, uid, "大家好～", at=at + dt.timedelta(minutes=20)))
    # A fifth opens her shared bot link first, then joins through the one-use link.
    visitor = friends[4][0]
    world.start_private(visitor)
    visit_at = start + dt.timedelta(hours=26)
    await demo.show(
        "a friend opens the member's shared bot link (t.me/<bot>?start=ref_…)",
        world.message(visitor, visitor, f"/start {code.group(1)}", at=visit_at),
    )
    one_use = next(c for c in reversed(world.calls) if c.method == "createChatInviteLink").params
    deep_url = next(u for u, link in world.links.items() if link.get("name") == one_use["name"])
    await demo.feed(
        world.join_via_link(GROUP, visitor, deep_url, at=visit_at + dt.timedelta(minutes=3))
    )
    await demo.feed(world.message(GROUP, visitor, "来啦", at=visit_at + dt.timedelta(minutes=10)))
    # One joins and leaves two hours later, before the 24-hour hold ends.
    quitter = friends[5][0]
    await demo.feed(world.join_via_link(GROUP, quitter, url.group(0), at=visit_at))
    await demo.feed(
        world.member_update(GROUP, quitter, "left", at=visit_at + dt.timedelta(hours=2))
    )
    # A farmer brings back a former member, then rejoins through his own link.
    farm = await demo.feed(world.message(GROUP, farmer, "/invite", at=start))
    farm_url = re.search(r"https://t\.me/\+\S+", _plain(farm[0]))
    assert farm_url
    await demo.feed(world.join_via_link(GROUP, returning, farm_url.group(0), at=visit_at))
    await demo.feed(world.member_update(GROUP, farmer, "left", at=visit_at))
    await demo.feed(
        world.join_via_link(GROUP, farmer, farm_url.group(0), at=visit_at + dt.timedelta(minutes=1))
    )
    world.add_user(39_999, "Free Coupons Bot", is_bot=True)
    await demo.feed(world.join_via_link(GROUP, 39_999, farm_url.group(0), at=visit_at))
    # The scheduled sweep runs as the job queue would, two days later.
    sweep_at = start + dt.timedelta(days=3)
    confirmed = await demo.sweep(sweep_at)
    end = start + dt.timedelta(days=3, hours=1)
    await demo.show(
        "the inviter checks her invites", world.message(GROUP, honest, "/invites", at=end)
    )
    await demo.show("the farmer checks his", world.message(GROUP, farmer, "/invites", at=end))
    await demo.show("the invite leaderboard", world.message(GROUP, farmer, "/top invites", at=end))
    await demo.show(
        "the owner's referral report", world.message(GROUP, OWNER, "/referral report 7", at=end)
    )
    dms = [_plain(c.text) for c in world.sent(honest)]
    demo.highlights.append(
        "— private messages the inviter received:\n"
        + "\n".join("  « " + t.replace("\n", "\n    ") for t in dms[1:])
    )
    return {"confirmed_by_sweep": confirmed}


def _report(world: FakeTelegram, highlights: list[str], rows: list[Any], days: int) -> None:
    present = [r for r in rows if r.status not in {"left", "kicked"}]
    print(f"growthbot demo — {days} simulated days in 晴天奶茶 Sunny Tea 粉丝群, offline\n")
    print("Moments (what members saw):")
    for line in highlights:
        print(line)
    print()
    print(
        f"Members: {len(rows)} seen, {len(present)} in the group, {len(rows) - len(present)} left"
    )
    print(
        f"Messages counted: {sum(r.messages for r in rows)}; "
        f"check-ins: {sum(r.checkins for r in rows)}; "
        f"points granted: {sum(r.points for r in rows)}"
    )
    print("\nLongest streaks:")
    for r in sorted(rows, key=lambda r: (-r.best_streak, r.user_id))[:5]:
        print(f"  {r.display_name:<24} best {r.best_streak:>2} days, now {r.streak:>2}")
    print("\nPoints leaderboard:")
    for i, r in enumerate(sorted(present, key=lambda r: (-r.points, r.user_id))[:10], 1):
        print(f"  {i:>2}. {r.display_name:<24} {r.points:>4} points, {r.checkins:>2} check-ins")
    problems = world.problems()
    print(f"\nBot API calls: {len(world.calls)}, spec violations: {len(problems)}")
    for p in problems[:10]:
        print(f"  ! {p}")


async def _coupons(
    demo: Demo, world: FakeTelegram, people: list[tuple[int, str]], *, at: dt.datetime
) -> dict[str, Any]:
    """满199减30 with 5 in stock: posted, claimed by taps (some too late), redeemed at checkout."""
    deps = demo.app.bot_data.deps
    offer = await create_offer(
        deps.uow(),
        chat_id=GROUP,
        name="满199减30 新品券",
        template=Template(CouponKind.FIXED, value=3000, min_spend=19900, valid_days=7),
        stock=5,
        per_member=1,
        at=at,
    )
    await demo.show(
        "the owner posts a coupon offer (5 in stock)",
        world.message(GROUP, OWNER, f"/coupon post {offer.id}", at=at),
    )
    answers = []
    for uid, _ in people[:7]:
        await demo.feed(world.callback(GROUP, uid, build(ClaimButton(offer.id))))
        answer = next(c for c in reversed(world.calls) if c.method == "answerCallbackQuery")
        answers.append(str(answer.params.get("text", "")))
    demo.highlights.append(
        "— seven members tap 🎟 (the alerts they see):\n" + "\n".join(f"  « {a}" for a in answers)
    )
    code = re.search(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}", answers[0])
    assert code, "the first tap gets a code"
    typo = code.group(0)[:-1] + ("2" if code.group(0)[-1] != "2" else "3")
    await demo.show(
        "staff mistypes the code at checkout",
        world.message(GROUP, STAFF, f"/redeem {typo} 258", at=at + dt.timedelta(hours=1)),
    )
    await demo.show(
        "staff redeems it for a ¥258 order (核销)",
        world.message(GROUP, STAFF, f"/redeem {code.group(0)} 258", at=at + dt.timedelta(hours=1)),
    )
    await demo.show(
        "and tries again",
        world.message(GROUP, STAFF, f"/redeem {code.group(0)} 258", at=at + dt.timedelta(hours=1)),
    )
    later = at + dt.timedelta(hours=1, minutes=5)
    world.start_private(STAFF)
    await demo.show(
        "staff opens the admin console in a private chat",
        world.message(STAFF, STAFF, "/manage", at=later),
    )
    chooser = world.sent(STAFF)[-1].params["reply_markup"]["inline_keyboard"]
    await demo.feed(world.callback(STAFF, STAFF, chooser[0][0]["callback_data"]))
    demo.highlights.append("— she taps the group:\n  « " + _plain(world.sent(STAFF)[-1].text))
    await demo.show(
        "and checks the offers there, out of sight of the members",
        world.message(STAFF, STAFF, "/coupon list", at=later),
    )
    buyer = people[0][0]
    world.start_private(buyer)
    await demo.show(
        "the member checks her coupons in a private chat",
        world.message(buyer, buyer, "/mycoupons", at=at + dt.timedelta(hours=2)),
    )
    imported = 0
    for i, (uid, _) in enumerate(people[1:6]):
        order = OrderIn(
            external_id=f"SHOP-{1000 + i}",
            member=uid,
            amount=str(88 + 20 * i),
            at=at + dt.timedelta(hours=3),
        )
        result = await record_order(
            deps.uow(), order, chat_id=GROUP, source="import", received_at=order.at
        )
        imported += result.stored
    demo.highlights.append(f"— the shop imports {imported} orders (stored once per order id)")
    return {"imported_orders": imported}


async def _shop(
    demo: Demo, world: FakeTelegram, people: list[tuple[int, str]], *, at: dt.datetime
) -> bool:
    """积分兑换: the owner puts a coupon in the points shop; the member with the most points
    redeems it with a tap, then reads their statement with /points."""
    deps = demo.app.bot_data.deps
    offer = await create_offer(
        deps.uow(), chat_id=GROUP, name="满99减10 积分券",
        template=Template(CouponKind.FIXED, value=1000, min_spend=9900, valid_days=30),
        stock=None, per_member=1, at=at,
    )  # fmt: skip
    await demo.show(
        "the owner puts a coupon in the points shop for 20 points",
        world.message(GROUP, OWNER, f"/shop add coupon {offer.id} 20", at=at),
    )
    async with deps.uow() as uow:
        record = await uow.chats.get(GROUP)
        assert record is not None
        points = {uid: await uow.members.balance(record.pk, uid) or 0 for uid, _ in people[:8]}
    buyer = max(points, key=lambda uid: points[uid])
    world.start_private(buyer)
    await demo.show(
        "the richest member opens the shop", world.message(GROUP, buyer, "/shop", at=at)
    )
    item = next(
        int(b["callback_data"].removeprefix("shop:"))
        for row in world.sent(GROUP)[-1].params["reply_markup"]["inline_keyboard"]
        for b in row
    )
    await demo.feed(world.callback(GROUP, buyer, build(ShopButton(item))))
    answer = next(c for c in reversed(world.calls) if c.method == "answerCallbackQuery")
    alert = str(answer.params.get("text", ""))
    demo.highlights.append(f"— and taps Redeem (the alert only they see):\n  « {alert}")
    await demo.show(
        "then asks for their points (the statement goes privately, the group gets the balance)",
        world.message(GROUP, buyer, "/points", at=at),
    )
    return alert.startswith("🎉")


async def _groupbuys(demo: Demo, world: FakeTelegram, people: list[tuple[int, str]]) -> int:
    """拼团: one team fills up (coupons for everyone), another runs out of time."""
    deps = demo.app.bot_data.deps
    now = dt.datetime.now(dt.UTC)
    deal = await create_deal(
        deps.uow(),
        chat_id=GROUP,
        deal=Deal("杨枝甘露 三人团", 3200, 1990, 3, 120, now + dt.timedelta(days=1), 50),
        description="新品上市，三人成团立享拼团价",
        at=now,
    )
    await demo.show(
        "the owner posts a group-buy", world.message(GROUP, OWNER, f"/groupbuy post {deal.id}")
    )
    a, b, c, d = (uid for uid, _ in people[8:12])
    for uid in (a, b, c, d):
        world.start_private(uid)

    async def tap(uid: int, verb: GroupBuyVerb, target: int) -> str:
        await demo.feed(world.callback(GROUP, uid, build(GroupBuyButton(verb, target))))
        answer = next(x for x in reversed(world.calls) if x.method == "answerCallbackQuery")
        return str(answer.params.get("text", ""))

    taps = [await tap(a, GroupBuyVerb.START, deal.id)]
    card = next(x for x in reversed(world.sent(GROUP)) if "拼团中" in x.text)
    team = _team_on(card.params)
    taps += [await tap(b, GroupBuyVerb.JOIN, team), await tap(c, GroupBuyVerb.JOIN, team)]
    taps.append(await tap(d, GroupBuyVerb.JOIN, team))
    demo.highlights.append(
        "— four members tap 🚀 / ➕ (the alerts they see):\n" + "\n".join(f"  « {x}" for x in taps)
    )
    edits = [x for x in world.calls if x.method == "editMessageText"]
    demo.highlights.append(
        "— the team card now reads:\n  « " + _plain(edits[-1].text).replace("\n", "\n    ")
    )
    demo.highlights.append("— a member's private message:\n  « " + _plain(world.sent(a)[-1].text))
    await tap(d, GroupBuyVerb.START, deal.id)
    second = next(x for x in reversed(world.sent(GROUP)) if "拼团中" in x.text)
    other = _team_on(second.params)
    share = second.params["reply_markup"]["inline_keyboard"][1][0]["url"]
    # The leader shares the team's link with a friend who is not in the group yet.
    friend = 990_000_001
    world.add_user(friend, "阿杰", language_code="zh-hans")
    world.start_private(friend)
    await demo.show(
        "the second team's leader shares 🔗 with a friend outside the group, who opens it",
        world.message(friend, friend, f"/start {share.split('?start=')[1]}"),
    )
    welcome = next(x for x in world.sent(friend) if "https://t.me/+" in x.text).text
    link = re.search(r"https://t\.me/\+\S+", welcome)
    assert link, "the friend gets a one-use join link"
    await demo.feed(world.join_via_link(GROUP, friend, link.group(0).rstrip("。.")))
    await demo.feed(world.callback(friend, friend, build(GroupBuyButton(GroupBuyVerb.JOIN, other))))
    demo.highlights.append(
        "— the friend joins the group through it (credited to the leader) and taps ➕:\n  « "
        + str(next(x for x in reversed(world.calls) if x.method == "answerCallbackQuery")
              .params.get("text", ""))
    )  # fmt: skip
    expired = await expire_teams(deps.uow, now=now + dt.timedelta(hours=3))
    await announce_expired(demo.app.bot, deps, expired)
    demo.highlights.append(
        "— the second team runs out of time; its members are told:\n  « "
        + _plain(world.sent(friend)[-1].text)
    )
    return len(expired)


async def _calendar(demo: Demo, world: FakeTelegram, people: list[tuple[int, str]]) -> int:
    """群SOP: two scheduled posts played through a week, then a broadcast with its report."""
    app, deps = demo.app, demo.app.bot_data.deps
    sender = deps.outbox
    assert isinstance(sender, OutboxSender)
    sender.autostart = False  # the demo drains the outbox at simulated times
    now = dt.datetime.now(dt.UTC)

    async def confirm() -> None:
        question = next(c for c in reversed(world.calls) if c.method == "sendMessage")
        data = question.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        await demo.feed(world.callback(int(question.params["chat_id"]), OWNER, data))
        edit = next(c for c in reversed(world.calls) if c.method == "editMessageText")
        demo.highlights.append("— the owner taps ✅:\n  « " + _plain(edit.text))

    await demo.show(
        "the owner schedules a daily morning post",
        world.message(
            GROUP, OWNER, "/schedule daily 09:00\n☀️ 早安！今天也来 /checkin 打卡领积分吧", at=now
        ),
    )
    await confirm()
    weekly = await create_offer(  # the first offer is sold out by now: a fresh one for the posts
        deps.uow(),
        chat_id=GROUP,
        name="上新立减10元",
        template=Template(CouponKind.FIXED, value=1000, min_spend=5000, valid_days=7),
        stock=None,
        per_member=1,
        at=now,
    )
    await demo.show(
        "and a pinned new-arrivals post every Monday and Thursday, with a coupon button",
        world.message(
            GROUP,
            OWNER,
            "/schedule mon,thu 20:00 pin\n🆕 本周上新：杨枝甘露、芋泥波波\n"
            f"button: 🎟 领新品券 | coupon {weekly.id}",
            at=now,
        ),
    )
    await confirm()
    before = len(world.sent(GROUP))
    while True:  # a week: the scheduler's tick at each post's next run
        runs = [p.next_run_at for p in await group_posts(deps.uow(), chat_id=GROUP)]
        at = min(r for r in runs if r is not None) + dt.timedelta(seconds=1)
        if at > now + dt.timedelta(days=7):
            break
        await hand_over_due(deps.uow, now=at, grace=dt.timedelta(minutes=10))
        await sender.drain(at)
    posted = [c for c in world.sent(GROUP)[before:] if c.status == 200]
    pins = sum(1 for c in world.calls if c.method == "pinChatMessage")
    demo.highlights.append(
        f"— a week later: {len(posted)} scheduled posts went out in the group ({pins} pinned)"
    )
    await demo.show("the owner lists the calendar", world.message(GROUP, OWNER, "/posts", at=now))
    await demo.show(
        "the owner broadcasts to every member who started the bot",
        world.message(GROUP, OWNER, "/broadcast\n🎉 周末会员日：全场第二杯半价！", at=now),
    )
    question = next(c for c in reversed(world.calls) if c.method == "sendMessage")
    data = question.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await demo.feed(world.callback(int(question.params["chat_id"]), OWNER, data))
    await sender.drain()
    await refresh_progress(app.bot, deps, {})
    report = next(c for c in reversed(world.calls) if c.method == "editMessageText")
    demo.highlights.append(
        "— the broadcast's report:\n  « " + _plain(report.text).replace("\n", "\n    ")
    )
    return len(posted)


async def _segments(demo: Demo, world: FakeTelegram, people: list[tuple[int, str]]) -> int:
    """用户分层 and 会员等级: a big order makes a member VIP; a quiet week later, the stages, a
    saved audience of the quiet ones, and a broadcast to exactly them."""
    deps = demo.app.bot_data.deps
    sender = deps.outbox
    assert isinstance(sender, OutboxSender)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=8)  # a quiet week after the story
    buyer = people[0][0]
    world.start_private(buyer)
    before = len(world.calls)
    result = await record_order(
        deps.uow(),
        OrderIn(external_id="vip-1", member=buyer, amount="5200", at=later - dt.timedelta(days=7)),
        chat_id=GROUP, source="webhook", received_at=later - dt.timedelta(days=7),
    )  # fmt: skip
    if result.promotion is not None:
        await send_tier_changes(demo.app.bot, deps, [result.promotion])
    told = [c.text for c in world.calls[before:] if c.method == "sendMessage" and c.status == 200]
    demo.highlights.append(
        "— the shop reports a ¥5,200 order: its buyer goes straight to VIP, privately told\n"
        + "\n".join("  « " + _plain(t).replace("\n", "\n    ") for t in told)
    )
    await demo.show(
        "the new VIP looks at their tier",
        world.message(GROUP, buyer, "/tier", at=later - dt.timedelta(days=7)),
    )
    world.start_private(OWNER)
    await demo.show(
        "a week later the owner asks how the members stand (the report goes privately)",
        world.message(GROUP, OWNER, "/segments", at=later),
    )
    await demo.show(
        "and saves the quiet ones as an audience",
        world.message(GROUP, OWNER, "/audience save quiet stage=silent or stage=dormant", at=later),
    )
    await demo.show(
        "then messages exactly them",
        world.message(GROUP, OWNER, "/broadcast @quiet\n想你啦！回来签到领双倍积分 🎁", at=later),
    )
    question = next(c for c in reversed(world.calls) if c.method == "sendMessage")
    markup = question.params.get("reply_markup")
    if markup is None:  # nobody quiet: nothing to confirm
        return 0
    before = len(world.calls)
    data = markup["inline_keyboard"][0][0]["callback_data"]
    demo.clock.at = later.replace(microsecond=0)  # the same (story) moment, to the second
    try:
        await demo.feed(world.callback(int(question.params["chat_id"]), OWNER, data))
        await sender.drain()
    finally:
        demo.clock.at = None
    sent = sum(
        1 for c in world.calls[before:] if c.method == "sendMessage" and c.status == 200
        and "想你啦" in c.text
    )  # fmt: skip
    demo.highlights.append(f"— the win-back message reached {sent} quiet members privately")
    return sent


async def _journeys(demo: Demo, world: FakeTelegram, people: list[tuple[int, str]]) -> int:
    """沉睡唤醒 on its own: the owner switches win-back on with a coupon and a holdout; five
    quiet weeks later the dormant members who opened a chat with the bot hear from it, one
    comes back, and the report compares them with the holdout."""
    deps = demo.app.bot_data.deps
    sender = deps.outbox
    assert isinstance(sender, OutboxSender)
    now = dt.datetime.now(dt.UTC) + dt.timedelta(days=9)
    offer = await create_offer(
        deps.uow(), chat_id=GROUP, name="回归礼",
        template=Template(CouponKind.FIXED, value=1000, min_spend=0, valid_days=14),
        stock=None, per_member=3, at=now,
    )  # fmt: skip
    for uid, _ in people[1:]:  # most members opened a chat with the bot by now
        world.start_private(uid)
        await mark_reachable(deps.uow(), uid, True)
    await demo.show(
        "the owner gives the win-back journey a coupon and keeps 10% as a holdout",
        world.message(GROUP, OWNER, f"/journey set winback offer {offer.id}", at=now),
    )
    await demo.feed(world.message(GROUP, OWNER, "/journey set winback holdout 10", at=now))
    await demo.show(
        "and switches it on", world.message(GROUP, OWNER, "/journey on winback", at=now)
    )
    later = now + dt.timedelta(days=35)
    await refresh_all(deps.uow, later)
    queued = await run_journeys(deps.uow, now=later, render=render_journey)
    before = len(world.calls)
    await sender.drain(later)
    told = [c for c in world.calls[before:] if c.method == "sendMessage" and c.status == 200]
    demo.highlights.append(
        f"— five quiet weeks later, {queued} dormant members who had opened a chat with the "
        "bot get a win-back message (the holdout gets none), e.g.\n"
        + "\n".join("  « " + _plain(c.text).replace("\n", "\n    ") for c in told[:1])
    )
    if told:
        back = int(told[0].params["chat_id"])
        await demo.feed(world.message(GROUP, back, "我回来啦 👋", at=later + dt.timedelta(days=1)))
    await deps.buffer.flush()
    await demo.show(
        "two weeks on, the owner reads the journey's report",
        world.message(GROUP, OWNER, "/journey report winback", at=later + dt.timedelta(days=15)),
    )
    return queued


async def _stats(demo: Demo, world: FakeTelegram) -> int:
    """数据看板: at the end of the story the owner reads the last 90 days' key figures; the
    card and its four charts arrive privately."""
    at = dt.datetime.now(dt.UTC) + dt.timedelta(days=60)
    before = len(world.calls)
    await demo.show(
        "the owner reads the last 90 days' key figures (the card goes privately)",
        world.message(GROUP, OWNER, "/stats 90d", at=at),
    )
    captions: list[str] = []  # a lone chart comes as a photo, several as one album
    for c in world.calls[before:]:
        if c.status == 200 and c.method == "sendPhoto":
            captions.append(str(c.params.get("caption", "")))
        elif c.status == 200 and c.method == "sendMediaGroup":
            captions += [str(item.get("caption", "")) for item in c.params["media"]]
    demo.highlights.append(
        f"— then {len(captions)} charts: " + "; ".join(_plain(caption) for caption in captions)
    )
    return len(captions)


async def _retro(demo: Demo, world: FakeTelegram) -> None:
    """复盘: the campaign planned on the first day, with the story's coupon offers attached,
    read back against its targets."""
    deps = demo.app.bot_data.deps
    at = dt.datetime.now(dt.UTC) + dt.timedelta(days=60)
    _today, found = await list_campaigns(deps.uow(), chat_id=GROUP, now=at)
    if not found:
        return
    campaign = found[-1].id
    for line in await group_offers(deps.uow(), chat_id=GROUP, at=at):
        await demo.feed(
            world.message(GROUP, OWNER, f"/campaign attach {campaign} offer {line.offer.id}", at=at)
        )
    await demo.show(
        "the campaign's 复盘: targets against actuals, cost, attributed GMV and ROI",
        world.message(GROUP, OWNER, f"/campaign report {campaign}", at=at),
    )


def _team_on(card: dict[str, Any]) -> int:
    """The team on a team card's ➕ button."""
    button = parse(card["reply_markup"]["inline_keyboard"][0][0]["callback_data"])
    assert isinstance(button, GroupBuyButton)
    return button.target
