// The learner table used by the class, whole-school and search screens.

import { h, formatWhen } from '../dom.js';
import { virtualTable } from '../table.js';
import { fullName, classNames } from '../state.js';

export function learnerTable({ load, go, testid, label, empty }) {
  return virtualTable({
    testid,
    rowTestid: 'learner-row',
    label,
    empty,
    load,
    onOpen: (learner) => go({ name: 'learner', id: learner.id }),
    columns: [
      { title: 'Name', width: 'minmax(10rem, 2fr)', class: 'strong', cell: (l) => h('span', { testid: 'learner-name' }, fullName(l)) },
      { title: 'Username', width: 'minmax(8rem, 1.3fr)', class: 'mono', cell: (l) => h('span', { testid: 'learner-username' }, l.username) },
      { title: 'Classes', width: 'minmax(6rem, 1.3fr)', cell: (l) => classNames(l) },
      { title: 'Active', width: '6rem', cell: (l) => l.active ? 'Active' : h('span', { class: 'badge off' }, 'Deactivated') },
      { title: 'Last change', width: 'minmax(8rem, 1fr)', class: 'muted', cell: (l) => formatWhen(l.updated_at) },
    ],
  });
}
