"""The dashboard's sessions and one-time sign-ins, on both databases: a sign-in is spent
once even when two processes redeem it at the same moment; an ended or expired session is
no session; old rows are swept."""

from __future__ import annotations

import asyncio
import datetime as dt

NOW = dt.datetime(2026, 12, 1, 4, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


async def test_a_sign_in_is_spent_once_by_racing_redeemers(uow_factory) -> None:
    async def redeem() -> bool:
        async with uow_factory() as uow:
            first = await uow.dashboard.spend("login:abc", NOW + HOUR)
            await asyncio.sleep(0)
            await uow.commit()
            return bool(first)

    results = await asyncio.gather(*(redeem() for _ in range(6)), return_exceptions=True)

    assert [r for r in results if r is True] == [True]
    assert all(r is False or r is True or isinstance(r, Exception) for r in results)
    async with uow_factory() as uow:
        assert not await uow.dashboard.spend("login:abc", NOW + HOUR)
        assert await uow.dashboard.spend("login:other", NOW + HOUR)


async def test_a_session_is_alive_until_it_ends_or_expires(uow_factory) -> None:
    async with uow_factory() as uow:
        await uow.dashboard.open("k1", 7, NOW, NOW + HOUR)
        await uow.dashboard.open("k2", 7, NOW, NOW + HOUR)
        await uow.dashboard.open("k3", 8, NOW, NOW + HOUR)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.dashboard.alive("k1", 7, NOW)
        assert not await uow.dashboard.alive("k1", 8, NOW)  # another person's cookie
        assert not await uow.dashboard.alive("k1", 7, NOW + HOUR)  # expired
        await uow.dashboard.end("k1", NOW)
        await uow.dashboard.end("k2", NOW)
        await uow.dashboard.end("k1", NOW)  # ended once: a second sign-out changes nothing
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.dashboard.alive("k1", 7, NOW)
        assert not await uow.dashboard.alive("k2", 7, NOW)
        assert await uow.dashboard.alive("k3", 8, NOW)


async def test_expired_sessions_and_spent_keys_are_swept(uow_factory) -> None:
    async with uow_factory() as uow:
        await uow.dashboard.open("old", 7, NOW - 2 * HOUR, NOW - HOUR)
        await uow.dashboard.open("new", 7, NOW, NOW + HOUR)
        await uow.dashboard.spend("init:old", NOW - HOUR)
        await uow.dashboard.spend("init:new", NOW + HOUR)
        await uow.dashboard.forget_before(NOW)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.dashboard.spend("init:old", NOW + HOUR)  # forgotten: past its use
        assert not await uow.dashboard.spend("init:new", NOW + HOUR)
        assert await uow.dashboard.alive("new", 7, NOW)
