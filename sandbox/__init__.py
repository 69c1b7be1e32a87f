"""Local stand-ins for the outside world (review sites and feeds now; Telegram and Reddit later),
used by tests, benchmarks and `reclaim demo`. Standard library only."""
