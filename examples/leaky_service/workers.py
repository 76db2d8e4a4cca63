"""Lifecycle family: threads, timers and tasks that never stop."""

import asyncio
import queue
import threading

jobs = queue.Queue()


def _drain():
    while True:
        job = jobs.get()
        job()


def start_worker():
    worker = threading.Thread(target=_drain, daemon=True)
    worker.start()


def heartbeat(send):
    send()
    threading.Timer(30.0, heartbeat, args=(send,)).start()


async def notify_all(users, send):
    for user in users:
        asyncio.create_task(send(user))
