"""The result file in the source's format, plus the run id and the version it answers."""

from __future__ import annotations

from typing import Any

from cloud_bridge.store_channel.ledger import Run, Step


def summary(steps: list[Step]) -> tuple[str, str]:
    """(general_status, general_error) of a run whose commands all finished."""
    failed = [step for step in steps if step.status != "ok"]
    if not failed:
        return "ok", ""
    first = failed[0]
    return (
        "error",
        f"{len(failed)} of {len(steps)} commands failed; "
        f"the first, {first.command[:80]!r}: {first.result[:200]}",
    )


def result_document(run: Run, steps: list[Step], finished_at: float) -> dict[str, Any]:
    """`last_monitoring_status.json`."""
    return {
        "general_status": run.general_status,
        "general_error": run.general_error,
        "commands": [
            {"command": step.command, "result": step.result, "status": step.status}
            for step in steps
        ],
        "execution_id": run.id,
        "file_key": run.key,
        "file_version": run.version,
        "received_at": run.received,
        "finished_at": finished_at,
    }
