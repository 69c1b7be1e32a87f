"""Review pages: items picked by CSS selectors, or schema.org Review objects from JSON-LD."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urljoin

from bs4 import BeautifulSoup, Tag
from lxml import etree
from lxml import html as lxml_html

from core.model import RawMention
from watchers.base import Fetched, Parsed, clamp_id, stable_id
from watchers.text import decode_document, html_to_text, parse_date

_ATTR = re.compile(r"::attr\(\s*([^)\s]+)\s*\)\s*$")
_NUMBER = re.compile(r"(\d+(?:[.,]\d+)?)(?:\s*(?:/|out of|из|af)\s*(\d+(?:[.,]\d+)?))?")
FIELDS = ("id", "title", "text", "author", "link", "published", "rating")


def split_selector(spec: str) -> tuple[str, str | None]:
    """'h3 a::attr(href)' → ('h3 a', 'href'); '::text' is allowed as a no-op suffix."""
    spec = spec.strip()
    match = _ATTR.search(spec)
    if match:
        return spec[: match.start()].strip(), match.group(1)
    return spec.removesuffix("::text").strip(), None


def _rating(value: Any, best: Any = None, worst: Any = None) -> float | None:
    try:
        if isinstance(value, str):
            m = _NUMBER.search(value)
            if not m:
                return None
            number = float(m.group(1).replace(",", "."))
            if m.group(2) and best is None:
                best = m.group(2).replace(",", ".")
        else:
            number = float(value)
        hi = float(best) if best not in (None, "") else 5.0
        lo = float(worst) if worst not in (None, "") else 1.0
    except (TypeError, ValueError):
        return None
    if hi <= lo:
        return None
    return round(1 + (min(max(number, lo), hi) - lo) * 4 / (hi - lo), 2)


class HtmlWatcher:
    """``extract='selectors'`` with a selectors mapping, or ``extract='jsonld'``."""

    def __init__(
        self,
        *,
        extract: str = "selectors",
        selectors: Mapping[str, str | None] | None = None,
        language: str | None = None,
    ) -> None:
        if extract == "selectors" and not selectors:
            raise ValueError("selectors are required for extract='selectors'")
        self.extract = extract
        self.selectors = dict(selectors or {})
        self.language = language

    def parse(self, fetched: Fetched) -> Parsed:
        text, _encoding = decode_document(fetched.body, fetched.content_type)
        if self.extract == "jsonld":
            return self._jsonld(text, fetched.url)
        return self._selectors(text, fetched.url)

    # -- CSS selectors --------------------------------------------------------------------
    def _field(self, item: Tag, name: str) -> str | None:
        spec = self.selectors.get(name)
        if spec is None:
            return None
        css, attr = split_selector(spec)
        target = item if not css else item.select_one(css)
        if target is None:
            return None
        if attr:
            value = target.get(attr)
            if isinstance(value, list):
                value = " ".join(value)
            return str(value).strip() if value is not None else None
        return html_to_text(target.decode_contents()) or None

    def _selectors(self, text: str, url: str) -> Parsed:
        out = Parsed()
        soup = BeautifulSoup(text, "lxml")
        base_tag = soup.find("base", href=True)
        base = urljoin(url, str(base_tag["href"])) if isinstance(base_tag, Tag) else url
        items = soup.select(str(self.selectors["item"]))
        if not items:
            out.warnings.append(f"no element matches the item selector {self.selectors['item']!r}")
        for item in items:
            values = {name: self._field(item, name) for name in FIELDS}
            body = values["text"] or ""
            if not body and not values["title"]:
                out.warnings.append("skipped an item with neither text nor title")
                continue
            link = urljoin(base, values["link"]) if values["link"] else None
            ident = values["id"] or link
            published = parse_date(values["published"])
            if values["published"] and published is None:
                out.warnings.append(f"unreadable date {values['published']!r}")
            out.items.append(
                RawMention(
                    external_id=clamp_id(ident) if ident else stable_id(values["title"], body),
                    text=body or (values["title"] or ""),
                    url=link or url,
                    author=values["author"],
                    title=values["title"],
                    published_at=published,
                    rating=_rating(values["rating"]) if values["rating"] else None,
                    language_hint=self.language,
                )
            )
        return out

    # -- JSON-LD ----------------------------------------------------------------------------
    def _jsonld(self, text: str, url: str) -> Parsed:
        out = Parsed()
        try:
            root = lxml_html.document_fromstring(text)
        except (etree.ParserError, ValueError) as exc:
            out.warnings.append(f"page could not be parsed as HTML: {exc}")
            return out
        blocks = root.xpath('//script[contains(translate(@type, "LDJSON", "ldjson"), "ld+json")]')
        for block in blocks:
            raw = (block.text or "").strip()
            raw = raw.removeprefix("<!--").removesuffix("-->").strip()
            raw = raw.removeprefix("//<![CDATA[").removesuffix("//]]>").strip()
            if not raw:
                continue
            try:
                data = json.loads(raw, strict=False)
            except json.JSONDecodeError as exc:
                out.warnings.append(f"a JSON-LD block is not valid JSON ({exc.msg} at {exc.pos})")
                continue
            for review in _reviews(data):
                item = self._review(review, url)
                if item is not None:
                    out.items.append(item)
        if not out.items:
            out.warnings.append("no schema.org Review found in the page's JSON-LD")
        return out

    def _review(self, node: Mapping[str, Any], url: str) -> RawMention | None:
        body = html_to_text(_text(node.get("reviewBody") or node.get("description")))
        title = html_to_text(_text(node.get("headline") or node.get("name"))) or None
        if not body and not title:
            return None
        author = node.get("author")
        if isinstance(author, list):
            author = author[0] if author else None
        author_name = _text(author.get("name")) if isinstance(author, Mapping) else _text(author)
        rating = node.get("reviewRating")
        stars = None
        if isinstance(rating, Mapping):
            stars = _rating(rating.get("ratingValue"), rating.get("bestRating"), rating.get("worstRating"))
        page = node.get("url")
        ident = node.get("@id") or page
        lang = node.get("inLanguage")
        return RawMention(
            external_id=clamp_id(str(ident)) if ident else stable_id(author_name, title, body),
            text=body or (title or ""),
            url=urljoin(url, str(page)) if isinstance(page, str) else url,
            author=author_name or None,
            title=title,
            published_at=parse_date(_text(node.get("datePublished"))),
            rating=stars,
            language_hint=self.language or (str(lang) if isinstance(lang, str) else None),
        )


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return _text(value.get("@value") or value.get("name") or "")
    return "" if value is None else str(value)


def _is_review(node: Mapping[str, Any]) -> bool:
    kind = node.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return any(isinstance(k, str) and k.rsplit("/", 1)[-1] in ("Review", "UserReview", "CriticReview") for k in kinds)


def _reviews(data: Any, depth: int = 0) -> Iterator[Mapping[str, Any]]:
    """Every Review object anywhere in a JSON-LD document (@graph, lists, nested 'review')."""
    if depth > 12:
        return
    if isinstance(data, list):
        for item in data:
            yield from _reviews(item, depth + 1)
    elif isinstance(data, Mapping):
        if _is_review(data):
            yield data
            return
        for value in data.values():
            if isinstance(value, list | Mapping):
                yield from _reviews(value, depth + 1)
