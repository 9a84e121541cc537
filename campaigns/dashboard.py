"""The operator dashboard's rules: how the members table is asked for (search, sort, page,
audience), read from a browser's query string and kept within bounds.

Everything here comes from outside (a URL the browser sends), so each value is parsed to a
closed set or a bounded number; anything else falls back to the default rather than failing,
because a hand-edited URL should still show a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from campaigns.access import MAX_ID
from campaigns.audiences import NAME

PAGE_SIZE = 50  # members on one page of the table: a phone scrolls, it does not paginate 1000s
MAX_PAGE = 100_000  # beyond any group's member count at 50 a page (5M members)
MAX_SEARCH = 64  # characters of a search: a name, a @username or an id
# Members counted at most: past this the table says "more than 10,000" and pages on with Next
# (an exact count of a million present members is a scan of them all, a quarter of a second;
# the page itself is read from an index in a millisecond).
COUNT_CAP = 10_000


class MemberSort(StrEnum):
    """The columns the members table sorts on (each backed by a stored column)."""

    POINTS = "points"
    ORDERS = "orders"
    SPEND = "spend"
    JOINED = "joined"
    ACTIVE = "active"
    ID = "id"


@dataclass(frozen=True)
class MembersQuery:
    """One view of the members table."""

    search: str = ""
    sort: MemberSort = MemberSort.POINTS
    descending: bool = True
    page: int = 0  # zero-based
    audience: str | None = None  # a saved audience's name

    @property
    def offset(self) -> int:
        return self.page * PAGE_SIZE


def parse_members_query(params: dict[str, str]) -> MembersQuery:
    """A browser's `?q=…&sort=spend&dir=asc&page=2&audience=vip`, read defensively: an
    unknown sort or a page that is not a number shows the default, never an error."""
    printable = "".join(c for c in params.get("q", "") if c.isprintable() or c.isspace())
    search = " ".join(printable.split())[:MAX_SEARCH]  # no control characters (NUL) reach SQL
    try:
        sort = MemberSort(params.get("sort", MemberSort.POINTS))
    except ValueError:
        sort = MemberSort.POINTS
    descending = params.get("dir", "desc") != "asc"
    raw_page = params.get("page", "1")
    page = int(raw_page) - 1 if raw_page.isascii() and raw_page.isdigit() else 0
    page = min(max(page, 0), MAX_PAGE)
    name = params.get("audience", "").strip().lstrip("@").lower()
    audience = name if name and NAME.fullmatch(name) else None
    return MembersQuery(search, sort, descending, page, audience)


def search_id(search: str) -> int | None:
    """A search that is a whole user id (digits only, one a database can hold) also matches
    that member exactly."""
    digits = search.strip()
    if digits.isascii() and digits.isdigit() and len(digits) <= 19 and int(digits) <= MAX_ID:
        return int(digits)
    return None


def search_words(search: str) -> str:
    """What a search looks for in names: `@alice` is the username `alice`, as the search box
    says it may be typed."""
    return search.strip().removeprefix("@")


def pages(total: int) -> int:
    """Pages the table has (at least one, even when empty); past COUNT_CAP, the pages of
    the members counted so far."""
    return max(1, -(-min(total, COUNT_CAP) // PAGE_SIZE))
