"""/tag, /untag, /tags and /audience (admins): tag members, save and preview audiences."""

from __future__ import annotations

from telegram import Update, User

from campaigns.audiences import AudienceVerb, parse_audience_command
from campaigns.services.audiences import (
    delete_audience,
    list_audiences,
    save_audience,
    show_audience,
)
from campaigns.services.tags import member_tags, tag_member, untag_member
from campaigns.tags import TagUsage, parse_tag_command
from handlers.audience_texts import AudienceTexts
from handlers.extract import is_group, replied_person
from handlers.use_case import Call, use_case


def replied_member(update: Update) -> User | None:
    """The person whose message the command replies to, in a group (replied_person)."""
    if not is_group(update.effective_chat):
        return None
    return replied_person(update.effective_message)


async def target(call: Call[AudienceTexts], *, tag: bool) -> tuple[int, str]:
    """Whom the command is about (a user id, typed or replied to) and the tag typed. The
    activity buffer is written first: a member replied to may have just spoken for the first
    time, and is a known member only once that is stored."""
    await call.deps.buffer.flush()
    replied = replied_member(call.update)
    user_id, name = parse_tag_command(call.words, replying=replied is not None, tag=tag)
    if user_id is not None:
        return user_id, name
    if replied is None:  # parse_tag_command allows no user id only when replying
        raise TagUsage
    return replied.id, name


@use_case(AudienceTexts, admin=True)
async def tag_command(call: Call[AudienceTexts]) -> None:
    """`/tag <name>` in reply, or `/tag <user id> <name>`."""
    user_id, tag = await target(call, tag=True)
    done = await tag_member(
        call.deps.uow(), chat_id=call.group_id, user_id=user_id, tag=tag, by=call.user_id,
        now=call.at, update=call.key,
    )  # fmt: skip
    await call.reply(call.t.tagged(done.name, done))


@use_case(AudienceTexts, admin=True)
async def untag_command(call: Call[AudienceTexts]) -> None:
    """`/untag <name>` in reply, or `/untag <user id> <name>`."""
    user_id, tag = await target(call, tag=True)
    done = await untag_member(
        call.deps.uow(), chat_id=call.group_id, user_id=user_id, tag=tag, now=call.at,
        update=call.key,
    )  # fmt: skip
    await call.reply(call.t.untagged(done.name, done))


@use_case(AudienceTexts, admin=True)
async def tags_command(call: Call[AudienceTexts]) -> None:
    """`/tags` in reply, or `/tags <user id>`: the member's tags in this group."""
    user_id, _ = await target(call, tag=False)
    name, found = await member_tags(call.deps.uow(), chat_id=call.group_id, user_id=user_id)
    await call.reply(call.t.tags(name, found))


@use_case(AudienceTexts, admin=True)
async def audience_command(call: Call[AudienceTexts]) -> None:
    """`/audience save|list|show|delete`: saved audiences, each shown with a preview."""
    verb, name, rule = parse_audience_command(call.words)
    uow, group, t = call.deps.uow, call.group_id, call.t
    if verb is AudienceVerb.LIST:
        await call.reply(t.audience_list(await list_audiences(uow(), chat_id=group)))
    elif verb is AudienceVerb.SHOW:
        await call.reply(
            t.preview(await show_audience(uow(), chat_id=group, name=name, now=call.at))
        )
    elif verb is AudienceVerb.DELETE:
        await delete_audience(uow(), chat_id=group, name=name, now=call.at, update=call.key)
        await call.reply(t.deleted(name.lower().lstrip("@")))
    else:
        preview, new = await save_audience(
            uow(), chat_id=group, name=name, rule=rule, by=call.user_id, now=call.at,
            update=call.key,
        )  # fmt: skip
        await call.reply(t.saved(preview, new))
