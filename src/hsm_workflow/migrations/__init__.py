"""Alembic migrations; run by ``hsm-workflow init`` (see :func:`hsm_workflow.db.schema.upgrade`)."""
