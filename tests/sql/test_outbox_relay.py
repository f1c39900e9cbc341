"""The relay over the SQL outbox: at-least-once across a real crash, and never
the same row twice to healthy relays."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from order_adapters.sql import SqlDatabase
from order_core import OutboxMessage, relay_outbox
from tests.conftest import World


class Recorder:
    def __init__(self) -> None:
        self.published: list[OutboxMessage] = []

    def publish(self, messages: list[OutboxMessage]) -> None:
        self.published.extend(messages)


def _crashing_relay(url: str, sent_log: Path) -> None:
    """Claim, "publish" (log the ids), then die by SIGKILL before marking."""
    script = textwrap.dedent(
        f"""
        import json, os, signal
        from order_adapters.sql import SqlDatabase
        database = SqlDatabase.from_url({url!r})
        with database.outbox.claim(100) as batch:
            with open({str(sent_log)!r}, "w") as log:
                json.dump([str(m.message_id) for m in batch.messages], log)
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    child = subprocess.run([sys.executable, "-c", script], env=os.environ.copy(), check=False)
    assert child.returncode == -signal.SIGKILL


def test_a_relay_killed_after_publishing_is_followed_by_a_resend_with_the_same_ids(
    sql_world: World, sql_database: SqlDatabase, tmp_path: Path
) -> None:
    sql_world.submit(quantity="1")
    sql_world.submit(quantity="2")
    url = sql_database.engine.url.render_as_string(hide_password=False)
    sent_log = tmp_path / "sent.json"
    _crashing_relay(url, sent_log)
    sent_before_crash = json.loads(sent_log.read_text())
    assert len(sent_before_crash) == 2
    recorder = Recorder()
    # PostgreSQL ends the killed relay's transaction (and frees the rows it
    # claimed) once it notices the connection is gone: moments, under load.
    for _ in range(100):
        relayed = relay_outbox(sql_database.outbox, recorder)
        if relayed:
            break
        time.sleep(0.05)
    assert relayed == 2
    assert [str(m.message_id) for m in recorder.published] == sent_before_crash
    assert relay_outbox(sql_database.outbox, recorder) == 0
    assert sql_database.outbox.pending_count() == 0
