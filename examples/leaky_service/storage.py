"""Resource family: handles never released."""

import sqlite3
import subprocess
from concurrent.futures import ThreadPoolExecutor


def load_settings(path):
    return open(path).read()


def append_audit(path, line):
    handle = open(path, "a")
    if not line:
        return
    handle.write(line)
    handle.close()


def count_orders(db_path):
    connection = sqlite3.connect(db_path)
    return connection.execute("select count(*) from orders").fetchone()[0]


def compress_archive(path):
    subprocess.Popen(["gzip", path])


def resize_all(images, resize):
    pool = ThreadPoolExecutor(max_workers=4)
    return [pool.submit(resize, image) for image in images]
