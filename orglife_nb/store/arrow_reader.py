"""Child process of ``store.arrow``: run SELECTs on an SQLite file through ADBC, write Arrow IPC files.

Run as a script (not imported): it needs only pyarrow and the ADBC driver, and it keeps the driver's own copy of
SQLite out of the parent process, where two SQLite libraries on one file break each other's locks and caches.
"""
import json
import sys

import adbc_driver_sqlite.dbapi as adbc
import pyarrow as pa


def main(database: str, folder: str) -> None:
    """stdin: [[number, sql], …]; query ``number``'s result goes to ``folder/<number>.arrow`` (Arrow IPC file:
    the parent maps it without copying)."""
    queries = json.load(sys.stdin)
    with adbc.connect(database) as connection, connection.cursor() as cursor:
        for number, sql in queries:
            cursor.execute(sql)
            table = cursor.fetch_arrow_table()
            with pa.OSFile(f"{folder}/{number}.arrow", "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
