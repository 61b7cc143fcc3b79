// The sync status, always visible in the top bar (DESIGN §6): online / offline /
// N changes waiting / conflicts. Reading it is a local call, so it is polled.

import { call, sentence } from './ipc.js';
import { plural } from './dom.js';

const POLL_MS = 2000;
let last = null;
const listeners = new Set();

export function onStatus(fn) { listeners.add(fn); }

export function describe(s) {
  const parts = [];
  if (s.connection === 'offline') parts.push('Offline');
  else if (s.connection === 'online') parts.push('Online');
  else parts.push('Connecting…');
  if (s.conflicts > 0) parts.push(`${plural(s.conflicts, 'conflict', 'conflicts')} to resolve`);
  if (s.waiting > 0) parts.push(`${plural(s.waiting, 'change', 'changes')} waiting`);
  if (s.rejected > 0) parts.push(`${plural(s.rejected, 'change', 'changes')} refused`);
  if (parts.length === 1 && s.connection === 'online') parts.push('up to date');
  return parts.join(' · ');
}

export function show(s) {
  const el = document.getElementById('sync-status');
  el.textContent = describe(s);
  el.dataset.connection = s.connection;
  el.dataset.waiting = String(s.waiting);
  el.dataset.conflicts = String(s.conflicts);
  el.dataset.rejected = String(s.rejected);
  el.title = s.problem ? sentence(s.problem.message) : 'Sync status: click to see changes waiting and conflicts';
  const count = document.getElementById('changes-count');
  const n = s.waiting + s.conflicts + s.rejected;
  count.textContent = n > 0 ? String(n) : '';
  const changed = last === null || ['connection', 'waiting', 'conflicts', 'rejected', 'received']
    .some((k) => last[k] !== s[k]);
  last = s;
  if (changed) for (const fn of listeners) fn(s);
}

export async function refreshStatus() {
  try { show(await call('sync_status')); } catch { /* shown at the next poll */ }
}

let timer;
export function startPolling() {
  stopPolling();
  refreshStatus();
  timer = setInterval(refreshStatus, POLL_MS);
}
export function stopPolling() { clearInterval(timer); last = null; }
