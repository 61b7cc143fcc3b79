// The audit log: who showed, reset, downloaded or printed whose codes, when and from which
// device. Lead teachers see the whole school's; teachers the entries about their classes'
// learners and their own.

import { call } from '../ipc.js';
import { h, formatWhen, plural } from '../dom.js';
import { isLead } from '../state.js';

export function auditView() {
  const body = h('tbody');
  const more = h('button', { type: 'button', testid: 'audit-more', hidden: true }, 'Older entries');
  const error = h('p', { class: 'notice error', role: 'alert', testid: 'audit-error', hidden: true });
  let next = null;

  async function load(before) {
    try {
      const page = await call('audit_list', { before, learner_id: null });
      for (const entry of page.items) {
        const who = entry.learners.length === 1 && entry.learner_count === 1
          ? `${entry.learners[0].name} (${entry.learners[0].username})`
          : plural(entry.learner_count, 'learner', 'learners');
        const detail = entry.detail?.mode ? ` · ${entry.detail.mode === 'same' ? 'one password for all' : 'one each'}` : '';
        body.append(h('tr', { testid: 'audit-row', dataset: { action: entry.action } },
          h('td', {}, formatWhen(entry.at)),
          h('td', {}, entry.actor === 'server' ? 'ClassKeys server' : entry.actor_name ?? '—'),
          h('td', {}, entry.what, detail),
          h('td', {}, entry.class_name ?? ''),
          h('td', {}, who),
          h('td', { class: 'muted' }, entry.device ?? '')));
      }
      if (page.items.length === 0 && !before) {
        body.append(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'Nothing recorded yet.')));
      }
      next = page.next;
      more.hidden = !next;
    } catch (e) { error.textContent = e.message; error.hidden = false; }
  }
  more.addEventListener('click', () => load(next));

  const el = h('section', { class: 'view', testid: 'view-audit' },
    h('header', { class: 'view-head' }, h('div', {},
      h('h1', {}, 'Audit log'),
      h('p', { class: 'muted' }, isLead()
        ? 'Every password shown or set, every download and card print in the school, newest first.'
        : 'Passwords shown or set, downloads and card prints for the learners of your classes, newest first.'))),
    error,
    h('table', { class: 'plain-table', testid: 'audit-table' },
      h('thead', {}, h('tr', {}, ...['When', 'Who', 'What', 'Class', 'Learners', 'Device'].map((t) => h('th', {}, t)))),
      body),
    more);
  load(null);
  return { el };
}
