import pytest

from core.lexicon import LexiconError, Matcher, make_term
from core.text import cut, fold, tokens


def find(terms: list[str], text: str) -> list[str]:
    m = Matcher(make_term(t, "g", 1.0, frozenset({"not"})) for t in terms)
    toks = tokens(fold(text))
    return [" ".join(toks[x.start : x.end]) for x in m.find(toks)]


def test_prefix_gap_and_phrase() -> None:
    assert find(["deliver*"], "It was delivered late") == ["delivered"]
    assert find(["not ~ received"], "I have not yet received it") == ["not yet received"]
    assert find(["not ~ received"], "not a b c received") == []
    assert find(["money back"], "I want my money back") == ["money back"]
    assert find(["10/10"], "would buy again 10/10") == ["10 10"]


def test_longest_match_wins_within_a_list() -> None:
    assert find(["super", "super hurtig"], "super hurtig levering") == ["super hurtig"]


def test_folding_makes_yo_and_apostrophes_equal() -> None:
    assert find(["пришел"], "Заказ пришёл") == ["пришел"]
    assert find(["didn't arrive"], "It didn’t arrive") == ["didn't arrive"]


def test_term_that_cannot_match_is_an_error() -> None:
    with pytest.raises(LexiconError):
        make_term("~ x", "g", 1.0, frozenset())
    with pytest.raises(LexiconError):
        make_term("!!!", "g", 1.0, frozenset())


def test_cut_keeps_words_whole() -> None:
    assert cut("one two three four", 12) == "one two…"
    assert cut("short", 10) == "short"
