// A virtualised table: only the rows in view (plus a few either side) exist in the DOM, and
// rows cross IPC in pages of PAGE rows as they scroll into view (DESIGN §7). A class of 30 and
// a school of 10,000 cost the same to show.

import { h } from './dom.js';

const PAGE = 200;
const OVERSCAN = 8;
// Pages kept in memory at once: scrolling through a school of 10,000 keeps the pages near
// the view and drops the rest (they are a local call away), so memory stays flat.
const KEEP_PAGES = 8;

// columns: [{ title, width, cell(row) -> string | Node }]
// load(offset, limit) -> Promise<{ rows, total }>
export function virtualTable({ columns, load, onOpen, rowHeight = 36, testid, rowTestid, label, empty }) {
  const pages = new Map(); // page index -> rows, or a Promise while loading
  let total = null;
  let generation = 0; // bumped by refresh(), so late answers for old data are dropped
  let active = 0; // the row the keyboard is on
  let drawn = new Map(); // row index -> { row, selected, el } of the rows on screen

  const template = columns.map((c) => c.width ?? '1fr').join(' ');
  const head = h('div', { class: 'vrow head', role: 'row' },
    columns.map((c) => h('div', { role: 'columnheader' }, c.title)));
  head.style.gridTemplateColumns = template;
  const spacer = h('div', { class: 'vspacer' });
  const message = h('div', { class: 'vmessage muted', testid: testid && `${testid}-message` });
  const body = h('div', { class: 'vbody', tabindex: '0' }, spacer, message);
  const root = h('div', { class: 'vtable', role: 'grid', 'aria-label': label, testid }, head, body);

  body.addEventListener('scroll', () => render());
  body.addEventListener('keydown', (e) => {
    if (total === null || total === 0) return;
    const perScreen = Math.max(1, Math.floor(body.clientHeight / rowHeight) - 1);
    const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: perScreen, PageUp: -perScreen };
    if (e.key in moves) active = clamp(active + moves[e.key]);
    else if (e.key === 'Home') active = 0;
    else if (e.key === 'End') active = total - 1;
    else if (e.key === 'Enter') { const row = rowAt(active); if (row) onOpen?.(row); e.preventDefault(); return; }
    else return;
    e.preventDefault();
    scrollIntoView(active);
    render();
  });
  new ResizeObserver(() => render()).observe(body);

  const clamp = (i) => Math.max(0, Math.min(total - 1, i));
  function rowAt(i) {
    const page = pages.get(Math.floor(i / PAGE));
    return Array.isArray(page) ? page[i % PAGE] : undefined;
  }
  function scrollIntoView(i) {
    const top = i * rowHeight;
    if (top < body.scrollTop) body.scrollTop = top;
    else if (top + rowHeight > body.scrollTop + body.clientHeight) body.scrollTop = top + rowHeight - body.clientHeight;
  }

  function ensurePage(index) {
    if (pages.has(index)) return;
    const mine = generation;
    const pending = load(index * PAGE, PAGE).then(({ rows, total: t }) => {
      if (mine !== generation) return;
      pages.set(index, rows);
      if (t !== total) { total = t; }
      render();
    }, (e) => {
      if (mine !== generation) return;
      pages.delete(index);
      message.textContent = e.message;
    });
    pages.set(index, pending);
  }

  function forgetFarPages(near) {
    if (pages.size <= KEEP_PAGES) return;
    const loaded = [...pages.keys()].filter((p) => Array.isArray(pages.get(p)));
    loaded.sort((a, b) => Math.abs(b - near) - Math.abs(a - near));
    for (const p of loaded.slice(0, pages.size - KEEP_PAGES)) pages.delete(p);
  }

  function render() {
    if (total === null) { ensurePage(0); message.textContent = 'Loading…'; return; }
    spacer.style.height = `${total * rowHeight}px`;
    message.textContent = total === 0 ? (empty ?? 'Nothing to show.') : '';
    message.hidden = total !== 0;
    const first = Math.max(0, Math.floor(body.scrollTop / rowHeight) - OVERSCAN);
    const last = Math.min(total, Math.ceil((body.scrollTop + body.clientHeight) / rowHeight) + OVERSCAN);
    for (let p = Math.floor(first / PAGE); p <= Math.floor(Math.max(first, last - 1) / PAGE); p++) ensurePage(p);
    forgetFarPages(Math.floor(first / PAGE));

    // Rows already on screen stay as they are; only rows scrolling into view are built,
    // so a scroll costs a few new elements, not a whole screen of them.
    const next = new Map();
    for (let i = first; i < last; i++) {
      const row = rowAt(i);
      const selected = i === active;
      const old = drawn.get(i);
      if (old && old.row === row && old.selected === selected) {
        next.set(i, old);
        continue;
      }
      const el = row
        ? h('div', { class: 'vrow', role: 'row', testid: rowTestid, dataset: { id: row.id, index: i },
            'aria-rowindex': i + 2, 'aria-selected': String(selected),
            onclick: () => { active = i; onOpen?.(row); } },
          columns.map((c) => h('div', { role: 'gridcell', class: c.class }, c.cell(row))))
        : h('div', { class: 'vrow loading', role: 'row', 'aria-rowindex': i + 2 }, h('div', { class: 'muted' }, '…'));
      el.style.gridTemplateColumns = template;
      el.style.transform = `translateY(${i * rowHeight}px)`;
      el.style.height = `${rowHeight}px`;
      next.set(i, { row, selected, el });
    }
    for (const [i, old] of drawn) if (next.get(i) !== old) old.el.remove();
    for (const d of next.values()) if (d.el.parentNode !== spacer) spacer.append(d.el);
    drawn = next;
    root.setAttribute('aria-rowcount', String(total + 1));
  }

  return {
    el: root,
    // Drops every loaded page and reloads what is in view, keeping the scroll position.
    refresh() {
      generation++;
      pages.clear();
      const mine = generation;
      load(0, PAGE).then(({ rows, total: t }) => {
        if (mine !== generation) return;
        pages.set(0, rows);
        total = t;
        active = Math.min(active, Math.max(0, t - 1));
        render();
      }, (e) => { message.textContent = e.message; });
    },
    get total() { return total; },
    focus() { body.focus(); },
    render,
  };
}
