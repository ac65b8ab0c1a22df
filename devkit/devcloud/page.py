"""The dev cloud's control page: inline HTML and JavaScript, no framework, no build step.

Rows carry `data-entity-id`; a light's switch is `button.toggle`, a shade has
`button.open`, `button.close` and `input.position` (a range slider). The page refreshes
from `/api/events` (Server-Sent Events) without a reload. Interactions, schedules and
the phone-size layout are in page_rules.py.
"""

from .page_rules import RULES_PAGE

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>InspeXtor dev cloud</title>
<style>
 body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
 h2 { margin: 1.2rem 0 .4rem; font-size: 1.05rem; }
 table { border-collapse: collapse; min-width: 40rem; }
 td { padding: .3rem .6rem; border-bottom: 1px solid #ddd; }
 .state { font-weight: 600; }
 .result { color: #666; font-size: .85rem; }
 #status { color: #666; font-size: .85rem; }
</style>
</head>
<body>
<h1>InspeXtor dev cloud</h1>
<label>Home <select id="home"></select></label>
<span id="status" data-connected="false">connecting…</span>
<div id="areas"></div>
<section id="store" hidden>
<h2>Store channel</h2>
<textarea id="store-commands" rows="3" cols="70">get_status()</textarea><br>
<button id="store-send" type="button">Put command file</button>
<span id="store-sent" class="result"></span>
<table id="store-results"></table>
</section>
<script>
"use strict";
const homeSelect = document.getElementById("home");
const areasDiv = document.getElementById("areas");
const statusSpan = document.getElementById("status");
const lastResult = {};
let refreshTimer = null;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

async function api(path, options) {
  const response = await fetch(path, options);
  return response.json();
}

async function loadHomes() {
  const homes = await api("/api/homes");
  homeSelect.replaceChildren(
    ...homes.map(h => el("option", {value: h.contract_id}, h.contract_id)));
  await refresh();
}

function describe(entity) {
  if (entity.state === null) return "unknown";
  const a = entity.attributes || {};
  if (entity.domain === "light" && entity.state === "on" && a.brightness != null)
    return "on (" + a.brightness + ")";
  if (entity.domain === "cover" && a.current_position != null)
    return entity.state + " (" + a.current_position + "%)";
  const unit = a.unit_of_measurement ? " " + a.unit_of_measurement : "";
  return entity.state + unit;
}

async function send(entityId, service, data) {
  const body = {service: service, entity_id: entityId, data: data || {}, origin: "cloud_ui"};
  const command = await api("/api/homes/" + encodeURIComponent(homeSelect.value) + "/commands",
    {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  lastResult[command.id] = entityId;
  setResult(entityId, "sent");
}

function setResult(entityId, text) {
  const row = document.querySelector('[data-entity-id="' + CSS.escape(entityId) + '"]');
  if (row) row.querySelector(".result").textContent = text;
}

function controls(entity) {
  const id = entity.entity_id;
  const cell = el("td", {class: "controls"});
  if (entity.domain === "light") {
    const button = el("button", {class: "toggle", type: "button"},
      entity.state === "on" ? "Turn off" : "Turn on");
    button.onclick = () => send(id, entity.state === "on" ? "light.turn_off" : "light.turn_on");
    cell.append(button);
  } else if (entity.domain === "cover") {
    const open = el("button", {class: "open", type: "button"}, "Open");
    open.onclick = () => send(id, "cover.open_cover");
    const close = el("button", {class: "close", type: "button"}, "Close");
    close.onclick = () => send(id, "cover.close_cover");
    const slider = el("input", {class: "position", type: "range", min: "0", max: "100"});
    slider.value = (entity.attributes || {}).current_position ?? 0;
    slider.onchange = () => send(id, "cover.set_cover_position", {position: Number(slider.value)});
    cell.append(open, close, slider);
  }
  return cell;
}

async function refresh() {
  if (!homeSelect.value) return;
  const home = await api("/api/homes/" + encodeURIComponent(homeSelect.value) + "/entities");
  const byArea = new Map();
  for (const entity of home.entities) {
    const area = entity.area || "No area";
    if (!byArea.has(area)) byArea.set(area, []);
    byArea.get(area).push(entity);
  }
  const previous = {};
  document.querySelectorAll("[data-entity-id]").forEach(row => {
    previous[row.dataset.entityId] = row.querySelector(".result").textContent;
  });
  const sections = [];
  for (const [area, list] of byArea) {
    const table = el("table", {});
    for (const entity of list) {
      const attrs = {"data-entity-id": entity.entity_id, "data-state": String(entity.state)};
      table.append(el("tr", attrs,
        el("td", {class: "name"}, entity.name),
        el("td", {class: "state"}, describe(entity)),
        controls(entity),
        el("td", {class: "result"}, previous[entity.entity_id] || "")));
    }
    sections.push(el("section", {"data-area": area}, el("h2", {}, area), table));
  }
  areasDiv.replaceChildren(...sections);
}

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 50);
}

const source = new EventSource("/api/events");
function connected(live) {
  statusSpan.textContent = live ? "live" : "reconnecting…";
  statusSpan.dataset.connected = String(live);
}
source.onopen = () => connected(true);
source.onerror = () => connected(false);
source.onmessage = (message) => {
  const event = JSON.parse(message.data);
  if (event.type === "command") lastResult[event.command.id] = event.command.target.entity_id;
  if (event.type === "result") {
    const entityId = lastResult[event.result.id];
    const reason = event.result.reason ? ": " + event.result.reason : "";
    if (entityId) setResult(entityId, event.result.status + reason);
  }
  if (event.type === "activation") loadHomes();
  else if (event.type !== "command") scheduleRefresh();
};
const storeSection = document.getElementById("store");
const storeResults = document.getElementById("store-results");
function storePath() {
  return "/api/homes/" + encodeURIComponent(homeSelect.value) + "/store";
}
document.getElementById("store-send").onclick = async () => {
  const commands = document.getElementById("store-commands").value
    .split("\\n").map(line => line.trim()).filter(Boolean);
  const sent = await api(storePath() + "/commands", {method: "POST",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify({commands: commands})});
  document.getElementById("store-sent").textContent = "put " + (sent.version || "").slice(0, 12);
};
async function refreshStore() {
  if (!homeSelect.value) return;
  const response = await fetch(storePath() + "/results");
  if (response.status === 503) { storeSection.hidden = true; return; }
  storeSection.hidden = false;
  if (response.status !== 200) return;
  const result = await response.json();
  const rows = [el("tr", {"data-general-status": result.general_status},
    el("td", {class: "state"}, result.general_status),
    el("td", {}, result.general_error || ""),
    el("td", {class: "result"}, (result.file_version || "").slice(0, 12)))];
  for (const command of result.commands)
    rows.push(el("tr", {"data-command-status": command.status},
      el("td", {class: "name"}, command.command),
      el("td", {class: "state"}, command.status),
      el("td", {class: "result"}, command.result.slice(0, 200))));
  storeResults.replaceChildren(...rows);
}
setInterval(refreshStore, 2000);
homeSelect.onchange = () => { refresh(); refreshStore(); };
loadHomes().then(refreshStore);
</script>
</body>
</html>
"""

PAGE = PAGE.replace("</body>", RULES_PAGE + "</body>")
