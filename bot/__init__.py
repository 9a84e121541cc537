"""Composition root: settings, the Application, scheduling, the command line."""

import os

# Opt in to PTB's coming timedelta time periods (RetryAfter.retry_after): the int form warns.
os.environ.setdefault("PTB_TIMEDELTA", "true")
