// The kiosk page: talks to the JSON API (docs/kiosk-api.md), keeps the guest's
// screen in memory only, and wipes it on finish, cancel and idle.
import { setLanguage, language, setHotel, t, formatClock } from "./i18n.js";
import { build, el, button } from "./screens.js";
import * as keyboard from "./keyboard.js";

const LANGUAGE_NAMES = { en: "English", de: "Deutsch", fr: "Français", es: "Español", it: "Italiano",
  cs: "Čeština", nl: "Nederlands" };

let config = { languages: ["en", "de", "fr", "es", "it", "cs", "nl"], default_language: "en", hotel: {}, idle_timeout: 60, idle_countdown: 10 };
let screen = null; // the current Screen from the API, or null on welcome
let poller = null;
let lastInput = Date.now();
let countdownTimer = null;
let pending = false;
let notice = null; // a message id shown on welcome after a reset
let leaving = false; // "Start over" was asked while busy: its notice stays until the step ends
let lastPing = 0; // when the server last heard of the guest's taps and typing
const PING_EVERY = 3000; // ms: the server's idle clock follows the guest, not only API calls

const $ = (id) => document.getElementById(id);

// The kiosk screen opens the page as /#screen=TOKEN when kiosk.screen_token is set: read it once,
// take it out of the address at once, and present it on every API call (docs/kiosk-api.md).
const screenToken = (() => {
  const found = /^#screen=([A-Za-z0-9._~-]+)$/.exec(location.hash);
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  return found ? found[1] : "";
})();

async function api(method, path, body) {
  // The server takes state changes only as JSON: a POST without fields sends {}.
  const json = body !== undefined || method === "POST";
  const headers = json ? { "Content-Type": "application/json" } : {};
  if (screenToken) headers["X-Kiosk-Screen"] = screenToken;
  const answer = await fetch(path, {
    method, cache: "no-store", headers, body: json ? JSON.stringify(body ?? {}) : undefined,
  });
  if (answer.status === 204) return { ok: true, status: 204, body: null };
  let data = null;
  try { data = await answer.json(); } catch (e) { data = null; }
  return { ok: answer.ok, status: answer.status, body: data };
}

function clearPoll() { if (poller) { clearTimeout(poller); poller = null; } }

// Everything the guest typed or was shown goes: DOM, memory, storage, history.
function wipe() {
  clearPoll();
  screen = null;
  keyboard.hide();
  $("screen").replaceChildren();
  $("status").replaceChildren();
  try { localStorage.clear(); sessionStorage.clear(); } catch (e) { /* storage disabled */ }
  history.replaceState(null, "", "/");
}

async function finish(noticeId = null) {
  const id = screen && screen.session;
  wipe();
  hideIdle();
  document.body.classList.remove("large");
  $("large").setAttribute("aria-pressed", "false");
  notice = noticeId;
  if (language() !== config.default_language) await setLanguage(config.default_language);
  showWelcome();
  if (id) api("DELETE", `/api/sessions/${encodeURIComponent(id)}`).catch(() => {});
}

// "Start over" while the terminal or the encoder works: the server ends the session only when its step
// allows (a payment is asked to abort, keys are finished). Until then the guest stays on the screen.
async function leave(noticeId = null) {
  const id = screen && screen.session;
  if (id && screen.busy) {
    const answer = await api("DELETE", `/api/sessions/${encodeURIComponent(id)}`);
    if (answer.status === 409) { leaving = true; showStatus("error.busy", {}); poll(); return; }
  }
  await finish(noticeId);
}

function showStatus(id, params) {
  $("status").replaceChildren(el("p", { class: "status-line", role: "alert" },
    el("span", { class: "icon", "aria-hidden": "true" }, "⚠ "), t(id, params)));
}

async function handle(result) {
  if (result.ok && result.body && result.body.screen) { show(result.body); return; }
  const error = (result.body && result.body.error) || { id: "failed.unavailable", params: {} };
  if (result.status === 404) { await finish(error.id); return; }
  if (result.status === 503 || result.status >= 500) {
    show({ session: screen && screen.session, flow: screen && screen.flow, screen: "failed",
      message: error, data: {}, actions: ["restart"] });
    return;
  }
  showStatus(error.id, error.params);
}

async function act(action, fields = {}) {
  if (pending || !screen) return;
  pending = true;
  document.body.classList.add("pending");
  const id = encodeURIComponent(screen.session);
  try {
    if (action === "restart" || action === "cancel") { await leave(); return; }
    const result = action === "staff"
      ? await api("POST", `/api/sessions/${id}/staff`)
      : await api("POST", `/api/sessions/${id}/input`, { action, ...fields });
    await handle(result);
  } catch (e) {
    showStatus("failed.unavailable", {});
  } finally {
    pending = false;
    document.body.classList.remove("pending");
  }
}

async function start(flow) {
  if (pending) return;
  pending = true;
  try {
    await handle(await api("POST", "/api/sessions", { flow, language: language() }));
  } catch (e) {
    showStatus("failed.unavailable", {});
  } finally { pending = false; }
}

function poll() {
  clearPoll();
  if (!screen || !screen.busy) return;
  const id = encodeURIComponent(screen.session);
  poller = setTimeout(async () => {
    try { await handle(await api("GET", `/api/sessions/${id}`)); } catch (e) { poll(); }
  }, 200);
}

function render() {
  const main = $("screen");
  if (!screen) return;
  const focusedName = document.activeElement && document.activeElement.name;
  const typed = {};
  for (const input of main.querySelectorAll("input[name]")) typed[input.name] = input.value;
  const sameScreen = main.dataset.screen === screen.screen;
  main.dataset.screen = screen.screen;
  main.replaceChildren(...build(screen, act, () => finish()));
  if (sameScreen) { // a re-render (language, errors) keeps what the guest typed
    for (const input of main.querySelectorAll("input[name]")) if (input.name in typed) input.value = typed[input.name];
  }
  leaving = leaving && screen.busy;
  if (!leaving) $("status").replaceChildren();
  const again = focusedName && main.querySelector(`input[name="${focusedName}"]`);
  if (again) again.focus();
  else if (!sameScreen) { keyboard.hide(); const h = $("title"); if (h) h.focus({ preventScroll: true }); }
  else keyboard.redraw();
  document.title = `${t("ui.app")} – ${($("title") || {}).textContent || ""}`;
}

function show(next) {
  screen = next;
  render();
  renderChrome();
  poll();
}

function showWelcome() {
  const main = $("screen");
  main.dataset.screen = "welcome";
  const options = el("div", { class: "choice choice-flow" },
    button("ui.button.checkin", () => start("check-in"), "primary", {}, { id: "start-check-in" }),
    button("ui.button.checkout", () => start("check-out"), "primary", {}, { id: "start-check-out" }));
  main.replaceChildren(el("h1", { id: "title", tabindex: "-1" }, t("ui.title.welcome", { hotel: config.hotel.name || "" })),
    el("p", { class: "message" }, t("ui.welcome.prompt")), options);
  if (notice) $("status").replaceChildren(el("p", { class: "status-line", role: "status" }, t(notice)));
  notice = null;
  document.title = t("ui.app");
  renderChrome();
}

function renderChrome() {
  const langs = $("languages");
  langs.setAttribute("aria-label", t("ui.label.language"));
  langs.replaceChildren(...config.languages.map((code) => el("button", {
    type: "button", class: "btn btn-lang", lang: code, "aria-pressed": code === language() ? "true" : "false",
    "data-lang": code, onclick: () => { showLanguages(false); switchLanguage(code); },
  }, LANGUAGE_NAMES[code] || code)));
  // Small screens: one button names the language and opens the list (CSS shows one or the other).
  $("language").textContent = `${LANGUAGE_NAMES[language()] || language()} ▾`;
  $("language").setAttribute("aria-label", `${t("ui.label.language")}: ${LANGUAGE_NAMES[language()] || language()}`);
  $("large").textContent = t("ui.button.large_text");
  $("large").setAttribute("aria-label", t("ui.button.large_text"));
  const inFlow = Boolean(screen);
  // A refusal carries its own "Call staff" and "Start over": the footer would show them twice.
  $("footer").hidden = !inFlow || ["refused", "failed"].includes(screen.screen);
  $("staff").textContent = t("ui.button.staff");
  $("cancel").textContent = t("ui.button.restart");
  $("hotel").textContent = config.hotel.name || "";
  $("clock").textContent = formatClock();
  $("idle-continue").textContent = t("ui.idle.continue");
  $("idle-title").textContent = t("ui.idle.title");
  keyboard.redraw();
}

// The hotel's logo and colours (kiosk.logo, kiosk.brand_colours; the agent checked their contrast).
function applyBrand(brand) {
  const [buttons, header] = brand.colours || [];
  if (buttons) document.documentElement.style.setProperty("--brand", buttons);
  if (header) document.documentElement.style.setProperty("--band", header);
  if (brand.logo) { $("logo").src = brand.logo; $("logo").hidden = false; }
}

function showLanguages(open) {
  $("languages").classList.toggle("open", open);
  $("language").setAttribute("aria-expanded", open ? "true" : "false");
}

async function switchLanguage(code) {
  await setLanguage(code);
  if (screen) { render(); renderChrome(); } else showWelcome();
}

// ---- idle: a countdown overlay, then back to welcome with everything wiped ----
function hideIdle() {
  if (countdownTimer) { clearInterval(countdownTimer); countdownTimer = null; }
  $("idle").hidden = true;
}

function showIdle() {
  let left = config.idle_countdown;
  $("idle").hidden = false;
  const say = () => { $("idle-text").textContent = t("session.idle", { seconds: left }); };
  say();
  $("idle-continue").focus();
  countdownTimer = setInterval(() => {
    left -= 1;
    if (left <= 0) { finish("session.cancelled"); return; }
    say();
  }, 1000);
}

function touched() {
  lastInput = Date.now();
  if (countdownTimer) hideIdle();
  if (screen && lastInput - lastPing > PING_EVERY) {
    lastPing = lastInput;
    api("POST", `/api/sessions/${encodeURIComponent(screen.session)}/activity`).catch(() => {});
  }
}

function tick() {
  $("clock").textContent = formatClock();
  for (const c of document.querySelectorAll(".countdown[data-deadline]")) {
    const left = Math.max(0, Math.round(Number(c.dataset.deadline) - Date.now() / 1000));
    c.textContent = t("ui.seconds_left", { seconds: left });
  }
  if (screen && screen.busy) lastInput = Date.now(); // the guest is at the terminal or encoder
  if (screen && !countdownTimer && Date.now() - lastInput > config.idle_timeout * 1000) showIdle();
}

async function boot() {
  keyboard.attach($("keyboard"));
  for (const type of ["pointerdown", "keydown", "input"]) document.addEventListener(type, touched, true);
  $("idle-continue").addEventListener("click", () => { touched(); hideIdle(); });
  $("language").addEventListener("click", () => showLanguages(!$("languages").classList.contains("open")));
  $("staff").addEventListener("click", () => act("staff"));
  $("cancel").addEventListener("click", () => act("cancel"));
  $("large").addEventListener("click", () => {
    const on = document.body.classList.toggle("large");
    $("large").setAttribute("aria-pressed", on ? "true" : "false");
  });
  try {
    const answer = await api("GET", "/api/config");
    if (answer.ok) config = { ...config, ...answer.body };
  } catch (e) { /* shown below as unavailable */ }
  setHotel(config.hotel || {});
  applyBrand(config.brand || {});
  await setLanguage(config.languages.includes(config.default_language) ? config.default_language : "en");
  wipe();
  showWelcome();
  setInterval(tick, 1000);
  document.body.dataset.ready = "true";
}

// For the screenshot tool and tests: draw a Screen document as the API would answer it.
window.kiosk = { show, draw: (next) => { screen = next; render(); renderChrome(); }, finish, state: () => screen, language, switchLanguage };
boot();
