"""The Telegram face: staff inbox, customer chat and manager alerts (issues 3 and 4)."""
