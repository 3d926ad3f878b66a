// The kiosk's own on-screen keyboard: a kiosk has no keyboard and must not
// depend on the system's. Layouts: letters (with a page of accented letters for
// the offered languages), e-mail, numeric (confirmation and room numbers).
import { t } from "./i18n.js";

const LETTERS = ["1234567890", "qwertyuiop", "asdfghjkl'", "zxcvbnm-"];
const ACCENTS = ["áàâäãåæç", "čďéèêëěí", "ìîïñňóòô", "öõøœřšßť", "úùûüůýÿž"];
const EMAIL = ["1234567890", "qwertyuiop", "asdfghjkl@", "zxcvbnm._-+"];
const NUMERIC = ["123", "456", "789", "0"];

let target = null;
let page = "letters";
let shift = false;
let host = null;

function keyButton(label, name, action) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "key";
  b.textContent = label;
  b.setAttribute("aria-label", name);
  b.dataset.key = label;
  b.addEventListener("pointerdown", (e) => e.preventDefault()); // keep the input focused
  b.addEventListener("click", action);
  return b;
}

function insert(text) {
  if (!target) return;
  const start = target.selectionStart ?? target.value.length;
  const end = target.selectionEnd ?? target.value.length;
  const max = target.maxLength > 0 ? target.maxLength : 200;
  const next = (target.value.slice(0, start) + text + target.value.slice(end)).slice(0, max);
  target.value = next;
  const caret = Math.min(start + text.length, next.length);
  try { target.setSelectionRange(caret, caret); } catch (e) { /* type=email has no selection */ }
  target.dispatchEvent(new Event("input", { bubbles: true }));
  if (shift) { shift = false; draw(); }
}

function backspace() {
  if (!target) return;
  const start = target.selectionStart ?? target.value.length;
  const end = target.selectionEnd ?? target.value.length;
  const from = start === end ? Math.max(0, start - 1) : start;
  target.value = target.value.slice(0, from) + target.value.slice(end);
  try { target.setSelectionRange(from, from); } catch (e) { /* ignore */ }
  target.dispatchEvent(new Event("input", { bubbles: true }));
}

function rowsFor(layout) {
  if (layout === "numeric") return NUMERIC;
  if (layout === "email") return EMAIL;
  return page === "accents" ? ACCENTS : LETTERS;
}

function draw() {
  if (!host) return;
  host.replaceChildren();
  if (!target) { host.hidden = true; return; }
  host.hidden = false;
  const layout = target.dataset.keyboard || "letters";
  host.className = `keyboard keyboard-${layout}`;
  host.setAttribute("aria-label", t("ui.keyboard"));
  for (const row of rowsFor(layout)) {
    const line = document.createElement("div");
    line.className = "key-row";
    for (const ch of row) {
      const label = shift ? ch.toUpperCase() : ch;
      line.append(keyButton(label, label, () => insert(label)));
    }
    host.append(line);
  }
  const controls = document.createElement("div");
  controls.className = "key-row";
  if (layout !== "numeric") {
    controls.append(keyButton("⇧", t("ui.key.shift"), () => { shift = !shift; draw(); }));
    if (layout === "letters") {
      const other = page === "accents" ? "abc" : "áéü";
      controls.append(keyButton(other, t(page === "accents" ? "ui.key.letters" : "ui.key.accents"),
        () => { page = page === "accents" ? "letters" : "accents"; draw(); }));
    }
    const space = keyButton(t("ui.key.space"), t("ui.key.space"), () => insert(" "));
    space.classList.add("key-wide");
    controls.append(space);
  }
  controls.append(keyButton("⌫", t("ui.key.backspace"), backspace));
  controls.append(keyButton("✓", t("ui.key.done"), () => { const f = target; hide(); if (f) f.blur(); }));
  host.append(controls);
  // The keyboard took space from the screen: bring the field back into view (above the sticky action).
  target.scrollIntoView({ block: "nearest" });
}

export function attach(container) {
  host = container;
  document.addEventListener("focusin", (e) => {
    const el = e.target;
    if (el instanceof HTMLInputElement && el.dataset.keyboard) {
      if (target !== el) { target = el; page = "letters"; shift = false; draw(); }
    }
  });
}

export function hide() { target = null; draw(); }
export function redraw() { draw(); }
