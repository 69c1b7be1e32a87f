"""Labelled decisions for the learning tests and the benchmark: a company whose complaints the
word lists cannot see (its customers report problems in its own terms: a locker that stays shut,
a firmware that bricks the scale) beside plain complaints and plain other mentions they do see."""

from __future__ import annotations

import random

LOCKER = ["locker", "parcel box", "pickup wall", "drop locker"]
PLACES = ["at Norreport", "on Vesterbro", "by the station", "in the mall", "at work"]
DEVICES = ["scale", "thermostat", "doorbell", "speaker"]
HIDDEN = [  # complaints in the company's own terms: no word of the word lists
    "@nordlys the {locker} {place} stays shut with my code",
    "@nordlys {device} firmware 4.2 bricked it overnight",
    "@nordlys my {device} shows E17 after the firmware push",
    "@nordlys the {locker} {place} says code unknown on day one",
    "@nordlys {device} reboots in a loop since firmware 4.2",
]
PLAIN = [  # complaints the word lists know
    "@nordlys terrible service, my {device} arrived broken",
    "@nordlys still waiting for my refund, awful",
    "@nordlys the {device} is damaged and support never answered",
]
OTHER = [  # not complaints
    "@nordlys picked up my parcel {place} today, new {device} set up",
    "@nordlys which {device} pairs with the app?",
    "@nordlys the {locker} {place} is a neat idea",
    "@nordlys following you for the {device} news",
    "@nordlys saw your van {place} this morning",
]


def make(n: int, seed: int = 7) -> list[tuple[str, bool, str]]:
    """``n`` labelled texts: (text, is a complaint, "hidden" | "plain" | "other")."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        group = ("hidden", "plain", "other", "other")[i % 4]
        pool = {"hidden": HIDDEN, "plain": PLAIN, "other": OTHER}[group]
        text = rng.choice(pool).format(locker=rng.choice(LOCKER), place=rng.choice(PLACES),
                                       device=rng.choice(DEVICES))  # fmt: skip
        out.append((f"{text} #{i}", group != "other", group))
    return out
