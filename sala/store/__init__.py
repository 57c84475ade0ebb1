"""Persistence: the SQLAlchemy schema, the database handle and its migrations."""

from sala.store.db import Database

__all__ = ["Database"]
