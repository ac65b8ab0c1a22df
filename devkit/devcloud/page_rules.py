"""The control page's interactions and schedules, and its layout at a phone's size.

Added to the page (page.py) before `</body>`: a list of the home's cloud rules as the
home last synced them (`tr[data-rule-id]`, with `button.edit`, `button.switch`,
`button.delete` and the last refusal in `.refusal`; the user's own automations, when the
bridge exposes them, without buttons), and a form (`form#rule-form`) that
creates or updates a schedule (a time, weekdays) or an interaction (an entity's state)
with one action. `#rule-result` shows the last rule command's result with its reason.
The style below makes the whole page fit 390 px wide without sideways scrolling, with
every control at least 44 px high (the usual minimum tap target).
"""

RULES_PAGE = """
<style>
 *, *::before, *::after { box-sizing: border-box; }
 body { max-width: 60rem; overflow-wrap: anywhere; }
 table { min-width: 0; width: 100%; }
 button, select, input, textarea { min-height: 44px; font-size: 1rem; max-width: 100%; }
 input[type=checkbox] { min-width: 44px; }
 #rules form label { display: block; margin: .4rem 0; }
 #rules form input:not([type=checkbox]), #rules form select { width: 100%; }
 .refusal { color: #a00; font-size: .85rem; }
 @media (max-width: 640px) {
  body { margin: .75rem; }
  table, tbody, tr, td { display: block; width: 100%; }
  tr { padding: .5rem 0; border-bottom: 1px solid #ddd; }
  td { border: none; padding: .15rem 0; }
  td.controls { display: flex; flex-wrap: wrap; gap: .5rem; }
  td.controls input[type=range] { flex: 1 1 100%; }
  textarea { width: 100%; }
 }
</style>
<section id="rules">
<h2>Interactions and schedules</h2>
<table id="rule-list"></table>
<p id="rule-result" class="result" data-status=""></p>
<form id="rule-form">
 <label>Kind <select name="kind">
  <option value="schedule">Schedule (at a time)</option>
  <option value="interaction">Interaction (when something happens)</option></select></label>
 <label>Id <input name="rule_id" required pattern="[a-z0-9][a-z0-9_]*"
   placeholder="morning_shade"></label>
 <label>Name <input name="name" required placeholder="Open the bedroom shade"></label>
 <div data-for="schedule">
  <label>At <input name="at" type="time" step="1"></label>
  <label>Days (empty: every day) <input name="days" placeholder="mon,tue,fri"></label>
 </div>
 <div data-for="interaction" hidden>
  <label>When <select name="when_entity" class="entities"></select></label>
  <label>becomes <input name="when_state" value="on"></label>
 </div>
 <label>Do <input name="service" required placeholder="cover.open_cover"></label>
 <label>on <select name="target" class="entities"></select></label>
 <label><input name="force" type="checkbox"> save even if it conflicts</label>
 <input name="op" type="hidden" value="create">
 <button id="rule-save" type="submit">Save</button>
 <button id="rule-new" type="button">New</button>
</form>
</section>
<script>
"use strict";
(() => {
const form = document.getElementById("rule-form");
const list = document.getElementById("rule-list");
const resultLine = document.getElementById("rule-result");
const home = document.getElementById("home");
const ruleCommands = {};
const rulesPath = () => "/api/homes/" + encodeURIComponent(home.value) + "/rules";

function node(tag, attrs, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") n.className = v; else n.setAttribute(k, v);
  }
  for (const c of children) n.append(c);
  return n;
}

function showKind() {
  for (const part of form.querySelectorAll("[data-for]"))
    part.hidden = part.dataset.for !== form.kind.value;
}
form.kind.onchange = showKind;

async function send(body) {
  const response = await fetch(rulesPath(), {method: "POST",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  const command = await response.json();
  ruleCommands[command.id] = true;
  resultLine.textContent = "sent";
  resultLine.dataset.status = "sent";
}

function ruleFromForm() {
  const trigger = form.kind.value === "schedule"
    ? {type: "time", at: form.at.value}
    : {type: "state", entity_id: form.when_entity.value, to: form.when_state.value};
  const days = form.days.value.split(",").map(d => d.trim()).filter(Boolean);
  if (form.kind.value === "schedule" && days.length) trigger.weekdays = days;
  return {rule_id: form.rule_id.value, kind: form.kind.value, name: form.name.value,
    trigger: trigger, actions: [{service: form.service.value, entity_id: form.target.value}]};
}

form.onsubmit = (event) => {
  event.preventDefault();
  send({op: form.op.value, rule: ruleFromForm(), force: form.force.checked});
};
document.getElementById("rule-new").onclick = () => {
  form.reset(); form.op.value = "create"; form.rule_id.readOnly = false; showKind();
};

function edit(entry) {
  const rule = entry.rule;
  form.op.value = "update";
  form.kind.value = rule.kind; showKind();
  form.rule_id.value = rule.rule_id; form.rule_id.readOnly = true;
  form.name.value = rule.name;
  const trigger = rule.trigger, action = rule.actions.find(a => a.service) || {};
  if (trigger.type === "time") {
    form.at.value = trigger.at; form.days.value = (trigger.weekdays || []).join(",");
  } else {
    form.when_entity.value = trigger.entity_id; form.when_state.value = trigger.to || "";
  }
  form.service.value = action.service || ""; form.target.value = action.entity_id || "";
  form.scrollIntoView();
}

function summary(rule) {
  if (!rule) return "changed in Home Assistant (read-only here)";
  const t = rule.trigger;
  const when = t.type === "time" ? "at " + t.at + (t.weekdays ? " " + t.weekdays.join(",") : "")
    : t.type === "sun" ? t.event : t.entity_id + " → " + (t.to ?? t.above ?? t.below);
  const what = rule.actions.filter(a => a.service)
    .map(a => a.service + " " + a.entity_id).join(", ");
  return when + ": " + what;
}

function row(entry, refusal) {
  const id = entry.rule_id || entry.entity_id;
  const buttons = node("td", {class: "controls"});
  if (entry.read_only) buttons.append("the home's own (read-only)");
  else if (entry.editable) {
    const editButton = node("button", {class: "edit", type: "button"}, "Edit");
    editButton.onclick = () => edit(entry);
    buttons.append(editButton);
  }
  const toggle = node("button", {class: "switch", type: "button"},
    entry.enabled ? "Disable" : "Enable");
  toggle.onclick = () => send({op: entry.enabled ? "disable" : "enable", rule_id: id});
  const remove = node("button", {class: "delete", type: "button"}, "Delete");
  remove.onclick = () => send({op: "delete", rule_id: id});
  if (!entry.read_only) buttons.append(toggle, remove);
  return node("tr", {"data-rule-id": id, "data-enabled": String(entry.enabled)},
    node("td", {class: "name"}, entry.alias || id),
    node("td", {class: "state"}, entry.enabled ? "on" : "off"),
    node("td", {}, summary(entry.rule)),
    buttons,
    node("td", {class: "refusal"}, refusal ? "last refused: " + refusal.reason : ""));
}

async function refreshRules() {
  if (!home.value) return;
  const data = await (await fetch(rulesPath())).json();
  const rows = data.rules.map(entry => row(entry, data.refusals[entry.rule_id]));
  for (const [id, refusal] of Object.entries(data.refusals)) {
    if (!data.rules.some(r => r.rule_id === id))
      rows.push(node("tr", {"data-rule-id": id, "data-refused": "true"},
        node("td", {class: "name"}, id), node("td", {class: "state"}, "not saved"),
        node("td", {class: "refusal"}, "last refused: " + refusal.reason)));
  }
  list.replaceChildren(...rows);
}

async function refreshEntities() {
  if (!home.value) return;
  const data = await (await fetch("/api/homes/" + encodeURIComponent(home.value) + "/entities"))
    .json();
  for (const select of form.querySelectorAll("select.entities")) {
    const chosen = select.value;
    select.replaceChildren(...data.entities.map(e =>
      node("option", {value: e.entity_id}, e.name + " (" + e.entity_id + ")")));
    if (chosen) select.value = chosen;
  }
}

const events = new EventSource("/api/events");
events.onmessage = (message) => {
  const event = JSON.parse(message.data);
  if (event.type === "result" && ruleCommands[event.result.id]) {
    const reason = event.result.reason ? ": " + event.result.reason : "";
    resultLine.textContent = event.result.status + reason;
    resultLine.dataset.status = event.result.status;
    refreshRules();
  }
  if (event.type === "record" && event.record.kind === "rules") refreshRules();
};
home.addEventListener("change", () => { refreshRules(); refreshEntities(); });
setTimeout(() => { refreshRules(); refreshEntities(); }, 300);
setInterval(refreshEntities, 10000);
})();
</script>
"""
