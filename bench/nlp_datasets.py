"""Evaluation and training files from /work/shared/data as `text,label` CSVs.

`python bench/nlp_datasets.py DIR` writes:
- bitext_train.csv / bitext_test.csv: the 8k Bitext file split by template (near-duplicates,
  word TF-IDF cosine >= 0.85 within an intent, are linked and kept on one side), 80/20 per intent;
- bitext_all.csv: the three Bitext files, de-duplicated (the default model's training data);
- bitext_oos_train.csv / bitext_oos_test.csv: the same split with out-of-scope rows labelled
  "oos": three intents are out-of-scope examples in training, four others (never seen in
  training) are the out-of-scope rows of the test;
- amazon_sentiment.csv: VADER's Amazon review snippets, mean rating cut at +-0.05;
- amazon_sentiment_opinions.csv: the same without its neutral rows (VADER's reading of its F1);
- sentiment_train.tsv: VADER's tweets, movie and editorial snippets with their mean rating,
  then our own shop texts (bench/data/shop_sentiment.tsv), unweighted and without the Bitext
  neutral requests: nlp_build_models.py adds those.
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

SHARED = Path("/work/shared/data")
BITEXT = SHARED / "bitext_customer_support"
VADER = SHARED / "vader_groundtruth"
# Our own labelled texts from the shops' domain (bench/data/SOURCE.md).
SHOP_SENTIMENT = Path(__file__).resolve().parent / "data" / "shop_sentiment.tsv"
# The same in French, German and Spanish, and a held-out set written apart from it.
SHOP_SENTIMENT_LANGUAGES = (
    Path(__file__).resolve().parent / "data" / "shop_sentiment_multilingual.tsv"
)
LANGUAGES_TEST = Path(__file__).resolve().parent / "data" / "shop_sentiment_multilingual_test.csv"
SHOP_INTENTS_TRAIN = Path(__file__).resolve().parent / "data" / "shop_intents_train.tsv"
SHOP_INTENTS_TEST = Path(__file__).resolve().parent / "data" / "shop_intents_test.tsv"
# The same in French, German and Spanish (header label<TAB>language<TAB>text).
LANGUAGE_INTENTS_TRAIN = (
    Path(__file__).resolve().parent / "data" / "shop_intents_multilingual_train.tsv"
)
LANGUAGE_INTENTS_TEST = (
    Path(__file__).resolve().parent / "data" / "shop_intents_multilingual_test.tsv"
)
# Questions about what shipping and returns cost, in the four languages (label, language, text).
COST_QUESTIONS = Path(__file__).resolve().parent / "data" / "shop_cost_questions_test.tsv"
NEAR_DUPLICATE = 0.85


def bitext_8k() -> list[tuple[str, str]]:
    """Return (utterance, intent) rows of the 8k file."""
    with (BITEXT / "bitext_cs_training_8k.csv").open(encoding="utf-8-sig", newline="") as f:
        return [(row["utterance"], row["intent"]) for row in csv.DictReader(f)]


def bitext_all() -> list[tuple[str, str]]:
    """Return the rows of the three Bitext files, exact duplicates removed, intents unified."""
    rows = bitext_8k()
    with (BITEXT / "bitext_cs_20k_utterances_2020.csv").open(encoding="utf-8-sig") as f:
        rows += [(r["utterance"], r["intent"]) for r in csv.DictReader(f)]
    with (BITEXT / "bitext_llm_cs_training_v1_2023.csv").open(encoding="utf-8") as f:
        rows += [(r["instruction"], r["intent"]) for r in csv.DictReader(f)]
    unified = [
        (text.strip(), label.replace("check_invoices", "check_invoice")) for text, label in rows
    ]
    seen: set[str] = set()
    return [row for row in unified if not (row[0].lower() in seen or seen.add(row[0].lower()))]


def template_groups(rows: list[tuple[str, str]]) -> list[int]:
    """Link near-duplicates of one intent (single linkage) and return each row's group."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    parent = list(range(len(rows)))

    def find(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    by_label: dict[str, list[int]] = defaultdict(list)
    for index, (_, label) in enumerate(rows):
        by_label[label].append(index)
    for indices in by_label.values():
        vectors = TfidfVectorizer().fit_transform([rows[i][0].lower() for i in indices])
        similar = (vectors @ vectors.T).toarray() >= NEAR_DUPLICATE
        for a, b in zip(*np.nonzero(np.triu(similar, 1)), strict=True):
            parent[find(indices[a])] = find(indices[b])
    return [find(index) for index in range(len(rows))]


def split_by_template(rows: list[tuple[str, str]], seed: int = 0) -> tuple[list, list]:
    """Put a fifth of each intent's template groups in the test set."""
    groups = template_groups(rows)
    generator = np.random.default_rng(seed)
    test_groups: set[int] = set()
    for label in sorted({label for _, label in rows}):
        label_groups = sorted({g for g, (_, lab) in zip(groups, rows, strict=True) if lab == label})
        generator.shuffle(label_groups)
        test_groups.update(label_groups[: max(1, len(label_groups) // 5)])
    train = [row for row, g in zip(rows, groups, strict=True) if g not in test_groups]
    test = [row for row, g in zip(rows, groups, strict=True) if g in test_groups]
    return train, test


OOS_TRAIN_INTENTS = {"newsletter_subscription", "review", "check_cancellation_fee"}
OOS_TEST_INTENTS = {"switch_account", "delivery_options", "complaint", "create_account"}


def out_of_scope_split(
    train: list[tuple[str, str]], test: list[tuple[str, str]]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Relabel held-out intents as "oos" and drop the test intents from training."""
    oos_train = [
        (text, "oos" if label in OOS_TRAIN_INTENTS else label)
        for text, label in train
        if label not in OOS_TEST_INTENTS
    ]
    oos_test = [
        (text, "oos" if label in OOS_TEST_INTENTS else label)
        for text, label in test
        if label not in OOS_TRAIN_INTENTS
    ]
    return oos_train, oos_test


def vader_rows(name: str) -> list[tuple[str, float]]:
    """Return (text, mean rating) rows of a VADER ground-truth file."""
    encoding = "utf-8" if name.startswith("movie") else "latin-1"
    rows = []
    with (VADER / f"{name}_GroundTruth.txt").open(encoding=encoding, newline="") as f:
        for line in f:
            parts = line.rstrip("\r\n").split("\t")
            if len(parts) >= 3:
                rows.append((parts[2], float(parts[1])))
    return rows


def shop_rows() -> list[tuple[str, float]]:
    """Return (text, rating) rows of the shop texts written by Rapport's team."""
    with SHOP_SENTIMENT.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)  # rating, text
        return [(text, float(rating)) for rating, text in reader]


def language_rows() -> list[tuple[str, float, str]]:
    """Return (text, rating, language) rows of the French, German and Spanish shop texts."""
    with SHOP_SENTIMENT_LANGUAGES.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)  # rating, language, text
        return [(text, float(rating), language) for rating, language, text in reader]


def languages_test() -> list[tuple[str, str, str]]:
    """Return (text, label, language) rows of the held-out French, German and Spanish texts."""
    with LANGUAGES_TEST.open(encoding="utf-8", newline="") as f:
        return [(row["text"], row["label"], row["language"]) for row in csv.DictReader(f)]


def shop_intents(path: Path) -> list[tuple[str, str]]:
    """Return (text, intent) rows of our written shop messages (header label<TAB>text)."""
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)  # label, text
        return [(text, label) for label, text in reader]


def language_intents(path: Path) -> list[tuple[str, str, str]]:
    """Return (text, intent, language) rows of our written shop messages in French, German
    and Spanish (header label<TAB>language<TAB>text)."""
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)  # label, language, text
        return [(text, label, language) for label, language, text in reader]


NOT_NEUTRAL_INTENTS = {"complaint", "review"}


def bitext_neutral(rows: list[tuple[str, str]], count: int, seed: int = 0) -> list[str]:
    """Weak neutral examples: `count` Bitext requests ("where is my order"), complaints and
    reviews left out (they may carry an opinion)."""
    texts = sorted({text for text, label in rows if label not in NOT_NEUTRAL_INTENTS})
    chosen = np.random.default_rng(seed).choice(len(texts), size=count, replace=False)
    return [texts[index] for index in sorted(chosen)]


def sentiment_label(rating: float) -> str:
    """Cut a mean rating at +-0.05, as SOURCE.md counts the classes."""
    return "positive" if rating > 0.05 else "negative" if rating < -0.05 else "neutral"


def write(path: Path, rows: list[tuple[str, str]]) -> None:
    """Write a text,label CSV."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(rows)


def main(directory: Path) -> None:
    """Write every file into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    train, test = split_by_template(bitext_8k())
    write(directory / "bitext_train.csv", train)
    write(directory / "bitext_test.csv", test)
    write(directory / "bitext_all.csv", bitext_all())
    oos_train, oos_test = out_of_scope_split(train, test)
    write(directory / "bitext_oos_train.csv", oos_train)
    write(directory / "bitext_oos_test.csv", oos_test)
    amazon = [
        (text, sentiment_label(rating)) for text, rating in vader_rows("amazonReviewSnippets")
    ]
    write(directory / "amazon_sentiment.csv", amazon)
    # VADER's own reading of its F1 (0.63 on these snippets): the rows that carry an opinion,
    # where the CLI counts a neutral prediction as an error (docs/assistant.md).
    opinions = [(text, label) for text, label in amazon if label != "neutral"]
    write(directory / "amazon_sentiment_opinions.csv", opinions)
    with (directory / "sentiment_train.tsv").open("w", encoding="utf-8") as f:
        for name in ("tweets", "movieReviewSnippets", "nytEditorialSnippets"):
            f.writelines(f"{rating}\t{text}\n" for text, rating in vader_rows(name))
        f.writelines(f"{rating}\t{text}\n" for text, rating in shop_rows())
    print(f"train {len(train)} test {len(test)} all {len(bitext_all())} amazon {len(amazon)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
