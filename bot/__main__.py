"""`python -m bot` is `growthbot` (with no arguments: `growthbot run`)."""

import sys

from bot.cli import main

sys.exit(main())
