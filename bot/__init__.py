"""The Telegram face: staff inbox, customer chat and manager alerts (issues 3 and 4)."""

import os

# python-telegram-bot 22 warns that RetryAfter.retry_after and friends become timedeltas in its
# next major version; opt in now (our code reads both) so the upgrade changes nothing.
os.environ.setdefault("PTB_TIMEDELTA", "1")
