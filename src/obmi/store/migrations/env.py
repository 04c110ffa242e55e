"""Alembic environment: the engine is handed over by obmi.store.database (no ini file)."""

from alembic import context

from obmi.store.tables import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    context.run_migrations()
