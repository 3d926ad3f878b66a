// Message catalogs and locale formatting: the flow answers message ids and
// parameters; this module turns them into words, amounts and dates.
const catalogs = {};
let lang = "en";
let hotel = { currency: "EUR", timezone: "UTC" };

export async function loadCatalog(code) {
  if (!catalogs[code]) {
    const answer = await fetch(`/static/i18n/${code}.json`, { cache: "no-cache" });
    catalogs[code] = answer.ok ? await answer.json() : {};
  }
  return catalogs[code];
}

export async function setLanguage(code) {
  await Promise.all([loadCatalog("en"), loadCatalog(code)]);
  lang = code;
  document.documentElement.lang = code;
}

export function language() { return lang; }
export function setHotel(h) { hotel = { ...hotel, ...h }; }

export function isAmount(v) {
  return v && typeof v === "object" && "Value" in v && "Currency" in v;
}

const LOCAL_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/;

// Hotel-local "YYYY-MM-DDTHH:MM" shown as it is (it is already in the hotel's zone).
export function formatLocal(text, withTime = false) {
  const m = LOCAL_TIME.exec(text || "");
  if (!m) return String(text ?? "");
  const utc = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]));
  const options = { dateStyle: "full", timeZone: "UTC" };
  if (withTime) options.timeStyle = "short";
  return new Intl.DateTimeFormat(lang, options).format(utc);
}

export function formatMoney(amount) {
  const currency = amount.Currency || hotel.currency;
  try {
    return new Intl.NumberFormat(lang, { style: "currency", currency }).format(amount.Value);
  } catch (e) { // no or an unknown currency (a bill without items): the number, never a broken screen
    return new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(amount.Value);
  }
}

export function formatClock(now = new Date()) {
  return new Intl.DateTimeFormat(lang, { timeStyle: "short", timeZone: hotel.timezone }).format(now);
}

function formatParam(value) {
  if (isAmount(value)) return formatMoney(value);
  if (typeof value === "string" && LOCAL_TIME.test(value)) return formatLocal(value, true);
  if (typeof value === "number") return new Intl.NumberFormat(lang).format(value);
  return String(value ?? "");
}

// The text of a message id in the current language, English when missing.
// A count (`count`) picks the language's plural form, `id.one` / `id.few` / `id.other` (CLDR categories).
function plural(id, params) {
  if (typeof params.count !== "number") return id;
  const form = `${id}.${new Intl.PluralRules(lang).select(params.count)}`;
  return form in (catalogs[lang] || {}) ? form : `${id}.other` in (catalogs[lang] || {}) ? `${id}.other` : id;
}

export function t(id, params = {}) {
  id = plural(id, params);
  const template = (catalogs[lang] || {})[id] ?? (catalogs.en || {})[id];
  if (template === undefined) return (catalogs.en || {})["ui.generic"] || id;
  return template.replace(/\{(\w+)\}/g, (all, name) => (name in params ? formatParam(params[name]) : all));
}

export function has(id) { return id in (catalogs[lang] || {}) || id in (catalogs.en || {}); }
