// Start-up, sign-in and navigation. Each screen lives in its own module under views/ and
// renders into <main>; this module decides which one, and keeps the class list and the
// sync status current.

import { call, sentence } from './ipc.js';
import { h, clear, toast } from './dom.js';
import { state, isLead, loadClasses } from './state.js';
import { onStatus, show as showStatus, startPolling, stopPolling, refreshStatus } from './status.js';
import { classView } from './views/class.js';
import { learnerView } from './views/learner.js';
import { searchView } from './views/search.js';
import { staffView } from './views/staff.js';
import { changesView } from './views/changes.js';
import { auditView } from './views/audit.js';
import { whyView } from './views/why.js';
import { messageView } from './views/message.js';
import { duplicatesView } from './views/duplicates.js';
import { importView } from './views/import.js';

const main = document.getElementById('main');
const searchBox = document.getElementById('search');
let current = null; // { route, view } of the screen on show
let previous = null; // the last list screen: where Escape from search goes back to

// --- navigation -----------------------------------------------------------------------

export function go(route) {
  const from = current?.route ?? null;
  if (route.name === 'search') searchBox.value = route.query;
  else if (!['learner', 'why', 'message'].includes(route.name)) {
    previous = route;
    searchBox.value = '';
  }
  current?.view?.leave?.();
  const view = makeView(route, from);
  clear(main).append(view.el);
  current = { route, view };
  markSelected(route);
}

function makeView(route, from) {
  switch (route.name) {
    case 'class': return classView(route.id, { go, refreshClasses });
    case 'school': return classView(null, { go, refreshClasses });
    case 'learner': {
      // "Back" returns to the list the learner was opened from (a class, or the search).
      const back = from && from.name !== 'learner' ? from : previous;
      return learnerView(route.id, { go, refreshClasses, back });
    }
    case 'search': return searchView(route.query, { go });
    case 'staff': return staffView({ go, refreshClasses });
    case 'changes': return changesView({ go, refreshClasses });
    case 'audit': return auditView();
    case 'why': return whyView(route.id, { go, refreshClasses });
    case 'message': return messageView(route, { go });
    case 'duplicates': return duplicatesView({ go });
    case 'import': return importView({ refreshClasses });
    default: return { el: h('div', { class: 'empty' }, h('p', {}, 'Choose a class on the left.')) };
  }
}

function markSelected(route) {
  for (const el of document.querySelectorAll('.sidebar [aria-current]')) el.removeAttribute('aria-current');
  let selector = null;
  if (route.name === 'class') selector = `[data-class-id="${CSS.escape(route.id)}"]`;
  if (route.name === 'school') selector = '[data-testid="class-item-whole-school"]';
  if (['staff', 'import', 'changes', 'audit', 'duplicates'].includes(route.name)) selector = `[data-route="${route.name}"]`;
  if (selector) document.querySelector(`.sidebar ${selector}`)?.setAttribute('aria-current', 'page');
}

// --- the class list -------------------------------------------------------------------

async function refreshClasses() {
  let classes;
  try { classes = await loadClasses(); } catch (e) { toast(e.message, 'error'); return; }
  const list = clear(document.getElementById('class-list'));
  if (isLead()) {
    list.append(h('li', {}, h('button', {
      type: 'button', class: 'nav-item', testid: 'class-item-whole-school',
      onclick: () => go({ name: 'school' }),
    }, h('span', { class: 'name' }, 'Whole school'))));
  }
  for (const c of classes) {
    list.append(h('li', {}, h('button', {
      type: 'button', class: `nav-item${c.archived ? ' archived' : ''}`, testid: 'class-item',
      dataset: { classId: c.id, className: c.name },
      onclick: () => go({ name: 'class', id: c.id }),
    },
    h('span', { class: 'name' }, c.name),
    c.archived ? h('span', { class: 'badge' }, 'archived') : null,
    h('span', { class: 'count', title: 'learners' }, String(c.learner_count)))));
  }
  if (classes.length === 0) {
    list.append(h('li', { class: 'muted pad', testid: 'class-list-empty' },
      isLead() ? 'No classes yet: add one under Staff and classes.'
        : 'You have no classes yet. A lead teacher assigns classes to you.'));
  }
  if (current) markSelected(current.route);
}

// --- sign-in and start ----------------------------------------------------------------

// Records (once) when a screen was first painted, as a standard performance mark: the
// start-up benchmark reads it (tests/benches/desktop.rs). Two frames later the new DOM
// has been painted.
function markShown(name) {
  if (performance.getEntriesByName(name).length > 0) return;
  requestAnimationFrame(() => requestAnimationFrame(() => performance.mark(name)));
}

async function start() {
  wireShell();
  let info = { server_hint: null, credential_store_problem: null };
  try { info = await call('app_info'); } catch (e) { toast(e.message, 'error'); }
  const warning = document.getElementById('credential-warning');
  if (info.credential_store_problem) {
    warning.textContent = sentence(info.credential_store_problem.message);
    warning.hidden = false;
  }
  if (info.server_hint) document.getElementById('sign-in-server').value = info.server_hint;
  try {
    const me = await call('session_resume');
    if (me) { await enter(me); return; }
  } catch (e) {
    showSignIn(e.message);
    return;
  }
  showSignIn();
}

function showSignIn(message) {
  stopPolling();
  document.getElementById('shell').hidden = true;
  document.getElementById('sign-in').hidden = false;
  markShown('classkeys:sign-in');
  const error = document.getElementById('sign-in-error');
  error.hidden = !message;
  error.textContent = message ?? '';
  const server = document.getElementById('sign-in-server');
  (server.value ? document.getElementById('sign-in-username') : server).focus();
}

async function signIn(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const button = document.getElementById('sign-in-submit');
  const error = document.getElementById('sign-in-error');
  const value = (name) => form.elements[name].value;
  const missing = ['server', 'username', 'password'].find((n) => value(n).trim() === '');
  if (missing) {
    error.textContent = `Enter your ${missing === 'server' ? 'server address' : missing}.`;
    error.hidden = false;
    form.elements[missing].focus();
    return;
  }
  button.disabled = true;
  button.textContent = 'Signing in…';
  error.hidden = true;
  try {
    const me = await call('session_sign_in', {
      server: value('server').trim(), school: value('school').trim() || null,
      username: value('username').trim(), password: value('password'),
    });
    form.elements.password.value = '';
    await enter(me);
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
    form.elements[e.code === 'invalid_credentials' ? 'password' : 'server'].focus();
  } finally {
    button.disabled = false;
    button.textContent = 'Sign in';
  }
}

async function enter(me) {
  state.me = me;
  document.getElementById('sign-in').hidden = true;
  document.getElementById('shell').hidden = false;
  document.getElementById('whoami').textContent = me.display_name;
  document.getElementById('whoami').title = `${me.username} · ${me.role === 'lead_teacher' ? 'lead teacher' : 'teacher'}`;
  document.getElementById('school-name').textContent = me.school_name;
  document.getElementById('lead-nav').hidden = !isLead();
  await refreshClasses();
  markShown('classkeys:class-list');
  startPolling();
  // The first screen comes from this computer's copy; fetching what changed meanwhile
  // must not hold it up (offline, it would wait for the network to give up).
  call('sync_now').then(showStatus, () => refreshStatus());
  if (isLead()) go({ name: 'school' });
  else if (state.classes.length > 0) go({ name: 'class', id: state.classes[0].id });
  else go({ name: 'none' });
}

async function signOut() {
  const waiting = Number(document.getElementById('sync-status').dataset.waiting ?? 0);
  if (waiting > 0 && !window.confirm(`${waiting} change(s) have not reached the server yet and will be lost if you sign out now. Sign out anyway?`)) return;
  try { await call('session_sign_out'); } catch (e) { toast(e.message, 'error'); return; }
  state.me = null;
  current?.view?.leave?.();
  current = null;
  clear(main);
  clear(document.getElementById('class-list'));
  showSignIn();
}

function wireShell() {
  document.getElementById('sign-in-form').addEventListener('submit', signIn);
  document.getElementById('sign-out').addEventListener('click', signOut);
  document.getElementById('sync-status').addEventListener('click', () => go({ name: 'changes' }));
  for (const el of document.querySelectorAll('[data-route]')) {
    el.addEventListener('click', () => go({ name: el.dataset.route }));
  }
  const syncNow = document.getElementById('sync-now');
  syncNow.addEventListener('click', async () => {
    syncNow.disabled = true;
    try { showStatus(await call('sync_now')); } catch (err) { toast(err.message, 'error'); }
    finally { syncNow.disabled = false; }
  });

  const search = searchBox;
  search.addEventListener('input', () => {
    const query = search.value;
    if (query.trim() === '') { if (current?.route.name === 'search' && previous) go(previous); return; }
    if (current?.route.name === 'search') {
      current.route.query = query;
      current.view.update(query);
    } else {
      go({ name: 'search', query });
    }
  });
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { search.value = ''; if (previous) go(previous); }
    if (e.key === 'ArrowDown' || e.key === 'Enter') { current?.view?.focus?.(); e.preventDefault(); }
  });
  document.addEventListener('keydown', (e) => {
    const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement
      || e.target instanceof HTMLSelectElement;
    if (e.key === '/' && !typing && !document.getElementById('shell').hidden) {
      e.preventDefault();
      search.focus();
      search.select();
    }
  });

  // What the server sent while we were looking: refresh the lists (not open forms).
  onStatus((s) => {
    if (!state.me) return;
    if (s.problem?.code === 'unauthenticated') {
      // The server ended the session (expired, or the account was deactivated).
      state.me = null;
      current?.view?.leave?.();
      current = null;
      showSignIn(sentence(s.problem.message));
      return;
    }
    refreshClasses();
    current?.view?.refresh?.();
  });
}

start();
