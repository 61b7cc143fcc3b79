// Lead teachers: the staff list, who teaches which class, and new classes.

import { call } from '../ipc.js';
import { h, toast, fill } from '../dom.js';
import { state } from '../state.js';

export function staffView({ refreshClasses }) {
  const el = h('section', { class: 'view', testid: 'view-staff' }, h('p', { class: 'muted' }, 'Loading…'));
  const error = h('p', { class: 'notice error', role: 'alert', testid: 'staff-error', hidden: true });

  async function run(command, args, done) {
    error.hidden = true;
    try {
      await call(command, args);
      toast(done);
      await refreshClasses();
      await render();
    } catch (e) { error.textContent = e.message; error.hidden = false; }
  }

  async function render() {
    let staff;
    try { staff = await call('staff_list'); } catch (e) {
      fill(el, h('p', { class: 'notice error', role: 'alert' }, e.message));
      return;
    }
    const teachers = staff.filter((s) => s.active);
    const classRows = state.classes.map((c) => {
      const assigned = new Set(c.teachers.map((t) => t.id));
      const free = teachers.filter((s) => !assigned.has(s.id));
      const pick = h('select', { 'aria-label': `Teacher to assign to ${c.name}`, testid: 'assign-teacher-select' },
        free.map((s) => h('option', { value: s.id }, `${s.display_name} (${s.username})`)));
      return h('tr', { testid: 'staff-class-row', dataset: { classId: c.id, className: c.name } },
        h('th', { scope: 'row' }, c.name, c.archived ? h('span', { class: 'badge' }, 'archived') : null),
        h('td', {}, c.teachers.length ? c.teachers.map((t) => h('span', { class: 'chip', testid: 'assigned-teacher', dataset: { username: t.username } },
          t.display_name,
          h('button', {
            type: 'button', class: 'chip-x', 'aria-label': `Take ${t.display_name} off ${c.name}`, testid: 'unassign-teacher',
            onclick: () => run('class_unassign_teacher', { class_id: c.id, staff_id: t.id }, `${t.display_name} no longer teaches ${c.name}.`),
          }, '×'))) : h('span', { class: 'muted' }, 'No teacher')),
        h('td', {}, free.length ? h('span', { class: 'row' }, pick, h('button', {
          type: 'button', testid: 'assign-teacher',
          onclick: () => run('class_assign_teacher', { class_id: c.id, staff_id: pick.value }, `Assigned to ${c.name}.`),
        }, 'Assign')) : null));
    });

    const name = h('input', { name: 'name', required: true, testid: 'new-class-name', placeholder: 'e.g. 4B' });
    const year = h('input', { name: 'year_group', testid: 'new-class-year', placeholder: 'e.g. Year 4' });
    const newClass = h('form', {
      class: 'row wrap',
      onsubmit: (e) => {
        e.preventDefault();
        run('class_create', { name: name.value.trim(), year_group: year.value.trim() || null }, 'Class added.');
      },
    }, h('label', {}, 'New class', name), h('label', {}, 'Year group', year),
    h('button', { type: 'submit', class: 'primary', testid: 'new-class-save' }, 'Add class'));

    fill(el,
      h('header', { class: 'view-head' }, h('div', {}, h('h1', {}, 'Staff and classes'),
        h('p', { class: 'muted' }, 'Who teaches which class. Teachers see only the classes assigned to them.'))),
      error,
      h('section', { class: 'card stack' }, h('h2', {}, 'Classes'),
        h('table', { class: 'plain-table', testid: 'staff-classes' },
          h('thead', {}, h('tr', {}, h('th', {}, 'Class'), h('th', {}, 'Teachers'), h('th', {}, 'Assign'))),
          h('tbody', {}, classRows)),
        newClass),
      h('section', { class: 'card stack' }, h('h2', {}, 'Staff'),
        h('table', { class: 'plain-table', testid: 'staff-list' },
          h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Username'), h('th', {}, 'Role'), h('th', {}, 'Classes'))),
          h('tbody', {}, staff.map((s) => h('tr', { testid: 'staff-row' },
            h('td', {}, s.display_name, s.active ? null : h('span', { class: 'badge off' }, 'deactivated')),
            h('td', { class: 'mono' }, s.username),
            h('td', {}, s.role === 'lead_teacher' ? 'Lead teacher' : 'Teacher'),
            h('td', {}, state.classes.filter((c) => c.teachers.some((t) => t.id === s.id)).map((c) => c.name).join(', ')))))),
        h('p', { class: 'muted' }, 'Staff accounts are added by your school\'s IT admin on the server.')));
  }

  render();
  return { el, refresh: render };
}
