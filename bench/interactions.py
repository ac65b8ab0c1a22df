"""Benchmark 7: the interactions analysis on 2,000 generated automations (issue 13).

Ours: `Analyser.rebuild` (indexes by entity), `Analyser.update` after one automation
changes, and the longest event-loop stall while the analysis runs in the executor (as the
integration runs it). Baseline, same run: the naive all-pairs check (every pair of
automations compared on every entity both act on). Spook's published figures for 2,000
automations (33 s of event loop per inspection round before its fix, 0.75 s after) are
quoted, not measured.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from itertools import combinations
import random
import statistics
import time
from typing import Any

from bench.report import Row, Section
from custom_components.inspextor.interactions import Analyser, Facts, normalise
from custom_components.inspextor.interactions.findings import conflict

SPOOK_BEFORE_S = 33.0
SPOOK_AFTER_S = 0.75


@dataclass(slots=True)
class Sizes:
    """How many automations and how many single changes to time."""

    automations: int = 2000
    changes: int = 50


def _motion(rng: random.Random, i: int, lights: list[str]) -> dict[str, Any]:
    pir = f"binary_sensor.motion_{rng.randrange(200)}"
    light = rng.choice(lights)
    return {
        "id": f"a{i}",
        "alias": f"Motion light {i}",
        "triggers": [
            {"trigger": "state", "entity_id": pir, "to": "on", "id": "on"},
            {"trigger": "state", "entity_id": pir, "to": "off", "for": "00:05:00", "id": "off"},
        ],
        "actions": [
            {
                "choose": [
                    {
                        "conditions": [{"condition": "trigger", "id": "on"}],
                        "sequence": [{"action": "light.turn_on", "target": {"entity_id": light}}],
                    },
                    {
                        "conditions": [{"condition": "trigger", "id": "off"}],
                        "sequence": [{"action": "light.turn_off", "target": {"entity_id": light}}],
                    },
                ]
            }
        ],
    }


def _timed(rng: random.Random, i: int, lights: list[str]) -> dict[str, Any]:
    at = f"{rng.randrange(24):02d}:{rng.choice((0, 15, 30, 45)):02d}:00"
    return {
        "id": f"a{i}",
        "alias": f"Timed {i}",
        "trigger": [{"platform": "time", "at": at}],
        "condition": [{"condition": "time", "weekday": rng.sample(["mon", "tue", "sat"], 2)}],
        "action": [{"service": rng.choice(("light.turn_on", "light.turn_off")), "entity_id": rng.choice(lights)}],
    }


def _sun(rng: random.Random, i: int, _lights: list[str]) -> dict[str, Any]:
    cover = f"cover.shade_{rng.randrange(50)}"
    return {
        "id": f"a{i}",
        "alias": f"Sun {i}",
        "triggers": [{"trigger": "sun", "event": rng.choice(("sunset", "sunrise"))}],
        "conditions": [{"condition": "state", "entity_id": "input_boolean.vacation", "state": rng.choice(("on", "off"))}],
        "actions": [{"action": rng.choice(("cover.open_cover", "cover.close_cover")), "target": {"entity_id": cover}}, {"scene": f"scene.s{rng.randrange(20)}"}],
    }


def _lux(rng: random.Random, i: int, lights: list[str]) -> dict[str, Any]:
    return {
        "id": f"a{i}",
        "alias": f"Lux {i}",
        "triggers": [{"trigger": "numeric_state", "entity_id": f"sensor.lux_{rng.randrange(40)}", "below": rng.randrange(20, 200)}],
        "conditions": [{"condition": "sun", "after": "sunset"}],
        "actions": [{"action": "light.turn_on", "target": {"area_id": f"area_{rng.randrange(30)}"}, "data": {"brightness_pct": rng.randrange(10, 100)}}],
    }


def _template(rng: random.Random, i: int, lights: list[str]) -> dict[str, Any]:
    return {
        "id": f"a{i}",
        "alias": f"Template {i}",
        "triggers": [{"trigger": "template", "value_template": f"{{{{ states('sensor.x{i}') | int > 3 }}}}"}],
        "actions": [{"action": "notify.notify", "data": {"message": "hi"}}, {"delay": 5}, {"action": "light.turn_off", "entity_id": rng.choice(lights)}],
    }


def _follow(rng: random.Random, i: int, lights: list[str]) -> dict[str, Any]:
    return {
        "id": f"a{i}",
        "alias": f"Follow {i}",
        "triggers": [{"trigger": "state", "entity_id": rng.choice(lights), "to": "on"}],
        "actions": [{"if": [{"condition": "state", "entity_id": "input_boolean.guest", "state": "off"}], "then": [{"action": "switch.turn_on", "entity_id": f"switch.plug_{rng.randrange(100)}"}]}],
    }


_KINDS = ((_motion, 35), (_timed, 15), (_sun, 10), (_lux, 10), (_template, 15), (_follow, 15))


def generate(count: int, seed: int = 13) -> tuple[dict[str, dict[str, Any]], Facts]:
    """`count` automations of a realistic mix, and the registry facts of their home."""
    rng = random.Random(seed)
    lights = [f"light.l{n}" for n in range(300)]
    makers = [maker for maker, weight in _KINDS for _ in range(weight)]
    configs = {f"automation.a{i}": rng.choice(makers)(rng, i, lights) for i in range(count)}
    areas = {f"area_{n}": frozenset(lights[n * 10 : n * 10 + 10]) for n in range(30)}
    scenes = {f"scene.s{n}": {lights[n]: "on", f"cover.shade_{n}": "closed"} for n in range(20)}
    ours = frozenset(lights) | frozenset(f"cover.shade_{n}" for n in range(50))
    return configs, Facts(area_entities=areas, scene_entities=scenes, inspextor=ours)


def naive(configs: dict[str, dict[str, Any]], facts: Facts) -> int:
    """The all-pairs baseline: every pair, every entity both act on."""
    autos = [normalise(key, conf, facts) for key, conf in configs.items()]
    found = 0
    for first, second in combinations(autos, 2):
        shared = {e.entity for e in first.effects} & {e.entity for e in second.effects}
        for entity in shared & facts.inspextor:
            found += conflict(first, second, entity) is not None
    return found


async def _stall_during(job: Any) -> float:
    """Longest gap (s) between event-loop ticks while `job` runs in the executor."""
    loop = asyncio.get_running_loop()
    future = loop.run_in_executor(None, job)
    worst, last = 0.0, time.perf_counter()
    while not future.done():
        await asyncio.sleep(0)
        now = time.perf_counter()
        worst, last = max(worst, now - last), now
    await future
    return worst


async def run(sizes: Sizes) -> Section:
    """The rows of benchmark 7."""
    configs, facts = generate(sizes.automations)
    analyser = Analyser(facts)
    started = time.perf_counter()
    findings = analyser.rebuild(configs)
    full = time.perf_counter() - started
    rng = random.Random(7)
    keys = list(configs)
    changes = []
    for _ in range(sizes.changes):
        key = rng.choice(keys)
        changed = {**configs[key], "alias": "changed"}
        started = time.perf_counter()
        analyser.update(key, changed)
        changes.append(time.perf_counter() - started)
    stall = await _stall_during(lambda: Analyser(facts).rebuild(configs))
    started = time.perf_counter()
    naive_found = naive(configs, facts)
    baseline = time.perf_counter() - started
    n = sizes.automations
    one_change = max(changes)
    return Section(
        "7. Interactions analysis",
        rows=[
            Row("7a", f"analyse {n:,} automations (one core)", full * 1000, baseline * 1000, "ms", "≤ 200 ms", full <= 0.2, 0),
            Row("7b", "re-analysis after one automation changes (worst of " f"{sizes.changes})", one_change * 1000, float("nan"), "ms", "≤ 20 ms", one_change <= 0.02, 2, ratio_text=f"n/a (median {statistics.median(changes) * 1000:.2f} ms)"),
            Row("7c", "longest event-loop stall during the analysis (executor)", stall * 1000, float("nan"), "ms", "≤ 50 ms", stall <= 0.05, 1, ratio_text="n/a"),
            Row("7d", "Spook's inspection round, 2,000 automations (published, before / after its fix)", SPOOK_AFTER_S * 1000, SPOOK_BEFORE_S * 1000, "ms", "(quoted)", None, 0),
        ],
        method=[
            f"{n:,} generated automations: motion lights (choose by trigger id), timed ones with weekdays, sun with scenes, lux thresholds on areas, template triggers, state-follow chains; {len(findings)} findings ({naive_found} conflicts by the baseline).",
            "7a: `Analyser.rebuild` (normalise, index by entity, conflicts per entity, shadowed, loop search per automation); baseline: normalise, then compare every pair of automations on every InspeXtor entity both act on (conflicts only).",
            f"7b: `Analyser.update` with one changed config, {sizes.changes} times.",
            "7c: the rebuild in the default executor, as the integration runs it; a coroutine measures the longest gap between its ticks.",
            "7d: Spook v5.6.0's release notes (33 s of event loop before, 0.75 s after); not measured here.",
        ],
    )
