"""Intent quality and training time on public intent benchmarks, through the release checks'
own commands, against a plain frozen-MiniLM + linear model trained in the same run.

    python bench/intents.py [--banking77 DIR] [--clinc150 FILE] [--thresholds T,T,...]

- BANKING77 (PolyAI, CC-BY-4.0; github.com/PolyAI-LDN/task-specific-datasets, banking_data/):
  DIR holds its train.csv and test.csv (header text,category), 77 intents, 10,003 training and
  3,080 test rows. The hardest of the usual benchmarks: fine-tuned BERT scores 93.7-94 %.
- CLINC150 (Larson et al. 2019, CC-BY-3.0; github.com/clinc/oos-eval, data/data_full.json):
  150 intents and out-of-scope queries; trained with its 100 out-of-scope examples as the
  label `oos` (`--oos-label oos`), scored on its test (4,500 in scope, 1,000 out of scope), and
  again at each of --thresholds: the threshold trades in-scope accuracy for out-of-scope recall.
  Then once more without the out-of-scope examples (its "oos-threshold" setting: the model
  rejects by its threshold alone; the baseline, with no such class, rejects nothing).

Neither is shipped or read by Rapport; fetch them yourself. For each, the bench writes the
files as `text,label` CSVs, runs `rapport nlp train-intents` and `rapport nlp evaluate-intents
--json` as separate processes (wall time and the process's CPU), and trains the baseline in
this process: MiniLM's vectors alone (the same export and threads), a logistic regression with
the same strength, no n-grams, no calibration (for CLINC150, `oos` is one more class).
Prints each figure beside the baseline's and the ratio. Target: 95 % on BANKING77, training
under 2 minutes.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import numpy as np

from nlp_datasets import write
from rapport.nlp.embeddings import load_embedder
from rapport.nlp.intents import REGULARIZATION

Rows = list[tuple[str, str]]
OOS = "oos"


def banking77(directory: Path) -> tuple[Rows, Rows]:
    """Return BANKING77's training and test rows."""

    def read(name: str) -> Rows:
        with (directory / name).open(newline="") as handle:
            return [(row["text"], row["category"]) for row in csv.DictReader(handle)]

    return read("train.csv"), read("test.csv")


def clinc150(path: Path) -> tuple[Rows, Rows]:
    """Return CLINC150's training rows (with its out-of-scope examples) and its test rows."""
    data = json.loads(path.read_text())

    def rows(in_scope: str, out_of_scope: str) -> Rows:
        return [(text, label) for text, label in data[in_scope]] + [
            (text, OOS) for text, _ in data[out_of_scope]
        ]

    return rows("train", "oos_train"), rows("test", "oos_test")


def rapport(*arguments: str) -> tuple[str, float, float]:
    """Run `rapport ...`; return its output, wall seconds and CPU seconds (every thread)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "rapport", *arguments],
        capture_output=True, text=True, check=True, env={**os.environ, "COLUMNS": "100"},
    )  # fmt: skip
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return done.stdout, wall, cpu


def evaluate(model: Path, test: Path, *extra: str) -> dict[str, Any]:
    """Return `rapport nlp evaluate-intents --json`'s report."""
    output, _, _ = rapport("nlp", "evaluate-intents", "--model", str(model), "--data", str(test),
                           "--json", *extra)  # fmt: skip
    report: dict[str, Any] = json.loads(output)
    return report


def baseline(train: Rows, test: Rows) -> tuple[dict[str, float], float]:
    """Frozen MiniLM + logistic regression: scores on the test rows and training seconds."""
    from sklearn.linear_model import LogisticRegression

    embedder = load_embedder(threads=2)
    started = time.perf_counter()
    vectors = embedder.embed([text for text, _ in train])
    classifier = LogisticRegression(C=REGULARIZATION, max_iter=1000)
    classifier.fit(vectors, [label for _, label in train])
    seconds = time.perf_counter() - started
    predicted = classifier.predict(embedder.embed([text for text, _ in test]))
    truth = np.array([label for _, label in test])
    scores = {"accuracy": float((predicted == truth).mean())}
    if OOS in truth:
        in_scope, out = truth != OOS, truth == OOS
        scores["in_scope_accuracy"] = float((predicted[in_scope] == truth[in_scope]).mean())
        scores["oos_recall"] = float((predicted[out] == OOS).mean())
        flagged = predicted == OOS
        scores["oos_precision"] = float((truth[flagged] == OOS).mean()) if flagged.any() else 0.0
    return scores, seconds


def line(name: str, ours: float, theirs: float, unit: str = "") -> None:
    """Print one figure beside the baseline's and their ratio."""
    scale, digits = (100, 2) if unit == "%" else (1, 1)
    ratio = ours / theirs if theirs else float("nan")
    print(
        f"  {name:<22} rapport {ours * scale:8.{digits}f}{unit}   baseline"
        f" {theirs * scale:8.{digits}f}{unit}   ratio {ratio:.3f}"
    )


def run(name: str, train: Rows, test: Rows, work: Path, thresholds: list[float]) -> None:
    """Train and evaluate one benchmark through the CLI, then the baseline, and print both.
    With out-of-scope rows in the test, training gets `--oos-label oos`."""
    oos = any(label == OOS for _, label in test)
    train_file, test_file = work / f"{name}_train.csv", work / f"{name}_test.csv"
    write(train_file, train)
    write(test_file, test)
    model = work / f"{name}_model"
    extra = ["--oos-label", OOS] if oos else []
    _, wall, cpu = rapport(
        "nlp", "train-intents", "--data", str(train_file), "--out", str(model), *extra
    )
    report = evaluate(model, test_file)
    theirs, baseline_seconds = baseline(train, test)
    labels = len({label for _, label in train})
    flag = ", --oos-label oos" if oos else ""
    print(f"{name}: {len(train):,} training rows, {len(test):,} test rows, {labels} labels"
          f"{flag}; load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    for key in ("accuracy", "in_scope_accuracy", "oos_recall", "oos_precision"):
        if key in report:
            line(key, report[key], theirs[key], "%")
    print(f"  {'macro_f1':<22} rapport {report['macro_f1'] * 100:8.2f}%   "
          f"(threshold {report['threshold']:.3f}, head {report['features']})")  # fmt: skip
    line("training wall s", wall, baseline_seconds)
    print(f"  {'training CPU s':<22} rapport {cpu:8.1f}    (the CLI process, every thread)")
    if oos:
        print("  threshold   in-scope accuracy   oos recall   oos precision")
        for threshold in thresholds:
            swept = evaluate(model, test_file, "--threshold", str(threshold))
            in_scope, recall = swept["in_scope_accuracy"] * 100, swept["oos_recall"] * 100
            precision = swept["oos_precision"] * 100
            print(f"  {threshold:9.3f}   {in_scope:16.2f}%   {recall:9.2f}%   {precision:12.2f}%")


def main() -> None:
    """Run the benchmarks whose files were given."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--banking77", type=Path, help="directory with train.csv and test.csv")
    parser.add_argument("--clinc150", type=Path, help="data_full.json")
    parser.add_argument("--thresholds", default="0.3,0.5,0.7,0.8,0.9,0.95")
    arguments = parser.parse_args()
    if arguments.banking77 is None and arguments.clinc150 is None:
        parser.error("give --banking77 DIR and/or --clinc150 FILE (see the docstring)")
    thresholds = [float(value) for value in arguments.thresholds.split(",")]
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        if arguments.banking77 is not None:
            run("BANKING77", *banking77(arguments.banking77), work, thresholds)
        if arguments.clinc150 is not None:
            train, test = clinc150(arguments.clinc150)
            run("CLINC150", train, test, work, thresholds)
            in_scope = [(text, label) for text, label in train if label != OOS]
            run("CLINC150 without out-of-scope examples", in_scope, test, work, thresholds)


if __name__ == "__main__":
    main()
