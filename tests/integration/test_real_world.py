"""Real material from other projects: feedparser's own test feeds and real Trustpilot pages,
served over a local HTTP server with the headers their files declare."""

from pathlib import Path
from typing import Any

import feedparser
from sqlalchemy import func, select

from sandbox.fixtures import serve_feedparser_fixtures
from sandbox.sites import Page, SiteServer
from storage.tables import Mention, SourceState
from tests.conftest import poll_all, shared_fixture


def test_every_feedparser_fixture_is_read_or_reported_without_crashing(
    db_url: str, site: SiteServer, make_app: Any
) -> None:
    root = shared_fixture("feedparser")
    urls = serve_feedparser_fixtures(site, root)
    sources = [{"name": f"f{i}", "kind": "rss", "url": url, "match": "all"} for i, url in enumerate(urls)]
    app = make_app(db_url, sources, polling={"retries": 0, "concurrency": 16})
    outcomes = {o.source: o for o in poll_all(app)}
    by_file = {urls[s["url"]]: outcomes[s["name"]] for s in sources}
    assert len(by_file) > 600
    failed = {f.relative_to(root).as_posix(): o.error for f, o in by_file.items() if not o.ok}
    # Only the documents that are HTTP failures or undecodable bodies by design may fail.
    assert set(failed) <= {
        "http/http_status_404.xml",
        "compression/gzip-struct-error.gz",
        "compression/deflate-no-headers.z",
        "compression/deflate-not-compressed.z",
        "compression/gzip-not-compressed.gz",
        "http/http_status_302-no-location.xml",
    }, failed
    assert failed["http/http_status_404.xml"] == "HTTP 404 Not Found"
    assert all(error for error in failed.values())
    # Redirects are followed to the target document; gzip and deflate bodies are decoded.
    assert by_file[root / "http" / "http_status_301.xml"].status == 200
    assert by_file[root / "compression" / "gzip.gz"].ok
    # Well-formed RSS and Atom documents that hold entries are ingested.
    well = {f: o for f, o in by_file.items() if "wellformed" in f.parts}
    readable = 0
    for file in well:
        for e in feedparser.parse(file.read_bytes()).entries:
            content = any(c.get("value") for c in e.get("content") or [])
            readable += bool(e.get("title") or e.get("summary") or content or e.get("link") or e.get("id"))
    assert sum(o.added for o in well.values()) == readable > 90
    warned = {f.name for f, o in well.items() if o.warnings}
    assert warned <= {"entry_title_type_empty-no-crash.xml"}, warned  # that one is broken on purpose
    bozo = [o for f, o in by_file.items() if "illformed" in f.parts]
    assert any(o.warnings for o in bozo)
    with app.sessions() as s:
        health = s.scalar(select(func.count()).select_from(SourceState))
        assert health == len(sources)


def test_legacy_encodings_come_out_right(db_url: str, site: SiteServer, make_app: Any) -> None:
    root = shared_fixture("feedparser")
    body = (
        "<rss version='2.0'><channel><item><guid>1</guid><title>Жалоба на Нордлис</title>"
        "<description>Заказ не пришёл</description></item></channel></rss>"
    )
    url_header = site.add(
        "/cp1251-header.xml",
        Page(body.encode("cp1251"), "application/rss+xml; charset=windows-1251"),
    )
    url_decl = site.add(
        "/cp1251-decl.xml",
        Page(b'<?xml version="1.0" encoding="windows-1251"?>' + body.encode("cp1251")),
    )
    url_koi = site.add(
        "/koi8.xml",
        Page(root.joinpath("encoding", "x80_koi8-r.xml").read_bytes(), "application/xml"),
    )
    app = make_app(
        db_url,
        [
            {"name": "hdr", "kind": "rss", "url": url_header},
            {"name": "decl", "kind": "rss", "url": url_decl},
            {"name": "koi", "kind": "rss", "url": url_koi, "match": "all"},
        ],
    )
    assert all(o.ok for o in poll_all(app))
    with app.sessions() as s:
        titles = {m.source: m.title for m in s.scalars(select(Mention))}
    assert titles["hdr"] == titles["decl"] == "Жалоба на Нордлис"


def test_trustpilot_pages_with_jsonld_give_20_reviews_each(db_url: str, site: SiteServer, make_app: Any) -> None:
    folder = shared_fixture("trustpilot")
    pages = sorted(folder.glob("*.html"))
    sources = []
    for page in pages:
        url = site.add(f"/review/{page.stem}", Page(page.read_bytes(), "text/html; charset=utf-8"))
        sources.append({"name": page.stem, "kind": "html", "url": url, "extract": "jsonld", "match": "all"})
    app = make_app(db_url, sources)
    outcomes = poll_all(app)
    assert [o.added for o in outcomes] == [20] * len(pages)
    again = poll_all(app)
    assert all(o.not_modified for o in again)
    with app.sessions() as s:
        rows = list(s.scalars(select(Mention).where(Mention.source == "sumeria.eu")))
        assert len(rows) == 20
        one_star = [m for m in rows if m.rating == 1.0]
        assert one_star and all(m.kind == "complaint" for m in one_star)


def test_sample_sources_of_the_demo_are_all_read(db_url: str, site: SiteServer, make_app: Any) -> None:
    site.add_dir(Path(__file__).resolve().parents[2] / "sandbox" / "samples")
    from reclaim.config import load_settings
    from watchers.reddit import REDDIT_ENV

    settings = load_settings(
        Path(__file__).resolve().parents[2] / "sandbox" / "demo.yaml",
        {
            "SAMPLES": site.base,
            "DEMO_DB": "unused.db",
            "DEMO_TELEGRAM_TOKEN": "1:unused",
            "DEMO_TELEGRAM_URL": "http://127.0.0.1:9/bot",
            "DEMO_REDDIT_URL": "http://127.0.0.1:9",
            **dict.fromkeys(REDDIT_ENV, "unused"),
        },
    )
    # the feeds and pages; the demo's Reddit and Telegram group are tests of their own
    sources = [s.model_dump(mode="json") for s in settings.sources if s.kind in ("rss", "html")]
    app = make_app(db_url, sources)
    outcomes = poll_all(app)
    assert all(o.ok and not o.warnings for o in outcomes)
    assert sum(o.complaints for o in outcomes) == 6
