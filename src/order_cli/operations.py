"""Operations after an incident: recover abandoned work, audit the books."""

from __future__ import annotations

import click

from order_cli.options import json_option
from order_cli.output import Printer
from order_cli.state import runs, state

__all__ = ["audit", "recover"]


@click.command()
@json_option
@runs
def recover(as_json: bool) -> None:
    """Finish or undo work a crashed process left behind (every command does
    this first; this runs it on its own and says what it found)."""
    cli_state = state()
    runtime = cli_state.runtime()  # a pass has run; run one more to report it
    settings = cli_state.settings()
    report = runtime.service.recover(
        stale_after=settings.stale_after, keep_positions=settings.keeps_positions
    )
    cli_state.process_stored()
    out = Printer(as_json)
    document = {
        "examined": report.examined,
        "executed": list(report.executed),
        "failed": list(report.failed),
        "resting": list(report.resting),
        "retrying": list(report.retrying),
        "positions_applied": list(report.positions_applied),
        "positions_unapplied": list(report.positions_unapplied),
        "recovered_at_start": cli_state.recovered_at_start,
    }
    if as_json:
        out.json(document)
        return
    at_start = cli_state.recovered_at_start
    out.line(
        f"Recovery: {report.examined} abandoned order(s) found now"
        + (f", {at_start} already handled when the command started" if at_start else "")
    )
    for key in ("executed", "failed", "resting", "retrying", "positions_applied"):
        ids = document[key]
        if ids:
            assert isinstance(ids, list)
            out.line(f"  {key.replace('_', ' ')}: {', '.join(str(order) for order in ids)}")


@click.command()
@json_option
@runs
def audit(as_json: bool) -> None:
    """Reconcile every account's cash and positions with the executed orders,
    and what is held with the live orders; exit 1 if anything disagrees."""
    runtime = state().runtime()
    books = runtime.ledger.books()
    found = runtime.service.audit(books)
    out = Printer(as_json)
    if as_json:
        out.json(
            {
                "accounts": len(books),
                "discrepancies": [discrepancy._asdict() for discrepancy in found],
            }
        )
    elif not found:
        out.line(f"The books balance: {len(books)} account(s), no discrepancy.")
    else:
        out.rows(
            f"Discrepancies ({len(found)})",
            ["user_id", "kind", "symbol", "expected", "actual", "orders", "what"],
            (
                [
                    d.user_id,
                    d.kind,
                    d.symbol or "-",
                    d.expected,
                    d.actual,
                    ", ".join(str(order) for order in d.order_ids) or "-",
                    d.message,
                ]
                for d in found
            ),
        )
    if found:
        click.get_current_context().exit(1)
