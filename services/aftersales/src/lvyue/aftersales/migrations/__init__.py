"""Aftersales' Alembic migrations."""

from lvyue.common.migrate import MigrationSet

MIGRATIONS = MigrationSet(__name__, "alembic_version")
