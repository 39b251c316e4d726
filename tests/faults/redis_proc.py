"""Processes the fault tests start and kill: a private ``redis-server`` (so that stopping it never
touches the Redis other tests and helpers share) and ``celery -A mops worker`` subprocesses on the
test database. Every process is stopped by the context manager that started it."""

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection

from tests import needs

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A free port below the ephemeral range: a server stopped and started again on it must find it
    free, and a port the kernel hands out to outgoing connections may be taken in between."""
    low = 32768
    with contextlib.suppress(OSError, ValueError):
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(100):
        port = random.randrange(max(1025, low - 12000), low)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port found")


def wait_until(condition, timeout: float = 30, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return bool(condition())


class RedisServer:
    """``redis-server`` on a free port of 127.0.0.1, no persistence: ``start()``, ``stop()``, ``start()``
    again on the same port."""

    def __init__(self):
        self.port = free_port()
        self.process = None
        self.dir = tempfile.mkdtemp(prefix="mops-faults-redis-")

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def answers(self) -> bool:
        try:
            client = redis.Redis(port=self.port, socket_connect_timeout=0.2, socket_timeout=0.5)
            client.ping()
            client.close()
        except redis.RedisError:
            return False
        return True

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        log = Path(self.dir) / "redis.log"
        with open(log, "ab") as output:
            self.process = subprocess.Popen([*command, "--dir", self.dir], stdout=output, stderr=subprocess.STDOUT)
        if not wait_until(lambda: self.process.poll() is not None or self.answers(), timeout=10) or not self.answers():
            self.stop()
            raise RuntimeError(f"redis-server did not answer on port {self.port}:\n{log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@contextmanager
def private_redis():
    if not shutil.which("redis-server"):
        needs.skip_or_fail("redis-server is not installed")
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.dir, ignore_errors=True)


def database_url() -> str:
    """The test database (pytest-django's), as the worker subprocess's ``DATABASE_URL``."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


# Runs in the worker subprocess: the project's Celery app, a readiness file, optional transport options.
WORKER_MAIN = """
import json, os, sys
from pathlib import Path
import django
django.setup()
from celery.signals import worker_ready
from mops.celery import app
options = json.loads(os.environ.get("FAULTS_TRANSPORT_OPTIONS") or "{}")
if options:
    app.conf.broker_transport_options = options
worker_ready.connect(lambda **kwargs: Path(os.environ["FAULTS_READY_FILE"]).touch(), weak=False)
app.worker_main(["worker", "--pool=solo", "--loglevel=WARNING", "--without-mingle", "--without-gossip",
                 "--without-heartbeat", "-n", f"faults-{os.getpid()}@%h"])
"""


class Worker:
    """``celery -A mops worker`` (solo pool) in a subprocess, on the test database and ``redis_url``."""

    def __init__(self, redis_url: str, *, transport_options: dict | None = None):
        import json

        self.ready_file = Path(tempfile.mkdtemp(prefix="mops-faults-worker-")) / "ready"
        self.log = tempfile.NamedTemporaryFile(prefix="mops-faults-worker-", suffix=".log", delete=False)  # noqa: SIM115
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "mops.settings",
            "DATABASE_URL": database_url(),
            "REDIS_URL": redis_url,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "MOPS_VAR_DIR": str(settings.VAR_DIR),
            "SECRET_KEY": settings.SECRET_KEY,
            "DEBUG": "false",
            "DB_CONN_MAX_AGE": "0",
            "METRICS_REFRESH_DELAY_MS": str(settings.METRICS_REFRESH_DELAY_MS),
            "PYTHONPATH": str(ROOT),
            "FAULTS_READY_FILE": str(self.ready_file),
            "FAULTS_TRANSPORT_OPTIONS": json.dumps(transport_options or {}),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-c", WORKER_MAIN], cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        if not wait_until(lambda: self.ready_file.exists() or self.process.poll() is not None, timeout=60):
            self.stop()
            raise RuntimeError(f"the worker did not start:\n{self.output()}")
        if self.process.poll() is not None:
            raise RuntimeError(f"the worker exited with {self.process.returncode}:\n{self.output()}")

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")[-4000:]

    def kill(self) -> None:
        """``kill -9``: no warm shutdown, no acknowledgement, open transactions cut off."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # warm shutdown: the current task finishes
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()
        os.unlink(self.log.name)
        shutil.rmtree(self.ready_file.parent, ignore_errors=True)


@contextmanager
def worker(redis_url: str, **kwargs):
    process = Worker(redis_url, **kwargs)
    try:
        yield process
    finally:
        process.stop()


@contextmanager
def celery_on(redis_url: str, *, transport_options: dict | None = None):
    """Point this process (the web side) at ``redis_url`` as a deployment with ``REDIS_URL`` would be:
    the settings the health check reads, the Celery app's broker and result backend (with their
    cached connection pools), the marks' Redis client; tasks are sent, not run in-process.
    ``transport_options`` add to the broker's (e.g. a short ``visibility_timeout``)."""
    from kombu import pools

    from metrics.rollups import marks
    from mops.celery import app

    def reset_connections():
        pools.reset()  # kombu's connection and producer pools, per broker URL, for the whole process
        app._pool = None
        app.amqp._producer_pool = None
        app._local.__dict__.pop("backend", None)
        marks._redis = None

    saved = {
        "broker_url": app.conf.broker_url,
        "result_backend": app.conf.result_backend,
        "task_always_eager": app.conf.task_always_eager,
        "task_eager_propagates": app.conf.task_eager_propagates,
        "broker_transport_options": app.conf.broker_transport_options,
    }
    saved_redis_url = settings.REDIS_URL
    reset_connections()
    app.conf.update(
        broker_url=redis_url,
        result_backend=redis_url,
        task_always_eager=False,
        task_eager_propagates=False,
        broker_transport_options={**app.conf.broker_transport_options, **(transport_options or {})},
    )
    settings.REDIS_URL = redis_url
    try:
        yield app
    finally:
        reset_connections()
        app.conf.update(**saved)
        settings.REDIS_URL = saved_redis_url
