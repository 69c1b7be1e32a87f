"""Review pages: items picked by CSS selectors, or schema.org Review objects from JSON-LD."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urljoin

from lxml import etree
from lxml import html as lxml_html
from pydantic import Field, model_validator

from core.model import RawMention
from core.text import normalise_whitespace
from watchers.base import NO_DEADLINE, Deadline, Fetched, Parsed, Watcher, clamp_id, stable_id
from watchers.kinds import FetchKind
from watchers.options import HttpOptions, Strict
from watchers.text import BLOCKS, DROP, decode_document, html_to_text, parse_date

if TYPE_CHECKING:  # BeautifulSoup is imported where a page is parsed: loading a config never needs it
    from bs4 import BeautifulSoup, Tag
    from bs4.element import PageElement

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

    def parse(self, fetched: Fetched, deadline: Deadline = NO_DEADLINE) -> Parsed:
        text, _encoding = decode_document(fetched.body, fetched.content_type)
        deadline.check()
        if self.extract == "jsonld":
            return self._jsonld(text, fetched.url, deadline)
        return self._selectors(text, fetched.url, deadline)

    # -- CSS selectors --------------------------------------------------------------------
    def _selectors(self, text: str, url: str, deadline: Deadline) -> Parsed:
        from bs4 import BeautifulSoup, Tag

        out = Parsed()
        soup = BeautifulSoup(text, "lxml")
        deadline.check()
        base_tag = soup.find("base", href=True)
        base = urljoin(url, str(base_tag["href"])) if isinstance(base_tag, Tag) else url
        items = soup.select(str(self.selectors["item"]))
        if not items:
            out.warnings.append(f"no element matches the item selector {self.selectors['item']!r}")
        fields = _Fields(soup, items, self.selectors, deadline)
        for index, item in enumerate(items):
            deadline.check()
            values = {name: fields.value(index, item, name) for name in FIELDS}
            mention = self._mention(values, base, url, out.warnings)
            if mention is not None:
                out.items.append(mention)
        return out

    def _mention(self, values: dict[str, str | None], base: str, url: str, warnings: list[str]) -> RawMention | None:
        body = values["text"] or ""
        if not body and not values["title"]:
            warnings.append("skipped an item with neither text nor title")
            return None
        link = urljoin(base, values["link"]) if values["link"] else None
        ident = values["id"] or link
        published = parse_date(values["published"])
        if values["published"] and published is None:
            warnings.append(f"unreadable date {values['published']!r}")
        return RawMention(
            external_id=clamp_id(ident) if ident else stable_id(values["title"], body),
            text=body or (values["title"] or ""),
            url=link or url,
            author=values["author"],
            title=values["title"],
            published_at=published,
            rating=_rating(values["rating"]) if values["rating"] else None,
            language_hint=self.language,
        )

    # -- JSON-LD ----------------------------------------------------------------------------
    def _jsonld(self, text: str, url: str, deadline: Deadline) -> Parsed:
        out = Parsed()
        try:
            root = lxml_html.document_fromstring(text)
        except (etree.ParserError, ValueError) as exc:
            out.warnings.append(f"page could not be parsed as HTML: {exc}")
            return out
        blocks = root.xpath('//script[contains(translate(@type, "LDJSON", "ldjson"), "ld+json")]')
        for block in blocks:
            deadline.check()
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
            except RecursionError:  # a block nested beyond reason: skipped, the page's others still read
                out.warnings.append("a JSON-LD block is nested too deeply to read")
                continue
            for review in _reviews(data):
                deadline.check()
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


class _Fields:
    """Each field's selector run once over the whole page, each match given to the nearest item
    that encloses it, and an item's text read without the items nested inside it: linear in
    the page, however deeply items nest (``item.select_one`` per item and field was quadratic)."""

    def __init__(self, soup: BeautifulSoup, items: list[Tag], selectors: Mapping[str, str | None],
                 deadline: Deadline) -> None:  # fmt: skip
        self.items = {id(item): i for i, item in enumerate(items)}
        self.specs: dict[str, tuple[str, str | None]] = {}
        self.found: dict[str, dict[int, Tag]] = {}
        owner: dict[int, int | None] = {}
        for name in FIELDS:
            spec = selectors.get(name)
            if spec is None:
                continue
            css, attr = split_selector(spec)
            self.specs[name] = (css, attr)
            if css and not _relative(css):
                first: dict[int, Tag] = {}
                for match in soup.select(css):
                    index = self._owner(match, owner)
                    if index is not None and index not in first:
                        first[index] = match
                deadline.check()
                self.found[name] = first

    def _owner(self, tag: Tag, memo: dict[int, int | None]) -> int | None:
        """The index of the nearest item strictly enclosing ``tag`` (memoised along the path)."""
        path, node, found = [], tag.parent, None
        while node is not None:
            key = id(node)
            if key in memo:
                found = memo[key]
                break
            path.append(key)
            if key in self.items:
                found = self.items[key]
                break
            node = node.parent
        for key in path:
            memo[key] = self.items.get(key, found)
        return found

    def value(self, index: int, item: Tag, name: str) -> str | None:
        if name not in self.specs:
            return None
        css, attr = self.specs[name]
        if not css:
            target: Tag | None = item
        elif name in self.found:
            target = self.found[name].get(index)
        else:  # a selector relative to the item (":scope > h3"): per item, as written
            target = item.select_one(css)
        if target is None:
            return None
        if attr:
            value = target.get(attr)
            if isinstance(value, list):
                value = " ".join(value)
            return str(value).strip() if value is not None else None
        return _own_text(target, self.items) or None


def _relative(css: str) -> bool:
    return ":scope" in css or css.lstrip().startswith((">", "+", "~"))


def _own_text(tag: Tag, items: Mapping[int, int]) -> str:
    """The text of ``tag`` without scripts and styles and without items nested in it; block
    elements end with a space, exactly as ``html_to_text`` reads a fragment (ids made from the
    text stay as they were)."""
    from bs4 import Tag
    from bs4.element import NavigableString

    parts: list[str] = []
    stack: list[PageElement | None] = [tag]
    while stack:
        node = stack.pop()
        if node is None:
            parts.append(" ")
        elif isinstance(node, Tag):
            if node is not tag and (id(node) in items or node.name in DROP):
                continue
            if node.name in BLOCKS:
                stack.append(None)
            stack.extend(reversed(node.contents))
        elif type(node) is NavigableString:
            parts.append(str(node))
    return normalise_whitespace("".join(parts))


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


class Selectors(Strict):
    """CSS selectors with Scrapy-style ``::attr(name)``; an empty selector is the item itself."""

    item: str = Field(min_length=1)
    id: str | None = None
    title: str | None = None
    text: str | None = None
    author: str | None = None
    link: str | None = None
    published: str | None = None
    rating: str | None = None

    @model_validator(mode="after")
    def _valid_css(self) -> Selectors:
        import soupsieve

        for name, spec in self.model_dump().items():
            if spec is None:
                continue
            css, _attr = split_selector(spec)
            if name == "item" and not css:
                raise ValueError("selectors.item must select elements (e.g. div.review)")
            if css:
                try:
                    soupsieve.compile(css)
                except soupsieve.SelectorSyntaxError as exc:
                    raise ValueError(f"{name}: not a valid CSS selector {css!r}: {exc.args[0]}") from None
        return self


class HtmlOptions(HttpOptions):
    kind: Literal["html"]
    publisher: Literal["manual"] = "manual"
    extract: Literal["selectors", "jsonld"] = "selectors"
    selectors: Selectors | None = None

    @model_validator(mode="after")
    def _needs_selectors(self) -> HtmlOptions:
        if self.extract == "selectors" and self.selectors is None:
            raise ValueError("an html source needs selectors: (item:, text:, ...) or extract: jsonld")
        if self.extract == "jsonld" and self.selectors is not None:
            raise ValueError("give either selectors: or extract: jsonld, not both")
        return self


class HtmlKind(FetchKind[HtmlOptions]):
    """``kind: html``: a review page read with CSS selectors or its schema.org JSON-LD."""

    name = "html"
    options = HtmlOptions

    def parser(self, options: HtmlOptions) -> Watcher:
        selectors = options.selectors.model_dump() if options.selectors else None
        return HtmlWatcher(extract=options.extract, selectors=selectors, language=options.language)
