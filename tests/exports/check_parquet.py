"""Checks a Taoscope Parquet export with pyarrow and DuckDB (independent readers).

Usage: check_parquet.py FILE EXPECTED.json

EXPECTED.json: {"rows": N, "columns": [["name", "type"], ...]} in file order, where types are
int32, int64, float64, bool, string, date32, timestamp[us, tz=UTC] or list<int32>; optionally
"values": {"name": [first values...]} compared with the file's first rows. Every column chunk
must be zstd-compressed, and DuckDB must read the same rows and column names. Exits 1 with one
line per mismatch.
"""

import json
import sys

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq


def normalise(t: pa.DataType) -> str:
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t):
        return f"list<{normalise(t.value_type)}>"
    if pa.types.is_timestamp(t):
        return f"timestamp[{t.unit}, tz={t.tz}]"
    if pa.types.is_date32(t):
        return "date32"
    if pa.types.is_float64(t):
        return "float64"
    if pa.types.is_boolean(t):
        return "bool"
    return str(t)


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    path, expected_path = sys.argv[1], sys.argv[2]
    with open(expected_path) as f:
        expected = json.load(f)
    problems = []

    table = pq.read_table(path)
    if table.num_rows != expected["rows"]:
        problems.append(f"rows: {table.num_rows}, expected {expected['rows']}")
    found = [(field.name, normalise(field.type)) for field in table.schema]
    wanted = [(name, kind) for name, kind in expected["columns"]]
    if found != wanted:
        problems.append(f"columns: {found}, expected {wanted}")

    metadata = pq.ParquetFile(path).metadata
    for g in range(metadata.num_row_groups):
        group = metadata.row_group(g)
        for c in range(group.num_columns):
            column = group.column(c)
            if column.compression != "ZSTD":
                problems.append(f"row group {g} column {column.path_in_schema}: {column.compression}, expected ZSTD")

    for name, values in expected.get("values", {}).items():
        if name not in table.column_names:
            continue
        got = table.column(name).slice(0, len(values)).to_pylist()
        if name in dict(found) and dict(found)[name].startswith("timestamp"):
            got = [None if v is None else v.isoformat() for v in got]
        if got != values:
            problems.append(f"{name}: {got}, expected {values}")

    relation = duckdb.read_parquet(path)
    duck_rows = relation.aggregate("count(*)").fetchone()[0]
    if duck_rows != table.num_rows:
        problems.append(f"duckdb: {duck_rows} rows, pyarrow {table.num_rows}")
    if relation.columns != table.column_names:
        problems.append(f"duckdb: columns {relation.columns}, pyarrow {table.column_names}")

    for p in problems:
        print(f"check_parquet: {path}: {p}", file=sys.stderr)
    if not problems:
        print(f"check_parquet: {path}: {table.num_rows} rows, {len(found)} columns, zstd, duckdb: ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
