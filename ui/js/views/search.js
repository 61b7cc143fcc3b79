// Search as you type over every learner this user may see (names, username, email;
// accents and case ignored — the replica's index does the folding).

import { call } from '../ipc.js';
import { h, plural } from '../dom.js';
import { learnerTable } from './learners.js';

const LIMIT = 500;

export function searchView(initial, { go }) {
  let query = initial;
  let results = Promise.resolve([]);
  const summary = h('p', { class: 'muted', testid: 'search-summary' });
  const table = learnerTable({
    go,
    testid: 'search-results',
    label: 'Search results',
    empty: 'No learner matches. Check the spelling, or search for part of a name.',
    load: async (offset, limit) => {
      const rows = await results;
      return { rows: rows.slice(offset, offset + limit), total: rows.length };
    },
  });
  function run() {
    const asked = query;
    results = call('learner_search', { query: asked, limit: LIMIT }).then((rows) => {
      if (asked === query) {
        summary.textContent = rows.length >= LIMIT
          ? `The first ${LIMIT} learners matching “${asked}”: type more to narrow it down.`
          : `${plural(rows.length, 'learner', 'learners')} matching “${asked}”`;
      }
      return rows;
    });
    table.refresh();
  }
  const el = h('section', { class: 'view fill', testid: 'view-search' },
    h('header', { class: 'view-head' }, h('div', {}, h('h1', {}, 'Search'), summary)),
    table.el);
  run();
  return {
    el,
    update(q) { query = q; run(); },
    refresh: run,
    focus: () => table.focus(),
  };
}
