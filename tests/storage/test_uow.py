"""The unit of work makes its repositories on first use, each on the transaction's session."""

from __future__ import annotations

from sqlalchemy import select

from campaigns.members import Person
from storage.models import UserRow


async def test_a_unit_of_work_entered_again_writes_in_its_new_transaction(uow_factory):
    uow = uow_factory()
    async with uow:
        first = uow.users
        await uow.users.upsert([Person(1, "Ann")])
        await uow.commit()
    async with uow:  # a second transaction: its repositories are the new session's
        await uow.users.upsert([Person(2, "Bob")])
        await uow.commit()
        second = uow.users

    async with uow_factory() as check:
        names = (await check.session.scalars(select(UserRow.first_name).order_by(UserRow.id))).all()
    assert names == ["Ann", "Bob"]
    assert second is not first


async def test_a_repository_made_once_serves_the_whole_transaction(uow_factory):
    async with uow_factory() as uow:
        assert uow.members is uow.members
        assert uow.members.session is uow.session


async def test_after_a_unit_of_work_alone_the_pool_s_connections_are_transactions_again(
    uow_factory,
):
    """alone() lends connections in autocommit; the next ordinary unit of work on the same
    pooled connection must roll back what it leaves uncommitted."""
    for _ in range(3):  # the same connection each time: the pool lends its newest
        async with uow_factory().alone() as alone:
            await alone.users.upsert([Person(1, "Ann")])
            await alone.commit()
        async with uow_factory() as uow:
            await uow.users.upsert([Person(2, "Bob")])  # never committed

    async with uow_factory() as check:
        names = (await check.session.scalars(select(UserRow.first_name))).all()
    assert names == ["Ann"]
