"""identity verification secrets per source

Revision ID: 20261202_0006
Revises: 20261202_0005
Create Date: 2026-12-02 06:00:00

- sources.identity_secret(+_set_at): the secret a shop's server signs user ids with (HMAC),
  stored sealed like the webhook secret. Existing sources get a random one here, so the console
  can show it at once; new sources get theirs when an admin first asks for it.
- sources.identity_verification_required: whether unsigned identities from the public write
  key are kept as unverified claims. Existing sources keep it off (false), so upgrading breaks
  no shop that sends identify without a signature; the console warns until it is turned on.
  Sources created from now on start with it on.
- customers.claims: what unverified calls said (identifiers and traits), sealed, shown as
  unverified on the profile and never used as its identifiers or traits.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rapport.core.db

revision: str = "20261202_0006"
down_revision: str | None = "20261202_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("identity_secret", sa.LargeBinary(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "identity_secret_set_at", rapport.core.db.UtcDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "identity_verification_required",
                sa.Boolean(),
                server_default=sa.false(),
                nullable=False,
            )
        )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claims", sa.LargeBinary(), nullable=True))
    _make_secrets_for_existing_sources()


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("claims")
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.drop_column("identity_verification_required")
        batch_op.drop_column("identity_secret_set_at")
        batch_op.drop_column("identity_secret")


def _make_secrets_for_existing_sources() -> None:
    """Give each existing source a random identity secret, sealed to its row."""
    connection = op.get_bind()
    source_ids = [row[0] for row in connection.execute(sa.text("SELECT id FROM sources"))]
    if not source_ids:
        return  # a new install: no key ring is needed
    from rapport.core.clock import utcnow
    from rapport.core.crypto import keyring, new_token

    ring, now = keyring(), utcnow()
    update = sa.text(
        "UPDATE sources SET identity_secret = :sealed, identity_secret_set_at = :now WHERE id = :id"
    ).bindparams(sa.bindparam("now", type_=rapport.core.db.UtcDateTime(timezone=True)))
    for source_id in source_ids:
        sealed = ring.encrypt(new_token(nbytes=32), f"sources.identity_secret:{source_id}")
        connection.execute(update, {"sealed": sealed, "now": now, "id": source_id})
