"""The dashboard in a real browser: Debian's chromium driven by Playwright against the bot's
own HTTP server (uvicorn in the process, as `growthbot run` serves it) on a seeded database.

Screenshots of every page at 360 px wide go to test-artifacts/dashboard/ (gitignored), and
every page passes an axe check with no serious or critical violation.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import shutil
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from bot.app import stop_offline
from tests.dashboard.conftest import (
    ADMIN,
    ALICE,
    GROUP,
    OTHER_ADMIN,
    OTHER_GROUP,
    OWNER,
    dashboard_harness,
    init_data,
    seed,
)
from tests.handlers.conftest import Harness

playwright = pytest.importorskip("playwright.async_api")
axe_module = pytest.importorskip("axe_playwright_python.async_playwright")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"
PAGES = ("", "members", "campaigns", "content", "commerce", "settings")
# Telegram's light theme, as its clients send it (links and hints below AA contrast on white)
THEME = {
    "bg_color": "#ffffff",
    "text_color": "#000000",
    "hint_color": "#999999",
    "link_color": "#2481cc",
    "button_color": "#2481cc",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#efeff3",
}


def chromium() -> str:
    """Debian's chromium (scripts/_setup.sh installs it): Playwright's own download is not
    reachable from the CI machines. The binary itself, not the /usr/bin shell wrapper."""
    for path in (os.environ.get("CHROMIUM"), "/usr/lib/chromium/chromium", "/usr/bin/chromium"):
        if path and Path(path).exists():
            return path
    found = shutil.which("chromium")
    if found is None:
        pytest.skip("no chromium: scripts/test installs Debian's chromium package")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Site:
    bot: Harness
    base: str  # http://127.0.0.1:<port>
    browser: object

    def mini_app_url(self, data: str) -> str:
        """What Telegram opens: the app's URL with initData and the theme in the fragment."""
        fragment = "tgWebAppData=" + quote(data, safe="") + "&tgWebAppVersion=8.0"
        fragment += "&tgWebAppThemeParams=" + quote(json.dumps(THEME), safe="")
        return f"{self.base}/dashboard/#{fragment}"

    async def signed_in(self, user_id: int, *, width: int = 360, **kwargs: object) -> object:
        """A phone-sized page in a fresh browser context, signed in as Telegram would."""
        context = await self.browser.new_context(  # type: ignore[attr-defined]
            viewport={"width": width, "height": 780}, accept_downloads=True
        )
        page = await context.new_page()
        data = init_data(user_id, self.bot.clock.now(), **kwargs)  # type: ignore[arg-type]
        await page.goto(self.mini_app_url(data))
        return page


@pytest.fixture
async def site(sqlite_url: str) -> AsyncIterator[Site]:
    port = free_port()
    harness = await dashboard_harness(
        sqlite_url,
        http_port=port,
        dashboard_url=f"http://127.0.0.1:{port}/dashboard/",
    )
    await seed(harness)
    async with playwright.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        try:
            yield Site(harness, f"http://127.0.0.1:{port}", browser)
        finally:
            await browser.close()
            await stop_offline(harness.app)


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """One database kind is enough for the browser: the pages' queries run on both in
    tests/dashboard/test_dashboard_pages.py."""
    path = tmp_path / "browser.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


async def test_a_signed_init_data_signs_in_and_the_kpis_and_charts_show(site: Site) -> None:
    links = site.bot.app.bot_data.deps.dashboard
    assert links is not None
    token = links.group_link(GROUP).split("startapp=")[1]

    page = await site.signed_in(ADMIN)  # from the private chat's button: the groups
    await page.wait_for_url("**/dashboard/groups")  # type: ignore[attr-defined]
    again = init_data(ADMIN, site.bot.clock.now(), start_param=token)  # then a group's link
    await page.goto(site.mini_app_url(again))  # type: ignore[attr-defined]
    await page.wait_for_url(f"**/dashboard/g/{GROUP}/")  # type: ignore[attr-defined]
    await page.wait_for_selector("#kpis:not([aria-busy])")  # type: ignore[attr-defined]

    assert await page.locator(".kpi").count() >= 20  # type: ignore[attr-defined]
    assert "DAU" in await page.locator(".kpis").inner_text()  # type: ignore[attr-defined]
    await page.wait_for_selector("html[data-charts-drawn='4']")  # type: ignore[attr-defined]
    canvas = page.locator("#chart-activity canvas")  # type: ignore[attr-defined]
    assert await canvas.count() >= 1
    painted = await page.evaluate(  # type: ignore[attr-defined]
        """() => { const c = document.querySelector('#chart-activity canvas');
                   const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                   let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }"""
    )
    assert painted > 1000  # the chart's pixels, not an empty canvas
    themed = await page.evaluate(  # type: ignore[attr-defined]
        "getComputedStyle(document.documentElement).getPropertyValue('--tg-theme-button-color')"
    )
    assert themed.strip() == "#2481cc"  # Telegram's theme reached the CSS


@pytest.mark.parametrize("how", ["forged", "stale"])
async def test_a_forged_or_stale_init_data_is_refused(site: Site, how: str) -> None:
    import datetime as dt

    at = site.bot.clock.now() - (dt.timedelta(hours=2) if how == "stale" else dt.timedelta(0))
    token = "123:NOT-THE-BOT" if how == "forged" else "123:TEST"
    context = await site.browser.new_context()  # type: ignore[attr-defined]
    page = await context.new_page()

    await page.goto(site.mini_app_url(init_data(ADMIN, at, token=token)))
    status = page.locator("#status[role='alert']")
    await status.wait_for()

    assert "could not be checked" in await status.inner_text()
    assert await context.cookies() == []
    await page.goto(f"{site.base}/dashboard/g/{GROUP}/members")
    assert page.url.endswith("/dashboard/")  # no session: back to the sign-in


async def test_members_filtered_by_an_audience_and_downloaded_as_csv(site: Site) -> None:
    page = await site.signed_in(ADMIN)
    await page.wait_for_url("**/dashboard/groups")  # type: ignore[attr-defined]
    await page.goto(f"{site.base}/dashboard/g/{GROUP}/members")  # type: ignore[attr-defined]
    assert await page.locator("table.members tbody tr").count() == 4  # owner, Alice, Bob, Carol

    await page.select_option("#audience", "vip")  # type: ignore[attr-defined]
    await page.click("#apply")  # type: ignore[attr-defined]
    await page.wait_for_url("**audience=vip**")  # type: ignore[attr-defined]
    rows = page.locator("table.members tbody tr")  # type: ignore[attr-defined]
    assert await rows.count() == 1 and "Alice" in await rows.inner_text()
    async with page.expect_download() as waiting:  # type: ignore[attr-defined]
        await page.click("#csv")  # type: ignore[attr-defined]
    download = await waiting.value
    saved = await asyncio.to_thread(Path(await download.path()).read_bytes)

    found = list(csv.DictReader(io.StringIO(saved.decode("utf-8-sig"))))
    assert [int(r["user_id"]) for r in found] == [ALICE]
    assert download.suggested_filename == f"members-{-GROUP}-vip.csv"


async def test_a_post_created_and_paused_here_is_paused_in_posts(site: Site) -> None:
    page = await site.signed_in(ADMIN)
    await page.wait_for_url("**/dashboard/groups")  # type: ignore[attr-defined]
    await page.goto(f"{site.base}/dashboard/g/{GROUP}/content")  # type: ignore[attr-defined]

    await page.fill("#when", "daily 09:00")  # type: ignore[attr-defined]
    await page.fill("#text", "<b>早上好</b> from the dashboard")  # type: ignore[attr-defined]
    await page.click("button[value='preview']")  # type: ignore[attr-defined]
    preview = page.locator(".preview")  # type: ignore[attr-defined]
    assert "早上好" in await preview.inner_text()
    assert await preview.locator("li").count() == 3  # the next three runs
    await page.click("#save-post")  # type: ignore[attr-defined]
    await page.wait_for_selector("#post-1[data-status='active']")  # type: ignore[attr-defined]
    saved = await page.inner_text("#done")  # type: ignore[attr-defined]
    await page.click("#post-1 button:has-text('Pause')")  # type: ignore[attr-defined]
    await page.wait_for_selector("#post-1[data-status='paused']")  # type: ignore[attr-defined]
    paused = await page.inner_text("#done")  # type: ignore[attr-defined]

    [listed] = await site.bot.say(OWNER, "/posts")
    assert "#1" in listed and "paused" in listed.lower() and "早上好" in listed
    assert "Post #1 is saved" in saved and paused == "Post #1 is paused."

    # Deleting asks first: dismissed, the post stays; accepted, it goes.
    asked: list[str] = []

    async def answer(dialog: Any, accept: bool) -> None:
        asked.append(dialog.message)
        await (dialog.accept() if accept else dialog.dismiss())

    page.once("dialog", lambda d: asyncio.ensure_future(answer(d, False)))  # type: ignore[attr-defined]
    await page.click("#post-1 button:has-text('Delete')")  # type: ignore[attr-defined]
    assert await page.locator("#post-1").count() == 1  # type: ignore[attr-defined]
    page.once("dialog", lambda d: asyncio.ensure_future(answer(d, True)))  # type: ignore[attr-defined]
    await page.click("#post-1 button:has-text('Delete')")  # type: ignore[attr-defined]
    await page.wait_for_selector("#done:has-text('deleted')")  # type: ignore[attr-defined]
    assert await page.locator("#post-1").count() == 0  # type: ignore[attr-defined]
    assert asked == ["Delete post #1? It will not be sent again."] * 2


async def test_every_page_in_both_languages_at_360px_with_no_serious_axe_violation(
    site: Site,
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    axe = axe_module.Axe()
    page = await site.signed_in(ADMIN)
    await page.wait_for_url("**/dashboard/groups")  # type: ignore[attr-defined]
    problems: dict[str, list[str]] = {}

    for language in ("en", "zh"):
        for name in PAGES:
            await page.goto(f"{site.base}/dashboard/g/{GROUP}/{name}")  # type: ignore[attr-defined]
            if not name:
                await page.wait_for_selector("html[data-charts-drawn='4']")  # type: ignore[attr-defined]
            wide = await page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
            assert wide <= 360, f"{name or 'overview'} ({language}) scrolls sideways: {wide}px"
            shot = ARTIFACTS / f"{name or 'overview'}-{language}-360.png"
            await page.screenshot(path=str(shot), full_page=True)  # type: ignore[attr-defined]
            result = await axe.run(page)
            bad = [
                f"{v['id']} ({v['impact']}): "
                + "; ".join(
                    str(n["target"]) + " " + n.get("failureSummary", "")[-120:]
                    for n in v["nodes"][:4]
                )
                for v in result.response["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            if bad:
                problems[f"{name or 'overview'}-{language}"] = bad
        if language == "en":
            await page.click("#switch-language")  # type: ignore[attr-defined]
            await page.wait_for_selector("html[lang='zh-Hans']")  # type: ignore[attr-defined]
            assert await page.locator("nav.tabs a[aria-current='page']").inner_text() in {  # type: ignore[attr-defined]
                "概览",
                "成员",
                "活动",
                "内容",
                "交易",
                "设置",
            }

    assert problems == {}
    assert len(list(ARTIFACTS.glob("*-360.png"))) >= 12


async def test_an_admin_of_another_group_can_neither_open_nor_call_this_groups_pages(
    site: Site,
) -> None:
    page = await site.signed_in(OTHER_ADMIN)
    await page.wait_for_url("**/dashboard/groups")  # type: ignore[attr-defined]
    listed = await page.locator("main").inner_text()  # type: ignore[attr-defined]
    assert "Other Shop" in listed and "Sunny Tea Club" not in listed
    csrf = await page.locator("input[name='csrf']").first.get_attribute("value")  # type: ignore[attr-defined]

    for name in (*PAGES, "members.csv?audience=vip"):
        response = await page.goto(f"{site.base}/dashboard/g/{GROUP}/{name}")  # type: ignore[attr-defined]
        assert response.status == 403, name
        assert "Sunny Tea Club" not in await page.content()  # type: ignore[attr-defined]
    request = page.request  # type: ignore[attr-defined]
    writes = {
        f"/dashboard/g/{GROUP}/settings": {"csrf": csrf, "key": "language", "value": "zh"},
        f"/dashboard/g/{GROUP}/content": {
            "csrf": csrf,
            "when": "daily 9:00",
            "text": "x",
            "do": "save",
        },
        f"/dashboard/g/{GROUP}/posts/1/delete": {"csrf": csrf},
        f"/dashboard/g/{GROUP}/offers/1/end": {"csrf": csrf},
    }
    for path, form in writes.items():
        response = await request.post(site.base + path, form=form)
        assert response.status == 403, path
    own = await page.goto(f"{site.base}/dashboard/g/{OTHER_GROUP}/")  # type: ignore[attr-defined]
    assert own.status == 200
    assert (await site.bot.app.bot_data.deps.settings_of(GROUP)).language == "en"
    [listed_posts] = await site.bot.say(OWNER, "/posts")
    assert "#1" not in listed_posts


async def test_choosing_a_setting_starts_its_box_with_the_current_value(site: Site) -> None:
    page = await site.signed_in(ADMIN)
    await page.wait_for_url("**/dashboard/groups")  # type: ignore[attr-defined]
    await page.goto(f"{site.base}/dashboard/g/{GROUP}/settings")  # type: ignore[attr-defined]

    await page.select_option("#key", "timezone")  # type: ignore[attr-defined]
    zone = await page.input_value("#value")  # type: ignore[attr-defined]
    await page.select_option("#key", "language")  # type: ignore[attr-defined]
    language = await page.input_value("#value")  # type: ignore[attr-defined]
    card = await page.inner_text("#current-settings")  # type: ignore[attr-defined]

    assert (zone, language) == ("Asia/Shanghai", "en")
    assert "/set timezone" not in card  # the form below is how to change one here
