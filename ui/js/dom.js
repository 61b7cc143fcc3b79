// Building DOM without HTML strings: every string becomes a text node, so a learner named
// `<img src=x onerror=alert(1)>` is shown as exactly that text (DESIGN §7). Nothing in the
// UI assigns innerHTML.

// h('div', { class: 'x', dataset: { testid: 'y' }, onclick: f }, 'text', child, …)
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'testid') el.dataset.testid = value;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'value') el.value = value;
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.append(child);
    else el.append(document.createTextNode(String(child)));
  }
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

// Replaces el's children, skipping null, undefined and false as h() does: the DOM's own
// replaceChildren would show a null as the text "null".
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const $ = (selector, root = document) => root.querySelector(selector);

// "22 Nov, 09:14" (with the year when it is not this one), in the teacher's own locale, from
// RFC 3339 text or Unix milliseconds (as the server sends them); '' for none.
const thisYear = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
const otherYear = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
export function formatWhen(when) {
  if (when === null || when === undefined) return '';
  const d = new Date(when);
  if (Number.isNaN(d.getTime())) return '';
  return (d.getFullYear() === new Date().getFullYear() ? thisYear : otherYear).format(d);
}

export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

// Puts `text` on the clipboard and says so; `what` names it ("Username").
export async function copy(text, what) {
  try {
    await navigator.clipboard.writeText(text);
    toast(`${what} copied.`);
  } catch {
    toast(`Could not copy the ${what.toLowerCase()}: select it and copy it by hand.`, 'error');
  }
}

// What became of a message, as a teacher reads it.
export const MAIL_STATES = {
  queued: 'Waiting to be sent',
  sent: 'Sent',
  refused: 'Refused by the mail server',
  failed: 'Could not be delivered',
};

let toastTimer;
// A short message at the bottom of the window, read out by screen readers.
export function toast(message, kind = 'info') {
  const el = document.getElementById('toast');
  el.textContent = message;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, kind === 'error' ? 8000 : 4000);
}
