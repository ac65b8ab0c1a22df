"""Interactions in Home Assistant: the analysis of automations, shown as repair issues.

The pure analysis (interactions/) runs in the executor on the raw configs of the
`automation` entities and the registries' facts; only their collection runs on the
event loop. It reruns after HA has started (never delaying the start), on
`automation_reloaded` (the automation editor saves through a reload) and on entity,
device and area registry changes, debounced. Each finding is one repair issue, deleted
once the analysis no longer finds it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.components.automation import DATA_COMPONENT, EVENT_AUTOMATION_RELOADED
from homeassistant.const import EVENT_HOMEASSISTANT_STOP, STATE_ON
from homeassistant.core import CALLBACK_TYPE, Event, HassJob, HomeAssistant, callback
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.start import async_at_started
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN, LOGGER
from .interactions import Analyser, Facts, Finding
from .thrash import DATA_THRASH, ThrashGuard

DATA_MONITOR: HassKey[InteractionMonitor] = HassKey(f"{DOMAIN}_interactions")
DEBOUNCE = 1.0  # seconds: a burst of registry changes is analysed once
_REGISTRY_EVENTS = (
    er.EVENT_ENTITY_REGISTRY_UPDATED,
    dr.EVENT_DEVICE_REGISTRY_UPDATED,
    ar.EVENT_AREA_REGISTRY_UPDATED,
)


def collect_facts(hass: HomeAssistant) -> Facts:
    """What the registries say: areas, devices, scenes, registry ids, InspeXtor's entities."""
    entities, devices = er.async_get(hass), dr.async_get(hass)
    areas: dict[str, set[str]] = {}
    by_device: dict[str, set[str]] = {}
    for entry in entities.entities.values():
        device = devices.async_get(entry.device_id) if entry.device_id else None
        if area := entry.area_id or (device.area_id if device else None):
            areas.setdefault(area, set()).add(entry.entity_id)
        if entry.device_id:
            by_device.setdefault(entry.device_id, set()).add(entry.entity_id)
    scenes = {
        state.entity_id: dict.fromkeys(state.attributes.get("entity_id") or (), "scene")
        for state in hass.states.async_all("scene")
    }
    return Facts(
        area_entities={key: frozenset(value) for key, value in areas.items()},
        device_entities={key: frozenset(value) for key, value in by_device.items()},
        scene_entities=scenes,
        inspextor=frozenset(
            entry.entity_id for entry in entities.entities.values() if entry.platform == DOMAIN
        ),
        registry_ids={entry.id: entry.entity_id for entry in entities.entities.values()},
    )


def collect_automations(hass: HomeAssistant) -> dict[str, Mapping[str, Any]]:
    """Raw config of every enabled automation (blueprints substituted by HA)."""
    component = hass.data.get(DATA_COMPONENT)
    out: dict[str, Mapping[str, Any]] = {}
    for entity in component.entities if component else ():
        config = getattr(entity, "raw_config", None)
        state = hass.states.get(entity.entity_id)
        if config and state is not None and state.state == STATE_ON:
            out[entity.entity_id] = config
    return out


class InteractionMonitor:
    """Keeps the analysis and the repair issues up to date."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self.analyser = Analyser()
        self.configs: dict[str, Mapping[str, Any]] = {}
        self.findings: list[Finding] = []
        self.runs = 0
        self._issued: set[str] = set()
        self._lock = asyncio.Lock()
        self._pending: CALLBACK_TYPE | None = None
        self._started = False

    @callback
    def async_start(self) -> Callable[[], None]:
        """Analyse once HA has started, then on every reload and registry change."""
        stops = [self.hass.bus.async_listen(EVENT_AUTOMATION_RELOADED, self._changed)]
        stops += [self.hass.bus.async_listen(str(kind), self._changed) for kind in _REGISTRY_EVENTS]
        stops.append(async_at_started(self.hass, self._at_started))

        @callback
        def _stop() -> None:
            for stop in stops:
                stop()
            if self._pending is not None:
                self._pending()

        return _stop

    async def _at_started(self, _hass: HomeAssistant) -> None:
        self._started = True
        self._schedule()

    @callback
    def _changed(self, _event: Event) -> None:
        if self._started:
            self._schedule()

    @callback
    def _schedule(self) -> None:
        if self._pending is not None:
            self._pending()
        self._pending = async_call_later(
            self.hass, DEBOUNCE, HassJob(self._run_later, cancel_on_shutdown=True)
        )

    @callback
    def _run_later(self, _now: Any) -> None:
        self._pending = None
        self.hass.async_create_background_task(self.async_refresh(), f"{DOMAIN} interactions")

    async def async_refresh(self) -> list[Finding]:
        """Analyse what changed since the last run and bring the repair issues in line."""
        async with self._lock:
            configs, facts = collect_automations(self.hass), collect_facts(self.hass)
            self.findings = await self.hass.async_add_executor_job(self._apply, configs, facts)
            self.runs += 1
            self._sync_issues()
            return self.findings

    def _apply(self, configs: dict[str, Mapping[str, Any]], facts: Facts) -> list[Finding]:
        """In the executor: rebuild when the facts changed, else redo changed automations."""
        if facts != self.analyser.facts or not self.runs:
            found = self.analyser.rebuild(configs, facts)
        else:
            changed = [key for key in configs if self.configs.get(key) != configs[key]]
            removed = [key for key in self.configs if key not in configs]
            found = self.analyser.sorted_findings()
            for key in removed:
                found = self.analyser.update(key, None)
            for key in changed:
                found = self.analyser.update(key, configs[key])
        self.configs = configs
        return found

    @callback
    def _sync_issues(self) -> None:
        current = {finding.key: finding for finding in self.findings}
        for issue_id in self._issued - current.keys():
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
        for issue_id, finding in current.items():
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=(
                    ir.IssueSeverity.ERROR
                    if finding.severity == "certain"
                    else ir.IssueSeverity.WARNING
                ),
                translation_key=f"interaction_{finding.kind}",
                translation_placeholders=self.placeholders(finding),
            )
        self._issued = set(current)

    def link(self, key: str) -> str:
        """An automation as a markdown link to its editor (its alias, else its entity id)."""
        state = self.hass.states.get(key)
        name = state.name if state else key
        config_id = state.attributes.get("id") if state else None
        return f"[{name}](/config/automation/edit/{config_id})" if config_id else name

    def placeholders(self, finding: Finding) -> dict[str, str]:
        """The repair text's placeholders: automations by alias with links, entity, evidence."""
        state = self.hass.states.get(finding.entity)
        entity = f"{state.name} ({finding.entity})" if state else finding.entity
        links = [self.link(key) for key in finding.automations]
        evidence = finding.evidence
        first = self.hass.states.get(finding.automations[0])
        return {
            "first_name": first.name if first else finding.automations[0],
            "first": links[0],
            "second": links[-1],
            "automations": ", ".join(links),
            "entity": entity,
            "severity": finding.severity,
            "trigger": str(evidence.get("trigger", "")),
            "other_trigger": str(evidence.get("other_trigger", "")),
            "action": str(evidence.get("action", "")),
            "other_action": str(evidence.get("other_action", "")),
            "condition": str(evidence.get("condition", "")),
            "path": " → ".join(str(step) for step in evidence.get("path", ())),
        }

    def as_dicts(self) -> list[dict[str, Any]]:
        """The findings with the automations' aliases (service response, diagnostics)."""
        return [
            {**finding.as_dict(), "aliases": [self.link(key) for key in finding.automations]}
            for finding in self.findings
        ]


@callback
def async_setup_interactions(hass: HomeAssistant) -> None:
    """Start the analysis monitor and the thrash guard (once per HA)."""
    monitor = hass.data[DATA_MONITOR] = InteractionMonitor(hass)
    guard = hass.data[DATA_THRASH] = ThrashGuard(hass)
    stops = (monitor.async_start(), guard.async_start())

    @callback
    def _stop(_event: Event) -> None:
        for stop in stops:
            stop()

    hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, _stop)
    LOGGER.debug("Interactions monitor and thrash guard started")
