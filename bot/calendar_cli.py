"""`growthbot posts`, `growthbot broadcast` and `growthbot calendar`: the content calendar
from the command line. The running bot sends what these store (its outbox ticks every
second), so they work the same whether the bot runs on this machine or another."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from bot import arguments
from bot.coupon_cli import UsageError, print_json
from bot.settings import Settings
from campaigns.access import ButtonKind, ForeignButton
from campaigns.audience import AudienceError, parse_audience
from campaigns.audience_expr import AudienceExprError
from campaigns.audiences import AudienceRefused
from campaigns.content import PostContent, plain_text
from campaigns.ports import UnitOfWork
from campaigns.ports.calendar import PostRecord
from campaigns.schedule import PostStatus, ScheduleError, parse_when
from campaigns.services.calendar import PostAction

EXCERPT = 50


def local_time(at: dt.datetime | None, timezone: str) -> str:
    """A run time in the group's time zone, with the zone: `2026-12-01 09:00 +08:00 Asia/…`."""
    if at is None:
        return "-"
    return f"{at.astimezone(ZoneInfo(timezone)):%Y-%m-%d %H:%M %z} {timezone}"


def excerpt(html_text: str) -> str:
    """A post's first line as plain text, shortened."""
    lines = plain_text(html_text).strip().splitlines()
    first = lines[0].strip() if lines else ""
    return first if len(first) <= EXCERPT else first[: EXCERPT - 1] + "…"


def foreign(error: ForeignButton, chat: int | None) -> str:
    """A button naming an offer or deal that is not the group's own: said plainly."""
    what = "coupon offer" if error.kind is ButtonKind.COUPON else "group-buy"
    where = f"group {chat}" if chat is not None else "every group (an --all-groups post)"
    return f"button: {what} {error.object_id} is not a live {what} of {where}"


def add_parsers(sub: Any) -> None:
    posts = sub.add_parser("posts", help="scheduled posts of a group")
    actions = posts.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="schedule a post (HTML text, checked now)")
    create.add_argument("--chat", type=arguments.chat_id, required=True)
    when = create.add_mutually_exclusive_group(required=True)
    when.add_argument("--at", help="one-off: 2026-12-01T09:00 (group time) or with an offset")
    when.add_argument("--cron", help="recurring: `0 9 * * 1-5`, `daily 09:00`, `mon,thu 20:00`")
    create.add_argument("--text", required=True, help="Telegram HTML: <b>, <i>, <a href>…")
    create.add_argument(
        "--photo", default=None, help="a JPEG, PNG or WebP file, a Telegram file id or a URL"
    )
    create.add_argument("--pin", action="store_true")
    create.add_argument("--silent", action="store_true")
    create.add_argument("--replace", action="store_true", help="delete the previous run's post")
    create.add_argument("--json", action="store_true")
    listing = actions.add_parser("list", help="upcoming posts with their next run")
    listing.add_argument("--chat", type=arguments.chat_id, required=True)
    listing.add_argument("--json", action="store_true")
    for action in PostAction:
        change = actions.add_parser(action.value, help=f"{action.value} a scheduled post")
        change.add_argument("--chat", type=arguments.chat_id, required=True)
        change.add_argument(
            "--post", type=arguments.record_id, required=True, help="its id (posts list)"
        )
        change.add_argument("--json", action="store_true")

    calendar = sub.add_parser("calendar", help="campaign plans as YAML files")
    cal = calendar.add_subparsers(dest="action", required=True)
    imp = cal.add_parser("import", help="schedule a plan's posts (all or nothing)")
    imp.add_argument("file", type=Path)
    imp.add_argument(
        "--chat", type=arguments.chat_id, default=None, help="for documents without `chat`"
    )
    imp.add_argument(
        "--replace",
        action="store_true",
        help="replace the campaign's live posts (a document without a campaign: the group's "
        "posts that are in no campaign)",
    )
    imp.add_argument("--json", action="store_true")
    exp = cal.add_parser("export", help="the group's live posts as a plan file")
    exp.add_argument("--chat", type=arguments.chat_id, required=True)
    exp.add_argument("--campaign", default=None)

    cast = sub.add_parser("broadcast", help="send to a group's members, or to every group")
    target = cast.add_mutually_exclusive_group(required=True)
    target.add_argument("--chat", type=arguments.chat_id, help="the group whose members receive it")
    target.add_argument("--all-groups", action="store_true", help="one post in each group")
    target.add_argument(
        "--status", type=arguments.record_id, metavar="ID", help="progress of a broadcast"
    )
    cast.add_argument("--text", help="Telegram HTML")
    cast.add_argument(
        "--audience", default="", help="e.g. 'joined<7d points>=100', or a saved one: '@winback'"
    )
    cast.add_argument("--yes", action="store_true", help="send without asking")
    cast.add_argument("--json", action="store_true")


@contextlib.asynccontextmanager
async def _database(
    settings: Settings, *, read_only: bool = False
) -> AsyncIterator[Callable[[], UnitOfWork]]:
    from storage.engine import create_engine, session_factory
    from storage.uow import SqlUnitOfWork

    engine = create_engine(settings.database_url, read_only=read_only)
    sessions = session_factory(engine)
    try:
        yield lambda: SqlUnitOfWork(sessions)
    finally:
        await engine.dispose()


def post_json(p: PostRecord) -> dict[str, Any]:
    return {
        "id": p.id,
        "chat": p.chat_id,
        "status": p.status,
        "schedule": p.when.describe(),
        "recurring": p.when.recurring,
        "timezone": p.when.timezone,
        "next_run_at": p.next_run_at.isoformat() if p.next_run_at else None,
        "next_run_local": (
            p.next_run_at.astimezone(ZoneInfo(p.when.timezone)).isoformat()
            if p.next_run_at
            else None
        ),
        "campaign": p.campaign,
        "phase": p.phase,
        "last_run": (
            {"status": p.last_outcome[0], "due_at": p.last_outcome[1].isoformat()}
            if p.last_outcome
            else None
        ),
        **p.content.model_dump(mode="json", exclude_defaults=True),
    }


def content_from(args: argparse.Namespace) -> PostContent:
    try:
        return PostContent(
            text=args.text,
            photo=getattr(args, "photo", None),
            pin=getattr(args, "pin", False),
            silent=getattr(args, "silent", False),
            replace_previous=getattr(args, "replace", False),
        )
    except ValidationError as error:
        from bot.calendar_file import explain

        raise UsageError(f"--text: {explain(error.errors()[0])}") from None


def post_line(p: PostRecord) -> str:
    """`#id  status  schedule  next <local time>  first line of the text`."""
    nxt = local_time(p.next_run_at, p.when.timezone)
    return f"#{p.id}\t{p.status}\t{p.when.describe()}\tnext {nxt}\t{excerpt(p.content.text)}"


REFUSED: dict[str, str] = {
    PostStatus.DRAFT: "it is a draft that was never saved (✅ under its preview in the group)",
    PostStatus.PAUSED: "it is paused (growthbot posts resume)",
    PostStatus.ACTIVE: "it is running (growthbot posts pause)",
    PostStatus.DONE: "it has run and has no more runs (growthbot posts delete)",
}


async def change(settings: Settings, args: argparse.Namespace) -> int:
    """`growthbot posts pause|resume|delete --chat ID --post ID`."""
    from campaigns.errors import UnknownChat
    from campaigns.services.calendar import PostRefusal, PostRefused, change_post

    action = PostAction(args.action)
    async with _database(settings) as uow:
        try:
            post = await change_post(
                uow(),
                chat_id=args.chat,
                post_id=args.post,
                action=action,
                at=dt.datetime.now(dt.UTC),
            )
        except UnknownChat:
            raise UsageError(f"--chat: the bot is not in group {args.chat}") from None
        except PostRefused as refused:
            if refused.reason is PostRefusal.UNKNOWN:
                raise UsageError(
                    f"--post: group {args.chat} has no post {args.post} (growthbot posts list)"
                ) from None
            why = REFUSED.get(refused.status or "", f"it is {refused.status}")
            if action is PostAction.RESUME and refused.status == PostStatus.PAUSED:
                why = "its time passed while it was paused; schedule it again"
            raise UsageError(f"--post: can't {action.value} post {args.post}: {why}") from None
    if args.json:
        print_json(post_json(post))
    else:
        print(post_line(post))
    return 0


async def posts(settings: Settings, args: argparse.Namespace) -> int:
    from bot.calendar_file import schedule_problem
    from campaigns.services.calendar import add_post, group_posts, store_media
    from campaigns.services.chats import chat_settings

    if args.action in {a.value for a in PostAction}:
        return await change(settings, args)
    async with _database(settings, read_only=args.action == "list") as uow:
        if args.action == "list":
            found = await group_posts(uow(), chat_id=args.chat)
            if args.json:
                print_json([post_json(p) for p in found])
            for p in [] if args.json else found:
                print(post_line(p))
            return 0
        now = dt.datetime.now(dt.UTC)
        group = await chat_settings(uow(), chat_id=args.chat, defaults=settings.chat_defaults)
        option = "--at" if args.at else "--cron"
        try:
            when = parse_when(args.at or args.cron, group.timezone, now)
            if (args.at is not None) == when.recurring:
                raise UsageError(f"{option}: use --at for one time, --cron for a repeating one")
            content = content_from(args)
            if args.photo_file is not None:
                name, data = args.photo_file
                ref = await store_media(uow(), name=name, data=data, at=now)
                content = content.model_copy(update={"photo": ref})
            post = await add_post(uow(), chat_id=args.chat, content=content, when=when, at=now)
        except ForeignButton as error:
            raise UsageError(foreign(error, args.chat)) from None
        except ScheduleError as error:
            raise UsageError(f"{option}: {schedule_problem(error)}") from None
    if args.json:
        print_json(post_json(post))
    else:
        nxt = local_time(post.next_run_at, post.when.timezone)
        print(f"scheduled post {post.id} ({post.when.describe()}): next run {nxt}")
    return 0


async def broadcast(settings: Settings, args: argparse.Namespace) -> int:
    from campaigns.services import broadcasts as service

    async with _database(settings, read_only=args.status is not None) as uow:
        now = dt.datetime.now(dt.UTC)
        if args.status is not None:
            try:
                p = await service.progress(uow(), broadcast_id=args.status, now=now)
            except service.BroadcastRefused:
                raise UsageError(f"--status: no broadcast {args.status}") from None
            report = {
                "id": p.broadcast.id,
                "status": p.broadcast.status,
                "total": p.broadcast.total,
                "sent": p.sent,
                "failed": p.failed,
                "left": p.left,
                "uncertain": p.uncertain,
                "cancelled": p.cancelled,
            }
            if args.json:
                print_json(report)
            else:
                print(" ".join(f"{k}={v}" for k, v in report.items()))
            return 0
        if not args.text:
            raise UsageError("--text is required")
        try:
            audience = parse_audience(args.audience)
        except AudienceError as error:
            raise UsageError(f"--audience: unknown rule {error.token!r}") from None
        target = service.Target.GROUPS if args.all_groups else service.Target.MEMBERS
        try:
            draft, count, _held = await service.draft(
                uow(),
                chat_id=args.chat,
                target=target,
                content=content_from(args),
                audience=audience,
                created_by=None,
                now=now,
            )
        except service.BroadcastRefused:
            raise UsageError("nobody matches (only members who started the bot)") from None
        except ForeignButton as error:
            raise UsageError(foreign(error, args.chat)) from None
        except AudienceRefused as error:
            raise UsageError(f"--audience: no saved audience {error.name!r} in this group "
                             "(growthbot audience list --chat ID)") from None  # fmt: skip
        except AudienceExprError as error:
            raise UsageError(f"--audience: the saved rule no longer reads ({error.problem}: "
                             f"{error.token!r})") from None  # fmt: skip
        where = "groups" if args.all_groups else f"members of {args.chat}"
        if not args.yes:
            print(f"--- preview ---\n{args.text}\n---------------", file=sys.stderr)
            print(f"send to {count} {where}? [y/N] ", end="", file=sys.stderr, flush=True)
            if sys.stdin.readline().strip().lower() not in {"y", "yes"}:
                await service.control(
                    uow(), broadcast_id=draft.id, action=service.Control.CANCEL, now=now
                )
                print("not sent", file=sys.stderr)
                return 1
        started = await service.start(uow(), broadcast_id=draft.id, now=now)
    if args.json:
        print_json({"id": started.id, "recipients": started.total, "status": started.status})
    else:
        print(
            f"broadcast {started.id} queued for {started.total} {where}; the running bot sends "
            f"it (growthbot broadcast --status {started.id})"
        )
    return 0


async def calendar(settings: Settings, args: argparse.Namespace) -> int:
    from bot.calendar_file import FileError, dump, load, phase_of, plan_error, several
    from campaigns.journeys import JourneyRefused, journey_entries
    from campaigns.plan import PlanError, paused_posts, resolve
    from campaigns.services.calendar import (
        CampaignExists,
        PlanImport,
        group_posts,
        import_plans,
    )
    from campaigns.services.chats import chat_settings
    from campaigns.services.journeys import group_journeys

    async with _database(settings, read_only=args.action == "export") as uow:
        if args.action == "export":
            found = await group_posts(uow(), chat_id=args.chat)
            entries = None
            if args.campaign is not None:  # journeys are the group's, in no campaign
                found = [p for p in found if p.campaign == args.campaign]
            else:
                entries = journey_entries((await group_journeys(uow(), chat_id=args.chat))[0])
            print(dump(found, args.chat, entries), end="")
            return 0
        if not args.file.is_file():
            raise UsageError(f"no such file: {args.file}")
        now = dt.datetime.now(dt.UTC)
        try:
            plans = load(args.file)
            resolved, problems = [], []
            for plan, root in plans:
                chat = plan.chat if plan.chat is not None else args.chat
                if chat is None:
                    raise UsageError(f"{args.file}: which group? add `chat:` or --chat")
                zone = (
                    await chat_settings(uow(), chat_id=chat, defaults=settings.chat_defaults)
                ).timezone
                try:
                    posts_of_plan = resolve(plan, zone, now)
                except PlanError as error:
                    problems.append(plan_error(args.file, root, error))
                    continue
                loose = [(phase_of(plan, ph), w, c) for ph, w, c in posts_of_plan]
                journeys: dict[str, dict[Any, object]] = {
                    str(k): dict(v) for k, v in plan.journeys.items()
                }
                resolved.append(
                    PlanImport(chat, plan.campaign, loose, paused_posts(plan), journeys)
                )
            if problems:
                raise several([p for error in problems for p in error.problems])
        except FileError as error:
            raise UsageError(str(error)) from None
        try:
            stored = await import_plans(uow(), plans=resolved, at=now, replace=args.replace)
        except ForeignButton as error:
            chat_ids = sorted({p.chat_id for p in resolved})
            raise UsageError(f"{args.file}: {foreign(error, chat_ids[0])}") from None
        except JourneyRefused as error:
            raise UsageError(f"{args.file}: journeys: {journey_problem(error)}") from None
        except CampaignExists as error:
            raise UsageError(
                f"campaign {error.campaign!r} already has {error.posts} scheduled posts; "
                "pass --replace to replace them"
            ) from None
    if args.json:
        print_json([post_json(p) for p in stored])
    else:
        for p in stored:
            nxt = local_time(p.next_run_at, p.when.timezone)
            print(f"#{p.id}\t{p.campaign or '-'}\t{p.phase}\t{p.status}\tnext {nxt}")
        print(f"{len(stored)} posts scheduled")
        for done in resolved:
            if done.journeys:
                names = ", ".join(sorted(done.journeys))
                print(f"journeys set for group {done.chat_id}: {names} (see /journey)")
    return 0


def journey_problem(error: Any) -> str:
    """A `journeys:` entry refused, in the operator's words (the command line is English)."""
    from campaigns.journeys import JourneyProblem

    p = error.problem
    if p is JourneyProblem.UNKNOWN_KEY:
        return f"no setting {error.value!r} here; its settings: {', '.join(error.choices)}"
    if p is JourneyProblem.BAD_VALUE:
        return f"{error.value!r} has a bad value, e.g. {error.example}"
    if p is JourneyProblem.UNKNOWN_OFFER:
        return f"offer {error.value} is not a live coupon offer of this group"
    if p is JourneyProblem.UNKNOWN_AUDIENCE:
        return f"no saved audience {error.value!r} in this group"
    if p is JourneyProblem.MISSING_DAY:
        return "member_day needs `day:` (1-28 or mon..sun) before `on: true`"
    if p is JourneyProblem.WINDOW_TOO_SHORT:
        return f"winback's window must be longer than the {error.value} idle days it waits for"
    if p is JourneyProblem.UNKNOWN_TIER:
        return f"no tier {error.value!r} in this group; its tiers: {', '.join(error.choices)}"
    if p is JourneyProblem.UNKNOWN_JOURNEY:
        return f"no journey {error.value!r}"
    return f"{p}: {error.value!r}"


def run(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio

    from bot.groupbuy_cli import photo_from

    # A photo given as a file is read here and kept in the database; the bot uploads it the
    # first time the post goes out and reuses Telegram's file id afterwards.
    photo = getattr(args, "photo", None)
    args.photo_file = photo_from(Path(photo)) if photo and Path(photo).is_file() else None
    command = {"posts": posts, "broadcast": broadcast, "calendar": calendar}[args.command]
    return asyncio.run(command(settings, args))
