// A class (or, for lead teachers, the whole school): its details and its learners.

import { call } from '../ipc.js';
import { h, plural, toast, fill } from '../dom.js';
import { state, isLead } from '../state.js';
import { learnerTable } from './learners.js';
import { newLearnerForm } from './learner.js';
import { accessCodesPanel, classResetDialog, schoolExportCard } from './codes.js';

export function classView(classId, { go, refreshClasses }) {
  const cls = classId ? state.classById.get(classId) : null;
  if (classId && !cls) {
    return { el: h('div', { class: 'empty' }, h('p', {}, 'This class is not on this computer any more.')) };
  }
  const title = cls ? cls.name : 'Whole school';
  const table = learnerTable({
    go,
    testid: 'learner-table',
    label: `Learners of ${title}`,
    empty: cls ? 'No learners in this class yet.' : 'No learners in the school yet.',
    load: async (offset, limit) => {
      const page = await call('class_learners', { class_id: classId, offset, limit });
      count.textContent = plural(page.total, 'learner', 'learners');
      return { rows: page.learners, total: page.total };
    },
  });
  const count = h('span', { class: 'muted', testid: 'class-count' });
  const teachers = cls?.teachers.map((t) => t.display_name).join(', ');
  const formSlot = h('div');
  const addButton = h('button', {
    type: 'button', testid: 'learner-add',
    onclick: () => {
      fill(formSlot, newLearnerForm({
        classId, go,
        done: () => { formSlot.replaceChildren(); table.refresh(); refreshClasses(); },
      }));
      formSlot.querySelector('input')?.focus();
    },
  }, 'Add learner');
  // Two tabs for a class: its learners, and their access codes (fetched from the server
  // only when opened, since showing them is recorded).
  const body = h('div', { class: 'view fill' }, formSlot, table.el);
  let codes = null;
  const tabLearners = h('button', { type: 'button', role: 'tab', 'aria-selected': 'true', testid: 'class-tab-learners' }, 'Learners');
  const tabCodes = h('button', { type: 'button', role: 'tab', 'aria-selected': 'false', testid: 'class-tab-codes' }, 'Access codes');
  const showTab = (which) => {
    tabLearners.setAttribute('aria-selected', String(which === 'learners'));
    tabCodes.setAttribute('aria-selected', String(which === 'codes'));
    if (which === 'learners') {
      fill(body, formSlot, table.el);
      table.refresh();
      return;
    }
    codes = accessCodesPanel(cls, {
      onReset: async (reload) => {
        const dialog = await classResetDialog(cls, {
          done: () => { dialog.remove(); reload(); table.refresh(); },
          cancel: () => dialog.remove(),
        });
        codes.el.prepend(dialog);
        dialog.querySelector('input')?.focus();
      },
    });
    fill(body, codes.el);
  };
  tabLearners.addEventListener('click', () => showTab('learners'));
  tabCodes.addEventListener('click', () => showTab('codes'));
  const el = h('section', { class: 'view fill', testid: 'view-class' },
    h('header', { class: 'view-head' },
      h('div', {},
        h('h1', { testid: 'class-title' }, title),
        h('p', { class: 'muted' },
          cls?.year_group ? `${cls.year_group} · ` : '',
          cls ? (teachers ? `Taught by ${teachers}` : 'No teacher assigned') : state.me.school_name,
          ' · ', count)),
      h('div', { class: 'actions' },
        (cls || isLead()) ? addButton : null,
        cls ? h('button', {
          type: 'button', testid: 'class-message',
          onclick: () => go({ name: 'message', class: classId, back: { name: 'class', id: classId } }),
        }, 'Send sign-in links…') : null,
        cls ? classDetails(cls, refreshClasses) : null,
        !cls && isLead() ? schoolExportCard() : null)),
    cls ? h('div', { class: 'tabs', role: 'tablist' }, tabLearners, tabCodes) : null,
    body);
  table.render();
  return { el, refresh: () => table.refresh(), focus: () => table.focus() };
}

// Rename, year group and (lead teachers) archive, in a small drop-down panel.
function classDetails(cls, refreshClasses) {
  const name = h('input', { value: cls.name, testid: 'class-name-input', required: true });
  const year = h('input', { value: cls.year_group ?? '', testid: 'class-year-input', placeholder: 'e.g. Year 4' });
  const error = h('p', { class: 'notice error', role: 'alert', hidden: true });
  const save = async (edit) => {
    error.hidden = true;
    try {
      await call('class_update', { class_id: cls.id, edit });
      toast('Class saved.');
      await refreshClasses();
    } catch (e) { error.textContent = e.message; error.hidden = false; }
  };
  return h('details', { class: 'dropdown' },
    h('summary', { testid: 'class-details' }, 'Class details'),
    h('form', {
      class: 'card stack',
      onsubmit: (e) => {
        e.preventDefault();
        save({ name: name.value.trim(), year_group: year.value.trim() || null });
      },
    },
    h('label', {}, 'Class name', name),
    h('label', {}, 'Year group', year),
    error,
    h('div', { class: 'row' },
      h('button', { type: 'submit', class: 'primary', testid: 'class-save' }, 'Save'),
      isLead() ? h('button', {
        type: 'button', testid: 'class-archive',
        onclick: () => save({ archived: !cls.archived }),
      }, cls.archived ? 'Restore class' : 'Archive class') : null)));
}
