"""Rebuild triage_trustpilot.jsonl from the real Trustpilot pages in ../shared/fixtures/trustpilot.

Labels come from the star rating: 1-2 complaint, 4-5 praise (3 stars: complaint, as the
reviews at 3 stars in these pages all report a problem). English reviews go to the main
evaluation set; the Norwegian ones (burgerking.no) are kept apart as a cross-language check,
read with the Danish word list.
"""

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).parent
FIXTURES = HERE.parents[1].parent / "shared" / "fixtures" / "trustpilot"
SCRIPT = re.compile(r'<script[^>]*type="application/ld\+json"[^>]*>(.*?)</script>', re.S)


def reviews(page: Path):
    for block in SCRIPT.findall(page.read_text(encoding="utf-8")):
        for node in json.loads(block).get("@graph", []):
            if isinstance(node, dict) and node.get("@type") == "Review":
                yield node


def main() -> int:
    if not FIXTURES.is_dir():
        print(f"no fixtures at {FIXTURES}", file=sys.stderr)
        return 1
    main_rows, no_rows = [], []
    for page in sorted(FIXTURES.glob("*.html")):
        for r in reviews(page):
            stars = int(r["reviewRating"]["ratingValue"])
            text = f"{r.get('headline', '').strip()}. {r.get('reviewBody', '').strip()}"
            row = {
                "lang": r.get("inLanguage"),
                "kind": "complaint" if stars <= 3 else "praise",
                "flags": [],
                "stars": stars,
                "source": f"trustpilot:{page.stem}",
                "text": text,
            }
            if row["lang"] == "en" and " peu intuitive" not in text:  # one French review tagged en
                main_rows.append(row)
            elif row["lang"] == "no":
                no_rows.append({**row, "lang": "da"})
    for name, rows in (("triage_trustpilot.jsonl", main_rows), ("triage_norwegian.jsonl", no_rows)):
        with (HERE / name).open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"{name}: {len(rows)} items")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
