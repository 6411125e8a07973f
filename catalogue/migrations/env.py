"""Alembic environment: runs against the engine the Store hands over (never a URL from a file)."""

from typing import Any

import sqlalchemy as sa
from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlmodel.sql.sqltypes import AutoString

from catalogue.models import metadata
from catalogue.models.base import UTCDateTime


def render_item(kind: str, obj: Any, autogen: AutogenContext) -> str | bool:
    """Render our column types as plain, importable code in new revisions."""
    if kind == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "catalogue.models.base.UTCDateTime()"
    return False


engine: sa.Engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite alters tables by copy
        compare_type=True,
        render_item=render_item,
    )
    context.run_migrations()
