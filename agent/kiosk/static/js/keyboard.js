// The kiosk's own on-screen keyboard: a kiosk has no keyboard and must not
// depend on the system's. Layouts: letters (with a page of accented letters for
// the offered languages), e-mail, numeric (confirmation and room numbers).
import { t, language } from "./i18n.js";

// The letters as the guest's own keyboard has them: QWERTZ for German and Czech, AZERTY for
// French, with the language's own letters on the first level where a row has room.
const QWERTY = ["1234567890", "qwertyuiop", "asdfghjkl'", "zxcvbnm-"];
const LAYOUTS = {
  de: ["1234567890", "qwertzuiopü", "asdfghjklöä", "yxcvbnmß-'"],
  cs: ["1234567890", "qwertzuiopú", "asdfghjklů'", "yxcvbnm-"],
  fr: ["1234567890", "azertyuiop", "qsdfghjklm", "wxcvbnéèàç'-"],
  es: ["1234567890", "qwertyuiop", "asdfghjklñ", "zxcvbnm'-"],
  it: ["1234567890", "qwertyuiopè", "asdfghjklòà", "zxcvbnmù'-"],
};
// A long press on a letter offers its accented forms, the language's own first.
const VARIANTS = { a: "áàâäãåæ", c: "čç", d: "ď", e: "éèêëě", i: "íìîï", n: "ňñ", o: "óòôöõøœ", r: "ř",
  s: "šß", t: "ť", u: "úůùûü", y: "ýÿ", z: "ž" };
const OWN = { cs: "áčďéěíňóřšťúůýž", de: "äöüß", fr: "àâæçéèêëîïôœùûüÿ", es: "áéíñóúü", it: "àèéìòù", nl: "áéëïóöü" };
const LONG_PRESS_MS = 450;
const ACCENTS = ["áàâäãåæç", "čďéèêëěí", "ìîïñňóòô", "öõøœřšßť", "úùûüůýÿž"];
const EMAIL = ["1234567890", "qwertyuiop", "asdfghjkl@", "zxcvbnm._-+"];
const NUMERIC = ["123", "456", "789", "0"];

let target = null;
let page = "letters";
let shift = false;
let host = null;
let pressTimer = null;
let longPressed = false;

function variantsOf(ch) {
  const own = OWN[language()] || "";
  const all = [...(VARIANTS[ch.toLowerCase()] || "")];
  return [...all.filter((v) => own.includes(v)), ...all.filter((v) => !own.includes(v))];
}

function closeVariants() {
  if (pressTimer) { clearTimeout(pressTimer); pressTimer = null; }
  const open = host && host.querySelector(".key-variants");
  if (open) open.remove();
}

function showVariants(key, ch) {
  closeVariants();
  const list = variantsOf(ch);
  if (!list.length) return;
  longPressed = true;
  const row = document.createElement("div");
  row.className = "key-row key-variants";
  row.setAttribute("role", "group");
  for (const v of list) {
    const label = shift ? v.toUpperCase() : v;
    row.append(keyButton(label, label, () => { closeVariants(); insert(label); }));
  }
  key.closest(".key-row").before(row); // above the pressed key's row, in the keyboard's flow
}

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
  return page === "accents" ? ACCENTS : (LAYOUTS[language()] || QWERTY);
}

function draw() {
  if (!host) return;
  closeVariants();
  longPressed = false;
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
      const key = keyButton(label, label, () => { if (longPressed) { longPressed = false; return; } insert(label); });
      if (layout === "letters" && VARIANTS[ch]) {
        key.addEventListener("pointerdown", () => {
          longPressed = false;
          if (pressTimer) clearTimeout(pressTimer);
          pressTimer = setTimeout(() => { pressTimer = null; showVariants(key, ch); }, LONG_PRESS_MS);
        });
        for (const end of ["pointerup", "pointerleave", "pointercancel"]) {
          key.addEventListener(end, () => { if (pressTimer) { clearTimeout(pressTimer); pressTimer = null; } });
        }
      }
      line.append(key);
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
