"""Alembic environment: runs on the connection handed over by ``storage.db.migrate``.

From the command line (``alembic -x url=sqlite:///var/pstbot.sqlite3 upgrade head``) it opens its
own connection to the ``url`` given.
"""

from alembic import context
from sqlalchemy import create_engine

from storage.db import normalize_url
from storage.models import Base

config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        url = normalize_url(context.get_x_argument(as_dictionary=True)["url"])
        with create_engine(url).begin() as conn:
            _upgrade(conn)
    else:
        _upgrade(connection)


def _upgrade(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run()
