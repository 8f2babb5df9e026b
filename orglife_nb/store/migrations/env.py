"""Alembic environment: run on the connection the store hands over (see orglife_nb.store.migrate)."""
from alembic import context

from orglife_nb.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs table copies for ALTER
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
