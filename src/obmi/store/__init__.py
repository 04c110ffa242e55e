"""The one database layer: engine creation, schema migrations, bulk helpers, backup/restore."""

from obmi.store.database import Database, open_database

__all__ = ["Database", "open_database"]
