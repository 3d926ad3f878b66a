"""Geometry of the kiosk screen in a real Chromium: does every control fit, is nothing covered?

Bounding boxes against the viewport, the on-screen keyboard's box against the focused field and
the screen's primary action, touch targets, page scroll. Used by tests/test_kiosk_ui_fit.py.
"""

from __future__ import annotations

from sim.kiosk_browser import set_viewport  # noqa: F401 - the tests take it from here

# The displays kiosks have (issue 23): landscape panels and the portrait ones.
VIEWPORTS = ((800, 480), (1024, 600), (1280, 800), (1366, 768), (1920, 1080), (720, 1280), (1080, 1920))

# One JS function: a list of problems (strings) for what the guest sees now.
_MEASURE = r"""
const W = innerWidth, H = innerHeight, EPS = 0.5, problems = [];
const name = (e) => (e.id ? '#' + e.id : '') + (e.dataset.id ? '[' + e.dataset.id + ']' : '') +
  (e.dataset.key ? '[key ' + e.dataset.key + ']' : '') + ' ' + e.tagName.toLowerCase() + ' "' +
  (e.textContent || e.value || '').trim().slice(0, 24) + '"';
const shown = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility === 'visible';
const inside = (r, box) => r.left >= box.left - EPS && r.right <= box.right + EPS && r.top >= box.top - EPS &&
  r.bottom <= box.bottom + EPS;
const view = { left: 0, top: 0, right: W, bottom: H };
const scroller = (e) => { for (let p = e.parentElement; p; p = p.parentElement) {
  const o = getComputedStyle(p).overflowY; if ((o === 'auto' || o === 'scroll') && p.scrollHeight > p.clientHeight) return p; }
  return null; };
const page = document.scrollingElement;
if (page.scrollHeight > H + 1 || page.scrollWidth > W + 1) problems.push(`page scrolls: ${page.scrollWidth}x${page.scrollHeight} in ${W}x${H}`);
const controls = [...document.querySelectorAll('button, input, [role=button]')].filter(shown);
for (const e of controls) {
  const r = e.getBoundingClientRect();
  if (r.width < 48 - EPS || r.height < 48 - EPS) problems.push(`small target ${name(e)} ${Math.round(r.width)}x${Math.round(r.height)}`);
  if (r.left < -EPS || r.right > W + EPS) problems.push(`cut off sideways ${name(e)} ${Math.round(r.left)}..${Math.round(r.right)} of ${W}`);
  const s = scroller(e);
  // Inside a scrolling region a control may wait below the fold (the region scrolls, not the page),
  // but never half hidden by the viewport itself.
  if (!s && !inside(r, view)) problems.push(`outside the viewport ${name(e)} ${JSON.stringify([r.left, r.top, r.right, r.bottom].map(Math.round))}`);
  if (s) { const b = s.getBoundingClientRect(); if (b.bottom > H + EPS || b.top < -EPS) problems.push(`scroll region ${s.id} outside the viewport`); }
}
const must = [...document.querySelectorAll('#screen .btn-primary')].filter(shown);
const focused = document.activeElement && document.activeElement.matches('input') ? document.activeElement : null;
if (focused) must.push(focused);
const kb = document.getElementById('keyboard');
const kbBox = kb && shown(kb) ? kb.getBoundingClientRect() : null;
for (const e of must) {
  const r = e.getBoundingClientRect();
  if (!inside(r, view)) { problems.push(`not fully visible ${name(e)} ${JSON.stringify([r.left, r.top, r.right, r.bottom].map(Math.round))}`); continue; }
  if (kbBox && r.bottom > kbBox.top + EPS && r.top < kbBox.bottom - EPS) problems.push(`keyboard covers ${name(e)}`);
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  if (!hit || (hit !== e && !e.contains(hit))) problems.push(`covered ${name(e)} by ${hit ? name(hit) : 'nothing'}`);
}
const header = document.querySelector('header.top');
if (H <= 600 && header && header.getBoundingClientRect().height > 72) problems.push(`header ${Math.round(header.getBoundingClientRect().height)} px high on a ${H} px screen`);
return problems;
"""


def problems(driver, where: str) -> list[str]:
    """What does not fit on the screen as the guest sees it now, each prefixed with ``where``."""
    return [f"{where}: {p}" for p in driver.execute_script(_MEASURE)]
