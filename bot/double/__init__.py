"""An offline Telegram Bot API double: answers like Telegram, records and validates every call.

Used by the demo, the tests and the benchmark; it never touches the network.
"""

from bot.double.spec import ApiSpec
from bot.double.world import ApiCall, FakeTelegram

__all__ = ["ApiCall", "ApiSpec", "FakeTelegram"]
