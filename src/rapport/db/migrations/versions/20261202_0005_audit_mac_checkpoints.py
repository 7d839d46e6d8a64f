"""keyed audit chain, checkpoints, append-only guard

Revision ID: 20261202_0005
Revises: 20261130_0004
Create Date: 2026-12-02 06:00:00

- audit_events: mac_version (0 = the unkeyed SHA-256 of earlier releases, 1 = HMAC-SHA256 with
  a key derived from the key ring) and mac_key_id (that key's fingerprint). Existing records
  stay version 0: re-MACing them would vouch for rows whose integrity nobody can prove (they
  could have been rewritten before this release); the first keyed record links to the last of
  them, so from then on they cannot be changed unnoticed by anyone without the key.
- audit_chain_head.legacy_until_seq: the last seq that may be unkeyed, fixed here at the
  current head, so a rewrite cannot pass keyed records off as unkeyed ones; and
  legacy_until_mac, its MAC under the key ring, written once by the application (`rapport db
  upgrade`, or the first keyed record): a boundary without a valid MAC counts as 0, so raising
  it (after dropping the triggers) does not make rewritten records pass as unkeyed.
- audit_checkpoints: Ed25519-signed statements of the chain head.
- Triggers refuse UPDATE, DELETE and (PostgreSQL) TRUNCATE of audit records and checkpoints,
  and any change of the chain head but its advance. A database owner can drop them: they stop
  the application and mistakes, the MACs and exported checkpoints catch the rest.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rapport.core.db

revision: str = "20261202_0005"
down_revision: str | None = "20261130_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("audit_events", "audit_checkpoints")

POSTGRES_FUNCTIONS = (
    """
CREATE FUNCTION rapport_refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit table % is append-only', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$
""",
    """
CREATE FUNCTION rapport_guard_audit_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'the audit chain head only advances'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.id <> OLD.id OR NEW.seq < OLD.seq
            OR NEW.legacy_until_seq <> OLD.legacy_until_seq
            OR (OLD.legacy_until_mac IS NOT NULL
                AND NEW.legacy_until_mac IS DISTINCT FROM OLD.legacy_until_mac) THEN
        RAISE EXCEPTION 'the audit chain head only advances'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$
""",
)


def _postgres_upgrade() -> None:
    for function in POSTGRES_FUNCTIONS:
        op.execute(function)
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION rapport_refuse_audit_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION rapport_refuse_audit_change()"
        )
    op.execute(
        "CREATE TRIGGER audit_chain_head_advance_only BEFORE UPDATE OR DELETE "
        "ON audit_chain_head FOR EACH ROW EXECUTE FUNCTION rapport_guard_audit_head()"
    )
    op.execute(
        "CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head "
        "FOR EACH STATEMENT EXECUTE FUNCTION rapport_refuse_audit_change()"
    )


def _sqlite_upgrade() -> None:
    for table in APPEND_ONLY:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'audit table {table} is append-only'); END"
            )
    op.execute(
        "CREATE TRIGGER audit_chain_head_advance_only BEFORE UPDATE ON audit_chain_head "
        "WHEN NEW.id <> OLD.id OR NEW.seq < OLD.seq "
        "OR NEW.legacy_until_seq <> OLD.legacy_until_seq "
        "OR (OLD.legacy_until_mac IS NOT NULL "
        "AND NEW.legacy_until_mac IS NOT OLD.legacy_until_mac) "
        "BEGIN SELECT RAISE(ABORT, 'the audit chain head only advances'); END"
    )
    op.execute(
        "CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head "
        "BEGIN SELECT RAISE(ABORT, 'the audit chain head only advances'); END"
    )


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("mac_version", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(sa.Column("mac_key_id", sa.String(length=16), nullable=True))
    with op.batch_alter_table("audit_chain_head", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("legacy_until_seq", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(sa.Column("legacy_until_mac", sa.String(length=96), nullable=True))
    op.execute("UPDATE audit_chain_head SET legacy_until_seq = seq")
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
    )
    with op.batch_alter_table("audit_checkpoints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_checkpoints_seq"), ["seq"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        _postgres_upgrade()
    else:
        _sqlite_upgrade()


def _drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
        op.execute("DROP TRIGGER audit_chain_head_advance_only ON audit_chain_head")
        op.execute("DROP TRIGGER audit_chain_head_no_truncate ON audit_chain_head")
        op.execute("DROP FUNCTION rapport_guard_audit_head()")
        op.execute("DROP FUNCTION rapport_refuse_audit_change()")
        return
    for table in APPEND_ONLY:
        op.execute(f"DROP TRIGGER {table}_no_update")
        op.execute(f"DROP TRIGGER {table}_no_delete")
    op.execute("DROP TRIGGER audit_chain_head_advance_only")
    op.execute("DROP TRIGGER audit_chain_head_no_delete")


def downgrade() -> None:
    _drop_triggers()
    with op.batch_alter_table("audit_checkpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_checkpoints_seq"))
    op.drop_table("audit_checkpoints")
    with op.batch_alter_table("audit_chain_head", schema=None) as batch_op:
        batch_op.drop_column("legacy_until_mac")
        batch_op.drop_column("legacy_until_seq")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("mac_key_id")
        batch_op.drop_column("mac_version")
