// Changes made on this computer that need the teacher: conflicts (someone else changed the
// same record first) and changes the server refused. Nothing is overwritten without a
// decision made here (DESIGN §6).

import { call, sentence } from '../ipc.js';
import { h, formatWhen, plural, toast, fill } from '../dom.js';
import { displayName } from '../state.js';
import { show as showStatus } from '../status.js';

function describeRecord(r) {
  if (r.kind === 'learner') {
    return `${displayName(r)} · ${r.username}${r.email ? ` · ${r.email}` : ''} · ${r.active ? 'active' : 'deactivated'}`;
  }
  if (r.kind === 'class') return `${r.name}${r.year_group ? ` · ${r.year_group}` : ''}${r.archived ? ' · archived' : ''}`;
  return r.display_name ?? '';
}

export function changesView({ refreshClasses }) {
  const el = h('section', { class: 'view', testid: 'view-changes' }, h('p', { class: 'muted' }, 'Loading…'));
  const error = h('p', { class: 'notice error', role: 'alert', hidden: true });

  async function render() {
    let conflicts;
    let rejected;
    try {
      [conflicts, rejected] = await Promise.all([call('conflict_list'), call('rejected_list')]);
    } catch (e) {
      fill(el, h('p', { class: 'notice error', role: 'alert' }, e.message));
      return;
    }
    const resolve = async (opId, choice) => {
      error.hidden = true;
      try {
        showStatus(await call('conflict_resolve', { op_id: opId, choice }));
        toast(choice === 'keep_mine' ? 'Your change is being sent again.' : 'The server\'s version is kept.');
        refreshClasses();
        render();
      } catch (e) { error.textContent = e.message; error.hidden = false; }
    };
    const conflictItems = conflicts.map((c) => h('li', { class: 'card stack', testid: 'conflict-item', dataset: { opId: c.mine.id } },
      h('h3', {}, describeRecord(c.theirs)),
      h('p', {}, 'Someone changed this on the server after you made your change here.'),
      h('dl', { class: 'compare' },
        h('dt', {}, 'Your change'), h('dd', { testid: 'conflict-mine' }, c.description, h('span', { class: 'muted' }, ` (${formatWhen(c.made_at)})`)),
        h('dt', {}, 'Now on the server'), h('dd', { testid: 'conflict-theirs' }, describeRecord(c.theirs))),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'primary', testid: 'conflict-keep-mine', onclick: () => resolve(c.mine.id, 'keep_mine') }, 'Keep my change'),
        h('button', { type: 'button', testid: 'conflict-take-theirs', onclick: () => resolve(c.mine.id, 'take_theirs') }, 'Keep the server\'s version'))));
    const rejectedItems = rejected.map((r) => h('li', { class: 'card stack', testid: 'rejected-item' },
      h('h3', {}, r.description),
      h('p', { testid: 'rejected-reason' }, `The server refused this change. ${sentence(r.reason.message)}`),
      h('p', { class: 'muted' }, `Made ${formatWhen(r.made_at)}. It was not applied; make it again if it is still needed.`),
      h('div', { class: 'row' }, h('button', {
        type: 'button', testid: 'rejected-dismiss',
        onclick: async () => {
          try { await call('rejected_dismiss', { op_id: r.id }); render(); } catch (e) { toast(e.message, 'error'); }
        },
      }, 'Dismiss'))));
    fill(el,
      h('header', { class: 'view-head' }, h('div', {}, h('h1', {}, 'Changes waiting'),
        h('p', { class: 'muted' }, 'Changes made on this computer that need you. Changes that are simply waiting for the server are sent by themselves.'))),
      error,
      h('h2', {}, conflicts.length ? plural(conflicts.length, 'conflict', 'conflicts') : 'No conflicts'),
      conflictItems.length ? h('ul', { class: 'plain stack', testid: 'conflict-list' }, conflictItems) : null,
      h('h2', {}, rejected.length ? plural(rejected.length, 'refused change', 'refused changes') : 'No refused changes'),
      rejectedItems.length ? h('ul', { class: 'plain stack', testid: 'rejected-list' }, rejectedItems) : null);
  }
  render();
  return { el, refresh: render };
}
