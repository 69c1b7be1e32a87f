"""Serving feedparser's own test documents with the HTTP headers each file declares.

Each file starts with a comment holding ``Header: Name: value`` lines (``Status: 301`` sets
the status); ``Location`` headers pointing at feedparser's test host are rewritten to ours.
"""

from __future__ import annotations

import re
from pathlib import Path

from sandbox.sites import Page, SiteServer

_HEADER = re.compile(rb"^Header:\s*([A-Za-z-]+):\s*(.*?)\s*$", re.M)
_TEST_HOST = "http://localhost:8097"


def page_for(file: Path, base: str) -> tuple[Page, str]:
    """The Page a fixture file declares, and a short description of it."""
    body = file.read_bytes()
    head = body[:2048]
    if file.suffix in (".gz", ".z"):
        encoding = "gzip" if file.suffix == ".gz" else "deflate"
        return Page(body, content_type="application/xml", headers={"Content-Encoding": encoding}), encoding
    status, headers, content_type = 200, {}, None
    desc = re.search(rb"Description:\s*(.*)", head)
    for name, value in _HEADER.findall(head):
        key, val = name.decode(), value.decode("latin-1")
        if key.lower() == "status":
            status = int(val)
        elif key.lower() == "content-type":
            content_type = val
        else:
            headers[key] = val.replace(_TEST_HOST + "/tests", base).replace(_TEST_HOST, base)
    page = Page(
        body,
        content_type=content_type,
        status=status,
        headers=headers,
        conditional=status == 200 and "ETag" not in headers,
    )
    return page, desc.group(1).decode("utf-8", "replace").strip() if desc else ""


def serve_feedparser_fixtures(site: SiteServer, root: Path) -> dict[str, Path]:
    """Add every fixture under ``root`` to ``site``; returns url → file."""
    urls: dict[str, Path] = {}
    for file in sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("LICENSE")):
        rel = "/" + file.relative_to(root).as_posix()
        page, _ = page_for(file, site.base)
        urls[site.add(rel, page)] = file
    site.add("/-/return-304.xml", Page(b"", status=304, conditional=False))
    return urls
