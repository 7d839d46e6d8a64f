"""Evaluation figures: accuracy, macro-F1, out-of-scope precision and recall, confusion."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence


def accuracy(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """Return the share of exact matches (0 for no rows)."""
    if not truth:
        return 0.0
    return sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth)


def macro_f1(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """Return the mean F1 over the labels present in `truth` (other predictions are errors)."""
    labels = sorted(set(truth))
    if not labels:
        return 0.0
    pairs = list(zip(truth, predicted, strict=True))
    scores = []
    for label in labels:
        hits = sum(t == label and p == label for t, p in pairs)
        predicted_count = sum(p == label for _, p in pairs)
        true_count = sum(t == label for t, _ in pairs)
        denominator = predicted_count + true_count
        scores.append(2 * hits / denominator if denominator else 0.0)
    return sum(scores) / len(scores)


def confusion(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, dict[str, int]]:
    """Return counts of predicted labels per true label."""
    table: dict[str, Counter[str]] = {}
    for t, p in zip(truth, predicted, strict=True):
        table.setdefault(t, Counter())[p] += 1
    return {label: dict(counts) for label, counts in sorted(table.items())}


def intent_report(
    truth: Sequence[str], predicted: Sequence[str], oos_label: str | None
) -> dict[str, float | int]:
    """Return accuracy and macro-F1, plus in-scope accuracy and OOS precision/recall."""
    report: dict[str, float | int] = {
        "rows": len(truth),
        "accuracy": accuracy(truth, predicted),
        "macro_f1": macro_f1(truth, predicted),
    }
    pairs = list(zip(truth, predicted, strict=True))
    in_scope = [(t, p) for t, p in pairs if t != oos_label]
    out_rows = len(pairs) - len(in_scope)
    if oos_label is None or not out_rows:
        return report
    caught = sum(t == oos_label and p == oos_label for t, p in pairs)
    flagged = sum(p == oos_label for _, p in pairs)
    report["in_scope_accuracy"] = accuracy([t for t, _ in in_scope], [p for _, p in in_scope])
    report["oos_recall"] = caught / out_rows
    report["oos_precision"] = caught / flagged if flagged else 0.0
    report["oos_rows"] = out_rows
    return report
