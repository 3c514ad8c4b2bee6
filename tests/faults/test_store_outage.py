"""The SQL store unavailable for three seconds while the projector and the audit logger
consume a live stream, on SQLite and on PostgreSQL.

SQLite: another process holds the write lock (`BEGIN EXCLUSIVE`, as a backup or a manual
session would), so every write waits out the busy timeout and fails "database is locked".
PostgreSQL: the server goes away — the test reaches it through a TCP proxy that drops
every connection and refuses new ones, then listens again.

While the store is down, the consumers must never acknowledge an entry whose rows are not
committed (sampled every few milliseconds: acknowledged ≤ rows), and must not dead-letter
anything; once it is back, every event must be in the store and the audit log, once.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from bus.embedded import EmbeddedRedis
from schemas.catalogue import StreamName
from store.engine import engine_for_url
from tests.faults.checks import audit_view, rows, stream_ids
from tests.faults.conftest import Models, StackFactory
from tests.faults.proxy import TcpProxy
from tests.faults.stack import Stack, wait_until
from tests.faults.traffic import Pacer, corpus_sample, feedback_for, predictions

pytestmark = [pytest.mark.faults, pytest.mark.redis]

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
OUTAGE_S = 3.0
PROJECTED = (StreamName.PREDICTIONS, StreamName.FEEDBACK)


@dataclass
class Outage:
    """A database the consumers use (`url`), a way around the fault to read it
    (`direct_url`), and the fault itself."""

    url: str
    direct_url: str
    kind: str
    _lock: sqlite3.Connection | None = None
    _proxy: TcpProxy | None = None
    notes: list[str] = field(default_factory=list)

    def begin(self) -> None:
        if self._proxy is not None:
            self._proxy.cut()
            return
        path = make_url(self.url).database
        assert path is not None
        self._lock = sqlite3.connect(path, timeout=10, isolation_level=None)
        self._lock.execute("BEGIN EXCLUSIVE")

    def end(self) -> None:
        if self._proxy is not None:
            self._proxy.restore()
            return
        assert self._lock is not None
        self._lock.execute("ROLLBACK")
        self._lock.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def outage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Outage]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
        yield Outage(url, url, "sqlite")
        return
    server = make_url(os.environ.get("SPAMOPS_TEST_POSTGRES_URL", DEFAULT_POSTGRES))
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(admin, connect_timeout=2):
            pass
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at {server.render_as_string()}: {exc}")
    name = f"spamops_faults_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        with TcpProxy((server.host or "127.0.0.1", server.port or 5432)) as proxy:
            direct = server.set(database=name)
            via = direct.set(host="127.0.0.1", port=proxy.port)
            yield Outage(
                via.render_as_string(hide_password=False),
                direct.render_as_string(hide_password=False),
                "postgres",
                _proxy=proxy,
            )
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            conn.execute(drop.format(sql.Identifier(name)))


def _committed_covers_acknowledged(stack: Stack, url: str) -> tuple[bool, str]:
    """Acknowledged entries first, committed rows after: rows only grow, so if the
    consumers never ack before commit, acked(t1) <= rows(t1) <= rows(t2)."""
    acked_p = stack.acknowledged("projector", (StreamName.PREDICTIONS,))
    acked_f = stack.acknowledged("projector", (StreamName.FEEDBACK,))
    acked_a = stack.acknowledged("audit", tuple(StreamName))
    engine = engine_for_url(url)
    try:
        found = {t: rows(engine, t) for t in ("predictions", "feedback", "audit_log")}
    finally:
        engine.dispose()
    ok = (
        acked_p <= found["predictions"]
        and acked_f <= found["feedback"]
        and acked_a <= found["audit_log"]
    )
    return ok, f"acked {acked_p}/{acked_f}/{acked_a}, committed {found}"


def test_store_outage_loses_nothing_and_never_acks_before_commit(
    redis_aof: EmbeddedRedis,
    make_stack: StackFactory,
    fault_models: Models,
    outage: Outage,
) -> None:
    stack = make_stack(
        redis_aof.url,
        SPAMOPS_DATABASE_URL=outage.url,
        SPAMOPS_STORE__BUSY_TIMEOUT_MS="200",
        SPAMOPS_STORE__CONNECT_TIMEOUT_S="1",
        SPAMOPS_BUS__MAX_DELIVERIES="100",  # three seconds of outage is ~3 redeliveries
    )
    stack.consume("projector", "audit", member="store-1")
    sample = corpus_sample(Path(fault_models.env["SPAMOPS_MODEL__DATASET_PATH"]), 500)
    made = predictions(sample)
    labels = feedback_for(made, [label for _, label in sample], share=0.5)
    pacer = Pacer(stack, [*made, *labels], rate_per_s=150).start()
    wait_until(lambda: pacer.sent >= 100, 10, "traffic before the outage")
    outage.begin()
    began = time.monotonic()
    samples, during = 0, []
    while time.monotonic() - began < OUTAGE_S:
        ok, seen = _committed_covers_acknowledged(stack, outage.direct_url)
        assert ok, f"acknowledged before committed: {seen}"
        samples += 1
        during.append(stack.pending(StreamName.PREDICTIONS, "projector"))
        time.sleep(0.02)
    outage.end()
    pacer.join()
    for group, streams in (("projector", PROJECTED), ("audit", tuple(StreamName))):
        wait_until(
            functools.partial(stack.caught_up, group, streams),
            60,
            f"{group} after the outage\n{stack.logs()}",
        )
    log = stack.procs[0].tail(10**6)
    assert "StoreUnavailableError" in log, "the store was never found unavailable"
    assert max(during) > 0, "nothing was waiting for the store during the outage"
    engine = engine_for_url(outage.direct_url)
    try:
        assert rows(engine, "predictions") == len(made)
        assert rows(engine, "feedback") == len(labels)
        audit = audit_view(engine)
    finally:
        engine.dispose()
    assert set(audit.ids) == stream_ids(stack) and not audit.duplicated and audit.verified
    assert not stack.dead_letters()
    print(
        f"\n{outage.kind}: {samples} samples during the outage, pending up to {max(during)};"
        f" {len(made)} predictions, {len(labels)} labels projected"
    )
