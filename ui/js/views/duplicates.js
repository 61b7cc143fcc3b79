// Likely duplicate accounts among the learners this teacher may see: the same name in a
// class (or left behind deactivated), or email addresses that differ only by capitals, dots
// or one letter. Where one holds an address the other lacks, the address can be moved to
// the account the learner uses, in one step.

import { call } from '../ipc.js';
import { h, fill, toast } from '../dom.js';

const WHY = {
  same_name: (pair) => (pair.shared_class ? 'Same name, same class' : 'Same name, one of them deactivated'),
  email_case: () => 'Email addresses differ only by capital letters',
  email_dots: () => 'Email addresses differ only by dots',
  email_one_letter: () => 'Email addresses differ by one letter',
};

export function duplicatesView({ go }) {
  const el = h('section', { class: 'view', testid: 'view-duplicates' }, h('p', { class: 'muted' }, 'Looking…'));

  async function load() {
    let list;
    try { list = await call('learner_duplicates'); } catch (e) {
      fill(el, head(), h('p', { class: 'notice error', role: 'alert', testid: 'duplicates-error' }, e.message));
      return;
    }
    fill(el, head(),
      list.pairs.length === 0
        ? h('p', { class: 'muted', testid: 'duplicates-none' }, 'No likely duplicates among the learners you can see.')
        : h('ul', { class: 'plain findings', testid: 'duplicates-list' }, list.pairs.map(pairRow)),
      list.truncated ? h('p', { class: 'muted' }, `Only the first ${list.pairs.length} pairs are listed.`) : null);
  }

  function account(learner) {
    return h('div', { class: 'row wrap' },
      h('button', { type: 'button', class: 'link', onclick: () => go({ name: 'learner', id: learner.id }) },
        `${learner.given_name} ${learner.family_name}`),
      h('span', { class: 'mono' }, learner.username),
      h('span', { class: 'muted' }, learner.email ?? 'no email'),
      learner.active ? null : h('span', { class: 'badge off' }, 'deactivated'));
  }

  function pairRow(pair) {
    const { first, second } = pair;
    // The address goes to the account without one, or to the active one.
    const [from, to] = !second.email || (first.email && !first.active && second.active) ? [first, second] : [second, first];
    const movable = from.email && from.id !== to.id && (!to.email || !from.active);
    const error = h('p', { class: 'notice error', role: 'alert', hidden: true });
    return h('li', { class: 'finding warning', testid: 'duplicate-pair', dataset: { first: first.username, second: second.username } },
      h('h3', {}, WHY[pair.resemblance](pair)),
      account(first), account(second),
      movable ? h('div', { class: 'row' },
        h('button', {
          type: 'button', testid: 'duplicate-move-email',
          onclick: async (e) => {
            e.currentTarget.disabled = true;
            try {
              await call('learner_email_move', { learner_id: to.id, from: from.id });
              toast(`${from.email} is now ${to.username}'s.`);
              load();
            } catch (err) {
              error.textContent = err.message;
              error.hidden = false;
              e.currentTarget.disabled = false;
            }
          },
        }, `Move ${from.email} to ${to.username}`)) : null,
      error);
  }

  function head() {
    return h('header', { class: 'view-head' },
      h('div', {},
        h('h1', {}, 'Possible duplicate accounts'),
        h('p', { class: 'muted' }, 'Two accounts that may be one learner. Deactivating an account does not free its email address: move it to the account the learner uses.')),
      h('div', { class: 'actions' }, h('button', { type: 'button', onclick: load }, 'Check again')));
  }

  load();
  return { el };
}
