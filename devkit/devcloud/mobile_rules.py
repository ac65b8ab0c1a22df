"""The mobile CLI's `rule` (interactions) and `schedule` sub-commands.

    mobile rule add hall --when binary_sensor.hall_motion=on --do light.turn_on:light.kitchen_light
    mobile schedule add wake --at 07:00 --days mon,fri --do cover.open_cover:cover.bedroom_shade
    mobile rule list | rule delete ID | schedule enable ID | schedule disable ID

`add` creates, `edit` updates (the whole rule, same flags); `--force` saves despite a
conflict. The home validates the rule; a refusal prints its reason.
"""

from __future__ import annotations

import argparse
from typing import Any

type JSONDict = dict[str, Any]

KINDS = {"rule": "interaction", "schedule": "schedule"}


def _action(text: str) -> JSONDict:
    service, _, entity = text.partition(":")
    if not entity:
        raise argparse.ArgumentTypeError("--do takes SERVICE:ENTITY, e.g. light.turn_on:light.x")
    return {"service": service, "entity_id": entity}


def _when(text: str) -> JSONDict:
    for mark, key in ((">", "above"), ("<", "below"), ("=", "to")):
        entity, sep, value = text.partition(mark)
        if sep:
            if key == "to":
                return {"type": "state", "entity_id": entity, "to": value}
            return {"type": "threshold", "entity_id": entity, key: float(value)}
    raise argparse.ArgumentTypeError("--when takes ENTITY=STATE, ENTITY>NUMBER or ENTITY<NUMBER")


def add_rule_parsers(actions: Any) -> None:
    """`rule` and `schedule` under the mobile parser's sub-commands."""
    for name, kind in KINDS.items():
        parser = actions.add_parser(name, help=f"{kind}s: list, add, edit, delete, enable, disable")
        ops = parser.add_subparsers(dest="rule_op", required=True)
        ops.add_parser("list", help=f"the home's cloud {kind}s")
        for op in ("add", "edit"):
            one = ops.add_parser(op, help=f"{'create' if op == 'add' else 'update'} a {kind}")
            one.add_argument("rule_id")
            one.add_argument("--name")
            if kind == "schedule":
                one.add_argument("--at", required=True, help="HH:MM or HH:MM:SS")
                one.add_argument("--days", help="mon,tue,... (default: every day)")
            else:
                one.add_argument("--when", required=True, type=_when)
            one.add_argument("--do", required=True, action="append", type=_action)
            one.add_argument("--force", action="store_true", help="save despite a conflict")
        for op in ("delete", "enable", "disable"):
            ops.add_parser(op, help=f"{op} a {kind}").add_argument("rule_id")


def rule_body(args: argparse.Namespace) -> JSONDict:
    """The body of POST /api/homes/<cid>/rules for the parsed arguments."""
    op = {"add": "create", "edit": "update"}.get(args.rule_op, args.rule_op)
    if op in {"list", "delete", "enable", "disable"}:
        return {"op": op, "rule_id": getattr(args, "rule_id", None), "origin": "mobile"}
    kind = KINDS[args.action]
    if kind == "schedule":
        trigger: JSONDict = {"type": "time", "at": args.at}
        if args.days:
            trigger["weekdays"] = args.days.split(",")
    else:
        trigger = args.when
    rule = {
        "rule_id": args.rule_id,
        "kind": kind,
        "name": args.name or args.rule_id.replace("_", " ").capitalize(),
        "trigger": trigger,
        "actions": args.do,
    }
    return {"op": op, "rule": rule, "force": args.force, "origin": "mobile"}


def describe_rule(entry: JSONDict) -> str:
    """One cloud rule as a line: id, enabled, name, when, what."""
    rule = entry.get("rule") or {}
    trigger = rule.get("trigger") or {}
    when = trigger.get("at") or trigger.get("event") or trigger.get("entity_id") or "?"
    what = ", ".join(
        f"{a['service']} {a['entity_id']}" for a in rule.get("actions", []) if "service" in a
    )
    flag = "on " if entry.get("enabled") else "off"
    extra = "" if entry.get("editable", True) else " (changed in HA: read-only)"
    if entry.get("read_only"):
        extra = " (the home's own: read-only)"
    name = entry.get("rule_id") or entry.get("entity_id")
    return f"{name!s:<20} {flag} {entry.get('alias')!s:<32} {when} -> {what}{extra}"


def format_rules(rules: list[JSONDict], kind: str) -> str:
    """The rules of one kind, one line each."""
    lines = [describe_rule(r) for r in rules if (r.get("rule") or {}).get("kind", kind) == kind]
    return "\n".join(lines) if lines else f"(no cloud {kind}s)"
