"""Responders: what Reclaim says back — public drafts now, the private conversation later."""
