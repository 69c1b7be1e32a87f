"""`reclaim triage evaluate | train | status`: how well triage does, and the learned model.

``evaluate`` reads a labelled CSV (columns by header name or 0-based index; a file without a
header works) and prints, for the word lists alone and for the learned model in k-fold
cross-validation, macro F1, complaint F1, precision and recall, and a learning curve.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reclaim.cli_args import plain_row
from reclaim.labelled_csv import CsvError, read_labelled

if TYPE_CHECKING:
    from rich.console import Console

    from learning.train import Evaluation, Example
    from reclaim.app import App


def add_parsers(sub: Any) -> None:
    triage = sub.add_parser("triage", help="measure triage; train and inspect the learned model")
    actions = triage.add_subparsers(dest="action", required=True)
    ev = actions.add_parser("evaluate", help="word lists and the learned model on a labelled CSV")
    ev.add_argument("--csv", required=True, metavar="PATH", help="labelled texts (1/0, true/false, complaint/other)")
    ev.add_argument("--text-column", metavar="C", help="header name or 0-based index (default: text, else 0)")
    ev.add_argument("--label-column", metavar="C", help="header name or 0-based index (default: label, else 1)")
    ev.add_argument("--folds", type=_folds, default=10, help="cross-validation folds (2 to 20, default 10)")
    ev.add_argument("--no-curve", action="store_true", help="skip the learning curve (faster)")
    ev.add_argument("--json", action="store_true")
    tr = actions.add_parser("train", help="train on the team's decisions now")
    tr.add_argument("--json", action="store_true")
    st = actions.add_parser("status", help="labels, both scores, and which model decides")
    st.add_argument("--json", action="store_true")


def _folds(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a whole number of folds, 2 to 20 (got {value!r})") from None
    if not 2 <= n <= 20:
        raise argparse.ArgumentTypeError(f"folds are 2 to 20 (got {n})")
    return n


def _examples(app: App, rows: list[tuple[str, bool]]) -> list[Example]:
    from learning.train import Example

    classify = app.triager.classify
    return [Example(text, label, classify(text)) for text, label in rows]


def evaluate(app: App, args: argparse.Namespace, console: Console) -> int:
    from learning.train import evaluate as run_evaluation

    try:
        rows = read_labelled(Path(args.csv), args.text_column, args.label_column)
        complaints = sum(1 for _, label in rows if label)
        if min(complaints, len(rows) - complaints) < args.folds:
            raise CsvError(f"{len(rows)} rows, {complaints} complaints: {args.folds}-fold cross-validation needs "
                           f"at least {args.folds} texts of each kind")  # fmt: skip
    except CsvError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = run_evaluation(_examples(app, rows), folds=args.folds, with_curve=not args.no_curve)
    if args.json:
        data = result.as_dict()  # the contract: n, rules, learned, curve of {labels, rules, learned}
        data["curve"] = [{k: p[k] for k in ("labels", "rules", "learned")} for p in result.curve]
        print(json.dumps(data, indent=2))
        return 0
    _print_evaluation(result, args.folds, console)
    return 0


def _print_evaluation(r: Evaluation, folds: int, console: Console) -> None:
    from rich.table import Table

    console.print(f"{r.n} labelled texts; the learned model in {folds}-fold cross-validation", markup=False)
    table = Table("", "macro F1", "complaint F1", "precision", "recall")
    for name, s in (("word lists", r.rules), ("learned", r.learned)):
        plain_row(table, name, f"{s.macro_f1:.3f}", f"{s.complaint_f1:.3f}", f"{s.precision:.3f}", f"{s.recall:.3f}")
    console.print(table)
    if r.curve:
        curve = Table("labels", "word lists", "learned", "deciding")
        for p in r.curve:
            plain_row(curve, p["labels"], f"{p['rules']:.3f}", f"{p['learned']:.3f}", f"{p['deciding']:.3f}")
        console.print("learning curve (macro F1)", markup=False)
        console.print(curve)


def train(app: App, args: argparse.Namespace, console: Console) -> int:
    done = app.learning.train(datetime.now(UTC))
    deciding = app.learning.status()["deciding"]  # what decides now (a model trained before still may)
    data = {
        "labels": done.labels, "complaints": done.complaints, "model_id": done.model_id,
        "rules_f1": round(done.rules_f1, 4), "learned_f1": round(done.learned_f1, 4),
        "deciding": deciding, "seconds": round(done.seconds, 2),
    }  # fmt: skip
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    if done.model_id is None:
        need = app.settings.triage.learn.min_labels
        console.print(f"not trained: {done.labels} labels ({done.complaints} complaints); it takes {need}, "
                      f"of both kinds. Deciding: {deciding}.", markup=False)  # fmt: skip
        return 0
    who = f"deciding: {deciding}"
    console.print(f"trained on {done.labels} labels in {done.seconds:.1f}s: word lists {done.rules_f1:.3f}, "
                  f"learned {done.learned_f1:.3f} macro F1 in cross-validation; {who}", markup=False)  # fmt: skip
    return 0


def status(app: App, args: argparse.Namespace, console: Console) -> int:
    data = app.learning.status()
    if args.json:
        print(json.dumps(data, indent=2, default=str))
        return 0
    console.print(f"labels: {data['labels']} from the team ({data['complaints']} complaints) and {data['ratings']} "
                  f"from review stars; {data['new_labels']} new since the last training", markup=False)  # fmt: skip
    model = data["model"]
    if model is None:
        console.print("no model trained yet: the word lists decide", markup=False)
        return 0
    scores = f"word lists {model['rules_f1']:.3f}, learned {model['learned_f1']:.3f} macro F1"
    trained = f"model #{model['id']} trained {str(model['trained_at'])[:16]} on {model['labels']} labels"
    console.print(f"{trained}: {scores}", markup=False)
    console.print(f"deciding: {data['deciding']}", markup=False)
    return 0


def run(app: App, args: argparse.Namespace, console: Console) -> int:
    return {"evaluate": evaluate, "train": train, "status": status}[args.action](app, args, console)
