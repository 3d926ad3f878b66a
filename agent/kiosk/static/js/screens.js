// One builder per screen of docs/kiosk-api.md: screen JSON in, DOM out.
// Builders only read the screen; `act(action, fields)` sends the guest's input.
import { t, formatLocal, formatMoney, isAmount } from "./i18n.js";

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k === "onclick") node.addEventListener("click", v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

export function button(labelId, onclick, kind = "primary", params = {}, extra = {}) {
  return el("button", { type: "button", class: `btn btn-${kind}`, onclick, "data-id": labelId, ...extra },
    t(labelId, params));
}

function message(screen) {
  if (!screen.message) return null;
  return el("p", { class: "message", id: "message" }, t(screen.message.id, screen.message.params || {}));
}

function field(name, value, opts = {}) {
  const id = `f-${name.replace(".", "-")}`;
  const error = opts.error;
  const input = el("input", {
    id, name, value: value ?? "", autocomplete: "off", autocapitalize: "off", spellcheck: "false",
    inputmode: "none", "data-keyboard": opts.keyboard || "letters", maxlength: opts.max || 80,
    "aria-invalid": error ? "true" : null, "aria-describedby": error ? `${id}-error` : null,
    required: opts.required ? true : null,
  });
  const box = el("div", { class: error ? "field field-error" : "field" },
    el("label", { for: id }, t(`ui.field.${opts.label || name}`)), input);
  if (error) {
    box.append(el("p", { class: "field-message", id: `${id}-error`, role: "alert" },
      el("span", { class: "icon", "aria-hidden": "true" }, "⚠ "), t(error.id, error.params || {})));
  }
  return box;
}

function values(form) {
  const out = {};
  for (const input of form.querySelectorAll("input[name]")) {
    const [outer, inner] = input.name.split(".");
    if (inner) (out[outer] = out[outer] || {})[inner] = input.value.trim();
    else out[outer] = input.value.trim();
  }
  return out;
}

function heading(id, params) { return el("h1", { id: "title", tabindex: "-1" }, t(id, params)); }

function find(screen, act) {
  const checkout = screen.flow === "check-out";
  const errors = screen.errors || {};
  const form = el("form", { class: "form", novalidate: true });
  const cardRoom = screen.data && screen.data.card_room;
  if (screen.busy && !checkout) return [heading("ui.title.find_checkin"), message(screen), progress(screen)];
  if (checkout && cardRoom) {
    form.append(el("p", { class: "fact" }, t("ui.label.room"), " ", el("strong", {}, String(cardRoom))));
  } else if (checkout && screen.data && screen.data.find_by === "room") { // "Try again" / "Back" keep what was typed (never the name)
    form.append(field("room", screen.data.room, { keyboard: "numeric", max: 10, required: true, error: errors.room }));
  } else {
    form.append(field("number", (screen.data || {}).number, { keyboard: "numeric", max: 20, required: true, error: errors.number }));
  }
  form.append(field("last_name", "", { required: true, max: 60, error: errors.last_name }));
  form.addEventListener("submit", (e) => e.preventDefault());
  const parts = [heading(checkout ? "ui.title.find_checkout" : "ui.title.find_checkin"), message(screen), form,
    button("ui.button.find", () => act("find", values(form)))];
  if (checkout && !cardRoom && (screen.actions || []).includes("read_card")) {
    parts.push(button("ui.button.read_card", () => act("read_card"), "secondary"));
  }
  if (!checkout && (screen.actions || []).includes("scan")) {
    parts.push(button("ui.button.scan", () => act("scan"), "secondary"));
  }
  return parts;
}

// The identity document step: read it, then confirm what was read (never the whole number).
function identity(screen, act) {
  const parts = [heading("ui.title.document"), message(screen)];
  if (screen.busy) { parts.push(progress(screen)); return parts; }
  const doc = (screen.data || {}).document;
  if (doc) {
    parts.push(facts([["ui.label.name", doc.name], ["ui.label.nationality", doc.nationality],
      ["ui.label.expiry", doc.expiry], ["ui.label.document_number", doc.number]]));
  }
  const row = el("div", { class: "row" });
  if ((screen.actions || []).includes("confirm_document")) row.append(button("ui.button.confirm", () => act("confirm_document")));
  if ((screen.actions || []).includes("scan_document")) {
    row.append(button("ui.button.scan_document", () => act("scan_document"), doc ? "secondary" : "primary"));
  }
  parts.push(row);
  return parts;
}

function facts(rows) {
  const list = el("dl", { class: "facts" });
  for (const [labelId, value] of rows) {
    if (value === undefined || value === null || value === "") continue;
    list.append(el("div", {}, el("dt", {}, t(labelId)), el("dd", {}, String(value))));
  }
  return list;
}

const FIELD_KEYBOARD = { email: "email", phone: "numeric", postal_code: "email", passport_expiry: "numeric" };

function details(screen, act) {
  const { guest = {}, stay = {}, editable = [] } = screen.data || {};
  const errors = screen.errors || {};
  const guests = t("ui.value.guests", { adults: stay.adults ?? 0, children: stay.children ?? 0 });
  const summary = facts([
    ["ui.label.name", [guest.first_name, guest.last_name].filter(Boolean).join(" ")],
    ["ui.label.reservation", stay.number],
    ["ui.label.arrival", formatLocal(stay.arrival)], ["ui.label.departure", formatLocal(stay.departure)],
    ["ui.label.category", stay.category], ["ui.label.guests", guests],
  ]);
  const form = el("form", { class: "form", novalidate: true });
  const address = guest.address || {};
  for (const name of editable) {
    if (name === "address") { // one editable field of the flow, four inputs on the screen
      ["line1", "city", "postal_code", "country"].forEach((part, i) => form.append(field(`address.${part}`, address[part],
        { label: part, keyboard: FIELD_KEYBOARD[part] || "letters", error: i === 0 ? errors.address : errors[`address.${part}`] })));
      continue;
    }
    form.append(field(name, guest[name], { keyboard: FIELD_KEYBOARD[name] || "letters", error: errors[name] }));
  }
  form.addEventListener("submit", (e) => e.preventDefault());
  return [heading("ui.title.details"), message(screen), summary, form,
    button("ui.button.confirm", () => act("confirm", values(form))), back(screen, act)];
}

// "Back" where the flow offers it (details, bill: nothing done yet), never during payment or keys.
function back(screen, act) {
  return (screen.actions || []).includes("back") ? button("ui.button.back", () => act("back"), "secondary", {}, { class: "btn btn-secondary btn-back" }) : null;
}

function progress(screen, counted = true) {
  const p = screen.progress;
  if (!p) return el("p", { class: "busy", role: "status" }, el("span", { class: "spinner", "aria-hidden": "true" }), t("ui.busy"));
  const box = el("div", { class: "progress", role: "status" });
  box.append(el("p", { class: "progress-text" }, t(p.text_id, p.params || {})));
  if (p.total) {
    box.append(el("div", { class: "bar", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": p.total,
      "aria-valuenow": p.done || 0, "aria-label": t("ui.progress", { done: p.done || 0, total: p.total }) },
    el("div", { class: "bar-fill", style: `width:${Math.round(100 * (p.done || 0) / p.total)}%` })));
    if (counted) box.append(el("p", { class: "progress-count" }, t("ui.progress", { done: p.done || 0, total: p.total })));
  }
  if (p.deadline) {
    const left = Math.max(0, Math.round(p.deadline - Date.now() / 1000));
    box.append(el("p", { class: "countdown", "data-deadline": p.deadline }, t("ui.seconds_left", { seconds: left })));
  }
  return box;
}

function payment(screen, act) {
  const amount = (screen.data || {}).amount;
  const parts = [heading("ui.title.payment"), message(screen)];
  if (isAmount(amount)) parts.push(el("p", { class: "amount" }, formatMoney(amount)));
  if (screen.busy) parts.push(progress(screen));
  else if ((screen.actions || []).includes("pay")) parts.push(button("ui.button.pay", () => act("pay")));
  return parts;
}

function keys(screen, act) {
  const max = (screen.data || {}).max_keys || 1;
  // While keys are made the progress line is the one instruction ("Place card 2 of 2"): the message
  // would still say card 1, and "1 of 2" under the bar would be a third count.
  if (screen.busy && screen.progress) return [heading("ui.title.keys"), progress(screen, false)];
  const parts = [heading("ui.title.keys"), message(screen)];
  if (screen.busy) { parts.push(progress(screen)); return parts; }
  const choice = el("div", { class: "choice", role: "group", "aria-label": t("ui.label.key_count") });
  for (let k = 1; k <= max; k += 1) {
    choice.append(button("ui.button.keys", () => act("keys", { count: k }), "choice", { count: k }));
  }
  parts.push(choice);
  return parts;
}

function done(screen, finish) {
  const d = screen.data || {};
  const floor = d.floor && d.floor !== d.room ? d.floor : null; // the floor only when known
  const place = floor ? t("ui.value.room_floor", { room: d.room, floor }) : t("ui.value.room", { room: d.room });
  // The room line says where; the message would say the room again.
  return [heading("ui.title.done"), el("p", { class: "room" }, place),
    el("p", { class: "message", id: "message" }, t(d.printed === false ? "ui.done.no_slip" : "ui.done.enjoy")),
    facts([["ui.label.keys", d.keys], ["ui.label.departure", formatLocal(d.departure, true)],
      ["ui.label.slip", t(d.printed ? "ui.value.printed" : "ui.value.not_printed")]]),
    button("ui.button.finish", finish)];
}

function bill(screen, act) {
  const d = screen.data || {};
  const table = el("table", { class: "bill" }, el("caption", {}, t("ui.label.items")),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("ui.label.item")),
      el("th", { scope: "col" }, t("ui.label.date")), el("th", { scope: "col", class: "num" }, t("ui.label.amount")))));
  const body = el("tbody");
  for (const item of d.items || []) {
    body.append(el("tr", {}, el("td", {}, item.name || ""), el("td", {}, formatLocal(item.date)),
      el("td", { class: "num" }, isAmount(item.amount) ? formatMoney(item.amount) : "")));
  }
  table.append(body);
  const parts = [heading("ui.title.bill"), message(screen), table];
  if (isAmount(d.balance)) parts.push(el("p", { class: "amount" }, t("ui.label.balance"), " ", formatMoney(d.balance)));
  const settled = isAmount(d.balance) && d.balance.Value <= 0.005;
  const offered = screen.actions || [];
  if (screen.busy) parts.push(progress(screen));
  else if (offered.includes("checkout") && (settled || !offered.includes("pay"))) {
    parts.push(button("ui.button.checkout", () => act("checkout")));
  } else if (offered.includes("pay")) parts.push(button("ui.button.pay", () => act("pay")));
  if (!screen.busy) parts.push(back(screen, act));
  return parts;
}

function goodbye(screen, finish) {
  return [heading("ui.title.goodbye"), message(screen), button("ui.button.finish", finish)];
}

function refusal(screen, act, finish) {
  const d = screen.data || {};
  const parts = [el("div", { class: "notice", role: "alert" },
    el("span", { class: "icon icon-info", "aria-hidden": "true" }, "i"), heading(screen.screen === "failed" ? "ui.title.failed" : "ui.title.refused")),
  message(screen)];
  if (d.staff_called) parts.push(el("p", { class: "fact" }, t("staff.called")));
  const row = el("div", { class: "row" });
  if ((screen.actions || []).includes("retry")) row.append(button("ui.button.try_again", () => act("retry")));
  if (!d.staff_called && (screen.actions || []).includes("staff")) row.append(button("ui.button.staff", () => act("staff"), "secondary"));
  row.append(button("ui.button.restart", finish, (screen.actions || []).includes("retry") ? "secondary" : "primary"));
  parts.push(row);
  return parts;
}

// The screen's content (without the header and footer the app adds).
export function build(screen, act, finish) {
  switch (screen.screen) {
    case "find": return find(screen, act);
    case "details": return details(screen, act);
    case "document": case "document_confirm": return identity(screen, act);
    case "payment": return payment(screen, act);
    case "keys": return keys(screen, act);
    case "done": return done(screen, finish);
    case "bill": return bill(screen, act);
    case "goodbye": return goodbye(screen, finish);
    default: return refusal(screen, act, finish);
  }
}
