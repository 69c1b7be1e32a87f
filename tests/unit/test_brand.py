from core.brand import BrandMatcher

BRAND = BrandMatcher(["Nordlys", "nordlys", "нордлис", "nordlys.shop"])


def test_whole_words_any_case() -> None:
    assert BRAND.matches("I ordered from NORDLYS yesterday")
    assert BRAND.matches("bought at nordlys.shop/sale")
    assert BRAND.matches("#nordlys @nordlys")
    assert not BRAND.matches("the nordlyset over Tromsø")
    assert not BRAND.matches("nothing here")


def test_cyrillic_aliases_match_inflections() -> None:
    assert BRAND.matches("Заказал в Нордлисе куртку")
    assert BRAND.matches("жалоба на нордлиса")
    assert not BRAND.matches("нордлисовщина какая-то длинная")


def test_title_or_text() -> None:
    assert BRAND.matches("Nordlys order", "never came")
    assert BrandMatcher(["acme*"]).matches("Acmecorp is late")
