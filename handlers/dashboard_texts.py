"""What the dashboard says: the `/dashboard` replies in chat, and every label of its web
pages (the pages are rendered by bot/dashboard with these, in zh or en).

Page labels are plain text (the templates escape them); chat replies are HTML, as all replies.
"""

from __future__ import annotations

import html

from campaigns.access import AccessDenied, Denied
from campaigns.dashboard import MemberSort
from handlers.words import Words


class DashboardTexts:
    """The dashboard's texts in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self.language, self._, self._n = language, self.words._, self.words._n

    def refusal(self, error: Exception) -> str | None:
        return self.words.refusal(error)

    # --- /dashboard in chat -------------------------------------------------------------

    def not_configured(self) -> str:
        return self._(
            "The dashboard is not set up: the bot's operator sets <code>DASHBOARD_URL</code> "
            "(README, Dashboard)."
        )

    def open_private(self) -> str:
        return self._(
            "📊 Your groups' dashboard: figures, members, content, campaigns and settings. "
            "Tap the button to open it here in Telegram."
        )

    def open_button(self) -> str:
        return self._("📊 Open the dashboard")

    def group_link(self, link: str) -> str:
        return self._(
            "📊 This group's dashboard (admins only): {link}\n"
            "Buttons that open web pages work only in private chats, so this is a link.",
            link=html.escape(link),
        )

    def login_link(self, link: str, minutes: int) -> str:
        return self._n(
            "🔑 Sign in to the dashboard in a desktop browser: {link}\n"
            "The link works once, within {n} minute. Do not share it.",
            "🔑 Sign in to the dashboard in a desktop browser: {link}\n"
            "The link works once, within {n} minutes. Do not share it.",
            minutes,
            link=html.escape(link),
        )

    def login_in_private(self) -> str:
        return self._("🔑 Send <code>/dashboard login</code> to me in a private chat.")

    # --- pages --------------------------------------------------------------------------

    def title(self) -> str:
        return self._("Dashboard")

    def page(self, name: str) -> str:
        return {
            "overview": self._("Overview"),
            "members": self._("Members"),
            "campaigns": self._("Campaigns"),
            "content": self._("Content"),
            "commerce": self._("Commerce"),
            "settings": self._("Settings"),
        }[name]

    def pages_nav(self) -> str:
        return self._("Pages")

    def other_language(self) -> str:
        return "English" if self.language == "zh" else "中文"

    def signing_in(self) -> str:
        return self._("Signing you in…")

    def not_found(self) -> str:
        return self._("There is no such page in the dashboard.")

    def sign_in_elsewhere(self) -> str:
        return self._(
            "Open this page from Telegram (send /dashboard to the bot), or sign in on a "
            "desktop browser with the link /dashboard login gives you."
        )

    def refused_sign_in(self) -> str:
        return self._(
            "Telegram's sign-in could not be checked (forged or more than an hour old). "
            "Close the dashboard and open it again from Telegram."
        )

    def init_data_spent(self) -> str:
        return self._(
            "This sign-in was used already. Close the dashboard and open it again from Telegram."
        )

    def link_spent(self) -> str:
        return self._(
            "This sign-in link has expired or was already used. Send /dashboard login to "
            "the bot for a new one."
        )

    def not_allowed(self) -> str:
        return self._(
            "Only this group's admins may open its dashboard (or the group is not one the "
            "bot is in)."
        )

    def expired_form(self) -> str:
        return self._("This form has expired: reload the page and try again.")

    def your_groups(self) -> str:
        return self._("Your groups")

    def no_groups(self) -> str:
        return self._("You are not an admin of any group the bot is in.")

    def sign_out(self) -> str:
        return self._("Sign out")

    def period(self, days: int) -> str:
        return self._n("{n} day", "{n} days", days)

    def period_label(self) -> str:
        return self._("Period")

    def loading(self) -> str:
        return self._("Counting…")

    def not_loaded(self) -> str:
        return self._("The figures could not be loaded: reload the page.")

    def needs_javascript(self) -> str:
        return self._("The figures and charts need JavaScript.")

    def versus_before(self) -> str:
        return self._("against the period before")

    def chart(self, name: str) -> str:
        return {
            "activity": self._("Activity per day"),
            "growth": self._("Joins and leaves"),
            "sales": self._("Orders and GMV"),
            "cohorts": self._("Retention by join week"),
        }[name]

    def series(self, name: str) -> str:
        return {
            "active": self._("Active members"),
            "messages": self._("Messages"),
            "checkins": self._("Check-ins"),
            "joins": self._("Joins"),
            "leaves": self._("Leaves"),
            "orders": self._("Orders"),
            "gmv": self._("GMV"),
            "week": self._("Week"),
        }[name]

    def search(self) -> str:
        return self._("Search name, @username or id")

    def audience(self) -> str:
        return self._("Audience")

    def everyone(self) -> str:
        return self._("All members")

    def apply(self) -> str:
        return self._("Apply")

    def export_csv(self) -> str:
        return self._("Download CSV")

    def sort_by(self) -> str:
        return self._("Sort by")

    def value_hint(self) -> str:
        return self._(
            "The box starts with the setting's current value; the values are those /set takes."
        )

    def order(self) -> str:
        return self._("Direction")

    def times_in(self, timezone: str) -> str:
        return self._("Times are in the group's time zone, {timezone}.", timezone=timezone)

    def sort(self, key: MemberSort) -> str:
        return {
            MemberSort.POINTS: self._("Points"),
            MemberSort.ORDERS: self._("Orders"),
            MemberSort.SPEND: self._("Spend"),
            MemberSort.JOINED: self._("Joined"),
            MemberSort.ACTIVE: self._("Last active"),
            MemberSort.ID: self._("User id"),
        }[key]

    def descending(self) -> str:
        return self._("Highest first")

    def ascending(self) -> str:
        return self._("Lowest first")

    def column(self, name: str) -> str:
        return {
            "member": self._("Member"),
            "stage": self._("Stage"),
            "rfm": self._("RFM segment"),
            "tier": self._("Tier"),
            "tags": self._("Tags"),
            "points": self._("Points"),
            "orders": self._("Orders"),
            "spend": self._("Spend"),
        }[name]

    def members_found(self, n: int) -> str:
        return self._n("{n} member", "{n} members", n)

    def more_members(self, n: int) -> str:
        return self._("more than {n} members", n=f"{n:,}")

    def page_n(self, page: int) -> str:
        return self._("Page {page}", page=f"{page:,}")

    def page_of(self, page: int, pages: int) -> str:
        return self._("Page {page} of {pages}", page=f"{page:,}", pages=f"{pages:,}")

    def previous(self) -> str:
        return self._("Previous")

    def next(self) -> str:
        return self._("Next")

    def nobody(self) -> str:
        return self._("No member matches.")

    def posts(self) -> str:
        return self._("Scheduled posts")

    def no_posts(self) -> str:
        return self._("No scheduled posts.")

    def post_column(self, name: str) -> str:
        return {
            "id": self._("Post"),
            "schedule": self._("Schedule"),
            "next": self._("Next run"),
            "status": self._("Status"),
            "text": self._("Text"),
            "actions": self._("Actions"),
        }[name]

    def status(self, status: str) -> str:
        return {
            "active": self._("running"),  # a post's: "active" is a member's stage
            "paused": self._("paused"),
            "draft": self._("draft"),
            "done": self._("done"),
            "deleted": self._("deleted"),
        }.get(status, status)

    def action(self, name: str) -> str:
        return {
            "pause": self._("Pause"),
            "resume": self._("Resume"),
            "delete": self._("Delete"),
        }[name]

    def confirm(self, name: str, number: int) -> str:
        """Asked before a change that cannot be undone from the dashboard."""
        if name == "delete":
            return self._("Delete post #{id}? It will not be sent again.", id=number)
        return self._("End offer #{id}? Members can no longer claim it.", id=number)

    def post_saved(self, number: int) -> str:
        return self._("Post #{id} is saved; its next run is in the list above.", id=number)

    def post_changed(self, name: str, number: int) -> str:
        if name == "pause":
            return self._("Post #{id} is paused.", id=number)
        if name == "resume":
            return self._("Post #{id} runs again.", id=number)
        return self._("Post #{id} is deleted.", id=number)

    def offer_ended(self, number: int) -> str:
        return self._("Offer #{id} has ended: no more claims.", id=number)

    def new_post(self) -> str:
        return self._("New post")

    def when_label(self) -> str:
        return self._("When (as /schedule: daily 09:00, mon,thu 20:00, 2026-12-24 10:00, cron)")

    def text_label(self) -> str:
        return self._("Text (Telegram HTML; button lines as in /schedule)")

    def pin(self) -> str:
        return self._("Pin")

    def silent(self) -> str:
        return self._("Silent")

    def preview(self) -> str:
        return self._("Preview")

    def save_post(self) -> str:
        return self._("Schedule it")

    def next_runs(self) -> str:
        return self._("Next runs")

    def saved(self) -> str:
        return self._("Saved.")

    def broadcasts(self) -> str:
        return self._("Broadcasts being sent")

    def no_broadcasts(self) -> str:
        return self._("No broadcast is being sent. Start one with /broadcast in the group.")

    def campaigns_list(self) -> str:
        return self._("Campaigns")

    def retros(self) -> str:
        return self._("Review: targets against actuals")

    def no_campaigns(self) -> str:
        return self._("No campaigns yet: create one with /campaign new.")

    def offers(self) -> str:
        return self._("Coupon offers")

    def offer_column(self, name: str) -> str:
        return {
            "offer": self._("Offer"),
            "state": self._("State"),
            "stock": self._("Stock"),
            "claimed": self._("Claimed"),
            "redeemed": self._("Redeemed"),
        }[name]

    def unlimited(self) -> str:
        return self._("unlimited")

    def end_offer(self) -> str:
        return self._("End offer")

    def no_offers(self) -> str:
        return self._("No coupon offers.")

    def deals(self) -> str:
        return self._("Group-buys")

    def deal_column(self, name: str) -> str:
        return {
            "deal": self._("Deal"),
            "teams": self._("Teams"),
            "completed": self._("Completed"),
            "success": self._("Success rate"),
        }[name]

    def no_deals(self) -> str:
        return self._("No group-buys.")

    def orders(self) -> str:
        return self._("Latest orders")

    def order_column(self, name: str) -> str:
        return {
            "order": self._("Order"),
            "member": self._("Member"),
            "amount": self._("Amount"),
            "at": self._("Time"),
            "coupons": self._("Coupons"),
            "source": self._("Source"),
        }[name]

    def no_orders(self) -> str:
        return self._("No orders yet.")

    def current_settings(self) -> str:
        return self._("Current settings")

    def change_setting(self) -> str:
        return self._("Change a setting (as /set)")

    def key(self) -> str:
        return self._("Setting")

    def value(self) -> str:
        return self._("Value")

    def save(self) -> str:
        return self._("Save")

    def denied(self, error: AccessDenied) -> str:
        if error.reason is Denied.NOT_ADMIN:
            return self.not_allowed()
        return self.words.refusal(error) or self.not_allowed()
