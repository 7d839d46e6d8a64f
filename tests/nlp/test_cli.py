"""`rapport nlp` end to end on a small CSV: train, evaluate (JSON), evaluate sentiment."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rapport.cli.main import app
from tests.nlp.conftest import intent_rows

runner = CliRunner()


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path


def train_oos_model(directory: Path, with_out_of_scope: bool) -> Path:
    """Train through the CLI with `--oos-label oos`; return the model's directory."""
    data = write_csv(directory / "train.csv", intent_rows(with_out_of_scope))
    result = runner.invoke(
        app, ["nlp", "train-intents", "--data", str(data), "--out", str(directory / "model"),
              "--oos-label", "oos"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return directory / "model"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_oos_model(tmp_path_factory.mktemp("nlp"), with_out_of_scope=True)


def test_training_writes_metadata(model_dir: Path) -> None:
    metadata = json.loads((model_dir / "metadata.json").read_text())
    assert metadata["examples"] == 40
    assert metadata["oos_label"] == "oos"
    assert len(metadata["data_sha256"]) == 64
    assert {"version", "metrics", "labels"} <= set(metadata)
    assert (model_dir / "weights.npz").is_file()


def test_evaluate_intents_prints_one_json_object(model_dir: Path, tmp_path: Path) -> None:
    rows = [
        ("where is my parcel", "track_order"),
        ("cancel that order now", "cancel_order"),
        ("I forgot my password again", "recover_password"),
        ("who is the president of Peru", "oos"),
    ]
    data = write_csv(tmp_path / "test.csv", rows)
    result = runner.invoke(
        app, ["nlp", "evaluate-intents", "--model", str(model_dir), "--data", str(data), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["rows"] == 4
    assert report["oos_rows"] == 1
    for key in ("accuracy", "macro_f1", "in_scope_accuracy", "oos_recall", "oos_precision"):
        assert 0.0 <= report[key] <= 1.0, key


def test_an_oos_label_without_examples_names_the_threshold_rejections(tmp_path: Path) -> None:
    # CLINC150's "oos-threshold" setting: no out-of-scope row to learn from, yet the test's
    # out-of-scope rows carry the label and are scored as out of scope.
    model = train_oos_model(tmp_path, with_out_of_scope=False)
    metadata = json.loads((model / "metadata.json").read_text())
    assert metadata["oos_label"] == "oos" and "oos" not in metadata["labels"]

    rows = [("where is my parcel", "track_order"), ("who is the president of Peru", "oos")]
    data = write_csv(tmp_path / "test.csv", rows)
    result = runner.invoke(
        app, ["nlp", "evaluate-intents", "--model", str(model), "--data", str(data), "--json",
              "--threshold", "1.0"],
    )  # fmt: skip
    report = json.loads(result.stdout)
    # At threshold 1 every row is rejected: the out-of-scope row is caught, the other is not.
    assert (report["oos_rows"], report["oos_recall"], report["oos_precision"]) == (1, 1.0, 0.5)
    assert report["in_scope_accuracy"] == 0.0


def test_evaluate_sentiment_prints_accuracy_and_macro_f1(tmp_path: Path) -> None:
    rows = [
        ("I love this blender, it works perfectly", "positive"),
        ("Terrible product, it broke after one day", "negative"),
    ]
    data = write_csv(tmp_path / "sentiment.csv", rows)
    result = runner.invoke(app, ["nlp", "evaluate-sentiment", "--data", str(data), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["rows"], report["accuracy"], report["macro_f1"]) == (2, 1.0, 1.0)
    assert report["baseline_vader_accuracy"] == 1.0


def test_evaluate_sentiment_reads_texts_as_messages_or_as_opinions(tmp_path: Path) -> None:
    # A short complaint in a survey comment: as a message to support the opinion gate lets it
    # pass as neutral; read as an opinion, it is negative.
    data = write_csv(tmp_path / "comments.csv", [("The parcel came late", "negative")])
    reports = [
        json.loads(
            runner.invoke(
                app, ["nlp", "evaluate-sentiment", "--data", str(data), "--json", *flag]
            ).stdout
        )
        for flag in ([], ["--opinions"])
    ]
    assert [(r["reading"], r["accuracy"]) for r in reports] == [
        ("messages", 0.0),
        ("opinions", 1.0),
    ]


def test_evaluate_sentiment_reads_opinions_exactly_as_survey_comments_are_read(
    tmp_path: Path,
) -> None:
    # A comment that declines to comment is neutral there (the models alone read "No
    # comment" as negative).
    rows = [("No comment", "neutral"), ("none", "neutral"), ("The parcel came late", "negative")]
    data = write_csv(tmp_path / "comments.csv", rows)
    result = runner.invoke(
        app, ["nlp", "evaluate-sentiment", "--data", str(data), "--json", "--opinions"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["accuracy"] == 1.0


def test_a_csv_without_the_header_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "bad.csv"
    data.write_text("utterance,intent\nhello,greet\n")
    result = runner.invoke(app, ["nlp", "evaluate-sentiment", "--data", str(data), "--json"])
    assert result.exit_code == 2
