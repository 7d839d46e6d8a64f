"""`rapport nlp`: train and evaluate the assistant's intent model, evaluate sentiment, label
the customer messages stored without labels."""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from rapport.assistant.backlog import MIN_AGE, label_backlog
from rapport.cli.common import console, out, run
from rapport.core.db import Database
from rapport.feedback.text import label_texts
from rapport.identity.service import workspaces
from rapport.nlp import intents, metrics
from rapport.nlp.embeddings import load_embedder
from rapport.nlp.sentiment import LexiconFeatures, label_for, load_sentiment
from rapport.nlp.training import train_intents

app = typer.Typer(help="Train and evaluate the assistant's language models.", no_args_is_help=True)
DATA = typer.Option(..., exists=True, dir_okay=False, help="CSV file with the header text,label.")


def read_labelled(path: Path) -> tuple[list[str], list[str]]:
    """Read a `text,label` CSV; exit with code 2 on a wrong header or an empty file."""
    with path.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.DictReader(stream)
        if reader.fieldnames is None or not {"text", "label"} <= set(reader.fieldnames):
            console.print(f"[red]error:[/red] {path} needs the header text,label")
            raise typer.Exit(2)
        rows = [(row["text"] or "", (row["label"] or "").strip()) for row in reader]
    if not rows:
        console.print(f"[red]error:[/red] {path} has no rows")
        raise typer.Exit(2)
    return [text for text, _ in rows], [label for _, label in rows]


def _bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(), console=console,
    )  # fmt: skip


@app.command("train-intents")
def train_intents_command(
    data: Path = DATA,
    out_dir: Path = typer.Option(..., "--out", help="Directory to write the model into."),
    oos_label: str | None = typer.Option(None, help="Label of the out-of-scope examples."),
) -> None:
    """Train an intent model from a text,label CSV and write it with its metadata.json."""
    texts, labels = read_labelled(data)
    if len(set(labels) - {oos_label}) < 2:
        console.print("[red]error:[/red] training needs at least two in-scope labels")
        raise typer.Exit(2)
    embedder = load_embedder(threads=2)
    with _bar() as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            key = "embed" if stage == "Embedding" else "train"
            if key not in tasks:
                tasks[key] = bar.add_task(stage, total=total)
            bar.update(tasks[key], description=stage, completed=done, total=total)

        model = train_intents(texts, labels, embedder, oos_label, progress)
    intents.save(model, out_dir)
    out.print(json.dumps({"model": str(out_dir), **model.metadata}, indent=2))


@app.command("evaluate-intents")
def evaluate_intents(
    model_dir: Path = typer.Option(..., "--model", exists=True, file_okay=False),
    data: Path = DATA,
    oos_label: str | None = typer.Option(None, help="Out-of-scope label (default: the model's)."),
    threshold: float | None = typer.Option(None, min=0.0, max=1.0, help="Confidence threshold."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Evaluate an intent model on a text,label CSV: accuracy, macro-F1, out-of-scope figures."""
    texts, truth = read_labelled(data)
    model = intents.load(model_dir)
    classifier = intents.LinearIntentClassifier(model, load_embedder(threads=2))
    oos = oos_label or model.oos_label or intents.OUT_OF_SCOPE
    predicted = [
        oos if prediction.out_of_scope else prediction.label
        for prediction in classifier.predict(texts, threshold)
    ]
    report: dict[str, object] = {**metrics.intent_report(truth, predicted, oos)}
    report["threshold"] = classifier.head.threshold if threshold is None else threshold
    report["features"] = classifier.feature_name
    _print(report, as_json, metrics.confusion(truth, predicted))


@app.command("evaluate-sentiment")
def evaluate_sentiment(
    data: Path = DATA,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    opinions: bool = typer.Option(
        False,
        "--opinions",
        help="Read the texts as opinions, exactly as survey comments are read: neutral only "
        "when the opinion gate and the neutral band agree, or when the text declines to "
        "comment ('none', 'n/a'); default: as messages to support.",
    ),
) -> None:
    """Evaluate the sentiment model on a text,label CSV (negative, neutral, positive)."""
    texts, truth = read_labelled(data)
    analyzer = load_sentiment(load_embedder(threads=2), opinions=opinions)
    if opinions:  # exactly as survey comments are read, a non-answer ("none") neutral
        predicted = [labels.label for labels in label_texts(texts, analyzer)]
    else:
        predicted = [result.label for result in analyzer.analyze(texts)]
    report: dict[str, object] = {
        "rows": len(truth),
        "accuracy": metrics.accuracy(truth, predicted),
        "macro_f1": metrics.macro_f1(truth, predicted),
        "model": analyzer.name,
        "reading": "opinions" if opinions else "messages",
    }
    # VADER's own rule (compound beyond +-0.05) on the same rows, as the baseline to beat.
    vader = [label_for(float(row[0]), 0.05) for row in LexiconFeatures()(texts)]
    report["baseline_vader_accuracy"] = metrics.accuracy(truth, vader)
    report["baseline_vader_macro_f1"] = metrics.macro_f1(truth, vader)
    _print(report, as_json, metrics.confusion(truth, predicted))


@app.command("label-messages")
def label_messages(
    workspace: str = typer.Option(..., help="Workspace slug."),
    min_age_minutes: int = typer.Option(
        int(MIN_AGE.total_seconds() // 60),
        min=0,
        max=525_600,
        help="Leave messages younger than this to the assistant's own job.",
    ),
) -> None:
    """Label the customer messages stored without labels (history imported, messages from
    before the assistant): language, intent and sentiment, on each message and its
    conversation. Nothing is answered; safe to run again and beside a running server."""
    minutes = timedelta(minutes=min_age_minutes)
    out.print(f"labelled={run(lambda database: label_with_progress(database, workspace, minutes))}")


async def label_with_progress(database: Database, slug: str, min_age: timedelta) -> int:
    """Label the workspace `slug`'s unlabelled customer messages with a progress bar."""
    async with database.session() as session:
        workspace_id = (await workspaces.get_by_slug(session, slug)).id
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("Labelling customer messages", total=None)
        return await label_backlog(
            database, workspace_id, min_age=min_age,
            progress=lambda count: progress.advance(task, count),
        )  # fmt: skip


def _print(report: dict[str, object], as_json: bool, confusion: dict[str, dict[str, int]]) -> None:
    if as_json:
        out.print(json.dumps({**report, "confusion": confusion}))
        return
    for key, value in report.items():
        out.print(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}")
