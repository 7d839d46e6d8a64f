"""Migrations that change data as well as the schema keep what was there."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from rapport.db.migrate import upgrade


def test_sheets_the_shopify_webhook_wrote_start_with_their_facts_synced(tmp_path: Path) -> None:
    database = tmp_path / "rapport.db"
    upgrade(f"sqlite+aiosqlite:///{database}", "20261207_0039")
    facts = [["Type", "Shirts"], ["Price", "49.00"]]
    with sqlite3.connect(database) as connection:
        for sheet_id, author in (("synced", "shopify"), ("by-hand", "staff:1")):
            connection.execute(
                "INSERT INTO knowledge_product_sheets (id, workspace_id, created_at, "
                "product_key, locale, name, description, facts, author, updated_at) "
                "VALUES (?, 'w1', '2026-12-07 10:00:00', ?, 'en', 'Linen shirt', '', ?, ?, "
                "'2026-12-07 10:00:00')",
                (sheet_id, sheet_id, json.dumps(facts), author),
            )
    upgrade(f"sqlite+aiosqlite:///{database}")
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT id, synced_facts FROM knowledge_product_sheets ORDER BY id"
        ).fetchall()
    assert [(sheet_id, json.loads(names)) for sheet_id, names in rows] == [
        ("by-hand", []),
        ("synced", ["Type", "Price"]),
    ]
