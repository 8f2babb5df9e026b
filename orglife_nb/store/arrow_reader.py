"""Child process of ``store.arrow``: run SELECTs on an SQLite file through ADBC, write Arrow IPC files.

Run as a script (not imported): it needs only pyarrow and the ADBC driver, and it keeps the driver's own copy of
SQLite out of the parent process, where two SQLite libraries on one file break each other's locks and caches.
"""
import json
import sys

# the low-level ADBC API: the DBAPI module imports pyarrow.dataset and pandas (~0.25 s of each child's start)
import adbc_driver_manager
import adbc_driver_sqlite
import pyarrow as pa

BATCH_ROWS = 1 << 20


def main(database: str, folder: str) -> None:
    """stdin: one JSON [name, sql] a line; query ``name``'s result goes to ``folder/<name>.arrow`` (Arrow IPC
    file: the parent maps it without copying), then ``name`` is printed on stdout (the parent's cue for the next
    query). All queries run in one read transaction, as through the DBAPI (autocommit off)."""
    with adbc_driver_sqlite.connect(database) as db, adbc_driver_manager.AdbcConnection(db) as connection:
        connection.set_autocommit(False)
        for line in sys.stdin:
            name, sql = json.loads(line)
            with adbc_driver_manager.AdbcStatement(connection) as statement:
                # a result (or a part of one) in one batch: no chunks to combine, and the driver types each column
                # by all its values, not by its first 1,024 rows (a column missing there and text later is an error)
                statement.set_options(**{"adbc.sqlite.query.batch_rows": str(BATCH_ROWS)})
                statement.set_sql_query(sql)
                stream, _ = statement.execute_query()
                table = pa.RecordBatchReader._import_from_c(stream.address).read_all()
            # large_string is what pandas keeps text in: cast here, in parallel, not in the parent's to_pandas;
            # and one chunk a column (a result larger than a batch): pandas is slower on many chunks
            table = table.cast(pa.schema([f.with_type(pa.large_string()) if f.type == pa.string() else f
                                          for f in table.schema])).combine_chunks()
            with pa.OSFile(f"{folder}/{name}.arrow", "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)
            print(name, flush=True)
        connection.rollback()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
