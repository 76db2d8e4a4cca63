"""OOM family: one sudden large allocation."""

import sqlite3
import sys

sys.setrecursionlimit(1_000_000)

SCRATCH = bytearray(4 * 1024**3)


def count_errors(log_path):
    errors = 0
    with open(log_path) as log:
        for line in log.readlines():
            if "ERROR" in line:
                errors += 1
    return errors


def export_orders(db_path, write):
    with sqlite3.connect(db_path) as connection:
        cursor = connection.cursor()
        cursor.execute("select * from orders")
        for row in cursor.fetchall():
            write(row)
