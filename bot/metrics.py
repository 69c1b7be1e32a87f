"""The bot's own Prometheus metrics (served at /metrics by reclaim/health.py)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

SEND_SECONDS = Histogram(
    "reclaim_send_seconds",
    "Time to send one outbox row (card, public reply, message to a customer, alert), by kind",
    ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
TELEGRAM_429 = Counter("reclaim_telegram_429_total", "Telegram flood-limit answers (HTTP 429, RetryAfter)")
