"""The members table's query, read from a browser's URL: bounded, never an error."""

from campaigns.dashboard import (
    MAX_PAGE,
    MemberSort,
    MembersQuery,
    pages,
    parse_members_query,
    search_id,
)


def test_no_parameters_is_the_first_page_by_points_highest_first():
    query = parse_members_query({})

    assert query == MembersQuery("", MemberSort.POINTS, True, 0, None)


def test_a_full_query_is_read_with_pages_counted_from_one():
    query = parse_members_query(
        {"q": "  Alice   Liu ", "sort": "spend", "dir": "asc", "page": "3", "audience": "@VIP"}
    )

    assert query == MembersQuery("Alice Liu", MemberSort.SPEND, False, 2, "vip")
    assert query.offset == 100


def test_hand_edited_values_fall_back_to_the_defaults():
    query = parse_members_query(
        {"sort": "password", "page": "-1", "audience": "x y;drop", "q": "z" * 500}
    )

    assert (query.sort, query.page, query.audience, len(query.search)) == (
        MemberSort.POINTS, 0, None, 64,
    )  # fmt: skip


def test_a_page_beyond_any_group_is_capped():
    assert parse_members_query({"page": "9" * 30}).page == MAX_PAGE
    assert parse_members_query({"page": "²"}).page == 0  # not an ASCII digit


def test_a_search_of_digits_is_also_a_user_id():
    assert search_id(" 5000000123 ") == 5000000123
    assert search_id("alice") is None and search_id("1" * 20) is None


def test_an_empty_table_still_has_one_page():
    assert (pages(0), pages(50), pages(51)) == (1, 1, 2)


def test_past_the_count_cap_the_pages_are_those_of_the_members_counted():
    assert pages(1_000_000) == 200
