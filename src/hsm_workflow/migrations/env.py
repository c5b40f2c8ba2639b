"""Alembic environment: the connection is handed over by hsm_workflow.db.schema."""
from alembic import context

from hsm_workflow.db.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
