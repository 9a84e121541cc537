"""Polled updates: chats side by side, each chat's updates in the order they arrived."""

from __future__ import annotations

import asyncio

from telegram import Chat, Message, Update, User

from bot.updates import PerChatOrder

GROUP_A, GROUP_B = -1001, -1002


def update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, "supergroup")
    user = User(7, "Ann", is_bot=False)
    return Update(update_id, message=Message(update_id, None, chat, from_user=user))  # type: ignore[arg-type]


async def test_a_chat_waiting_holds_only_itself_and_each_chat_keeps_its_order():
    processor = PerChatOrder()
    ran: list[int] = []
    room = asyncio.Event()  # group A waits for its share of the limits

    async def handle(u: Update) -> None:
        if u.update_id == 1:
            await room.wait()
        ran.append(u.update_id)

    arrivals = [update(1, GROUP_A), update(2, GROUP_A), update(3, GROUP_B), update(4, GROUP_A)]
    tasks = [asyncio.create_task(processor.process_update(u, handle(u))) for u in arrivals]
    for _ in range(5):
        await asyncio.sleep(0)

    assert ran == [3]  # B went past A's wait; A's later updates stay behind its first
    assert processor.chats == 1  # only A: B is done
    room.set()
    await asyncio.gather(*tasks)
    assert ran == [3, 1, 2, 4]
    assert processor.chats == 0  # nothing kept for chats with nothing running


async def test_an_update_without_a_chat_runs_at_once():
    processor = PerChatOrder()
    ran: list[str] = []

    async def handle() -> None:
        ran.append("poll")

    await processor.process_update(Update(9), handle())

    assert ran == ["poll"] and processor.chats == 0
