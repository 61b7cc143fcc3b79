// One learner: names, username and email; classes (add, remove, move); deactivate and
// reactivate. Also the "Add learner" form used by the class screens.

import { call } from '../ipc.js';
import { h, formatWhen, toast, fill } from '../dom.js';
import { state, displayName, isLead } from '../state.js';
import { learnerPasswordCard } from './codes.js';

export function learnerView(learnerId, { go, refreshClasses, back }) {
  const el = h('section', { class: 'view', testid: 'view-learner' }, h('p', { class: 'muted' }, 'Loading…'));
  let learner = null;

  async function load() {
    try { learner = await call('learner_get', { learner_id: learnerId }); } catch (e) {
      fill(el, h('p', { class: 'notice error', role: 'alert', testid: 'learner-error' }, e.message));
      return;
    }
    render();
  }

  // Runs an edit; on success shows the record as the edit left it.
  async function act(command, args, done, error) {
    error.hidden = true;
    try {
      learner = await call(command, { learner_id: learnerId, ...args });
      toast(done);
      render();
      refreshClasses();
      return true;
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
      return false;
    }
  }

  function render() {
    const field = (label, name, value, attrs = {}) => h('label', {}, label,
      h('input', { name, value: value ?? '', testid: `learner-${name.replaceAll('_', '-')}`, spellcheck: 'false', ...attrs }));
    const formError = h('p', { class: 'notice error', role: 'alert', testid: 'learner-error', hidden: true });
    const form = h('form', {
      class: 'card stack',
      onsubmit: async (e) => {
        e.preventDefault();
        const f = e.currentTarget.elements;
        const edit = {};
        for (const key of ['given_name', 'family_name', 'username']) {
          const v = f[key].value.trim();
          if (v !== learner[key]) edit[key] = v;
        }
        const email = f.email.value.trim() || null;
        if (email !== (learner.email ?? null)) edit.email = email;
        if (Object.keys(edit).length === 0) { toast('Nothing to save: no field changed.'); return; }
        await act('learner_update', { edit }, 'Saved.', formError);
      },
    },
    h('h2', {}, 'Details'),
    h('div', { class: 'grid2' },
      field('Given name', 'given_name', learner.given_name, { required: true }),
      field('Family name', 'family_name', learner.family_name, { required: true }),
      field('Username', 'username', learner.username, { required: true, autocapitalize: 'off' }),
      field('Email', 'email', learner.email, { type: 'email', placeholder: 'none' })),
    formError,
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary', testid: 'learner-save' }, 'Save changes')));

    const classError = h('p', { class: 'notice error', role: 'alert', testid: 'learner-class-error', hidden: true });
    const others = state.classes.filter((c) => !learner.classes.includes(c.id) && !c.archived);
    const options = (prompt, list) => [h('option', { value: '', disabled: true, selected: true }, prompt),
      ...list.map((c) => h('option', { value: c.id }, c.name))];
    const chosen = (select) => {
      if (select.value) return true;
      classError.textContent = 'Choose a class first.';
      classError.hidden = false;
      select.focus();
      return false;
    };
    const enrolSelect = h('select', { testid: 'learner-enrol-class', 'aria-label': 'Class to add to' }, options('Add to class…', others));
    const classRows = learner.classes.map((id) => {
      const c = state.classById.get(id);
      const moveSelect = h('select', { 'aria-label': `Class to move to from ${c?.name ?? 'this class'}`, testid: 'learner-move-to' }, options('Move to…', others));
      return h('li', { class: 'class-row', testid: 'learner-class', dataset: { classId: id } },
        h('span', { class: 'name' }, c?.name ?? 'A class you do not teach'),
        c ? h('span', { class: 'row' },
          others.length ? [moveSelect, h('button', {
            type: 'button', testid: 'learner-move',
            onclick: () => chosen(moveSelect) && act('learner_move', { from: id, to: moveSelect.value }, 'Moved.', classError),
          }, 'Move')] : null,
          h('button', {
            type: 'button', testid: 'learner-unenrol',
            onclick: () => act('learner_unenrol', { class_id: id }, `Removed from ${c.name}.`, classError),
          }, 'Remove from class')) : null);
    });
    const classes = h('section', { class: 'card stack' },
      h('h2', {}, 'Classes'),
      classRows.length ? h('ul', { class: 'plain' }, classRows) : h('p', { class: 'muted' }, 'Not in any class you can see.'),
      others.length ? h('div', { class: 'row' }, enrolSelect, h('button', {
        type: 'button', testid: 'learner-enrol',
        onclick: () => chosen(enrolSelect) && act('learner_enrol', { class_id: enrolSelect.value }, 'Added to class.', classError),
      }, 'Add')) : null,
      classError);

    const activeError = h('p', { class: 'notice error', role: 'alert', hidden: true });
    const account = h('section', { class: 'card stack' },
      h('h2', {}, 'Account'),
      h('p', {}, learner.active
        ? 'Active: this learner can sign in.'
        : 'Deactivated: this learner cannot sign in. Their username and email stay reserved.'),
      h('div', { class: 'row' }, learner.active
        ? h('button', { type: 'button', class: 'danger', testid: 'learner-deactivate',
          onclick: () => act('learner_set_active', { active: false }, 'Deactivated.', activeError) }, 'Deactivate')
        : h('button', { type: 'button', testid: 'learner-reactivate',
          onclick: () => act('learner_set_active', { active: true }, 'Reactivated.', activeError) }, 'Reactivate')),
      activeError);

    fill(el,
      h('header', { class: 'view-head' },
        h('div', {},
          back ? h('button', { type: 'button', class: 'link', testid: 'back', onclick: () => go(back) }, '← Back') : null,
          h('h1', { testid: 'learner-title' }, displayName(learner)),
          h('p', { class: 'muted' },
            h('span', { class: 'mono' }, learner.username), ' · ',
            learner.active ? 'Active' : h('span', { class: 'badge off' }, 'Deactivated'), ' · ',
            `Last change ${formatWhen(learner.updated_at)}`)),
        h('div', { class: 'actions' },
          h('button', { type: 'button', testid: 'learner-why', onclick: () => go({ name: 'why', id: learnerId }) },
            "Why can't they sign in?"),
          learner.active ? h('button', {
            type: 'button', testid: 'learner-instructions',
            title: 'How to sign in, with their username (no password), for their parents',
            onclick: async () => {
              try {
                const saved = await call('instructions_save', { class_id: null, learner_id: learnerId, paper: 'a4' });
                if (saved) toast(`Saved the instructions to ${saved.path}.`);
              } catch (e) { toast(e.message, 'error'); }
            },
          }, 'Instructions for parents (PDF)') : null,
          learner.active ? h('button', {
            type: 'button', testid: 'learner-message',
            onclick: () => go({ name: 'message', learners: [learnerId], back: { name: 'learner', id: learnerId } }),
          }, 'Send a sign-in link…') : null)),
      form,
      learner.active ? learnerPasswordCard(learner, { changed: () => refreshClasses() }) : null,
      classes, account);
  }

  load();
  return { el };
}

// "Add learner": names, optional username and email; into `classId` when given.
export function newLearnerForm({ classId, go, done }) {
  const error = h('p', { class: 'notice error', role: 'alert', testid: 'new-learner-error', hidden: true });
  const input = (label, name, attrs = {}) => h('label', {}, label,
    h('input', { name, testid: `new-learner-${name.replaceAll('_', '-')}`, spellcheck: 'false', ...attrs }));
  const form = h('form', {
    class: 'card stack', testid: 'new-learner-form',
    onsubmit: async (e) => {
      e.preventDefault();
      const f = e.currentTarget.elements;
      error.hidden = true;
      try {
        const learner = await call('learner_create', {
          input: {
            given_name: f.given_name.value.trim(),
            family_name: f.family_name.value.trim(),
            username: f.username.value.trim() || null,
            email: f.email.value.trim() || null,
            classes: classId ? [classId] : [],
          },
        });
        toast(`${displayName(learner)} added.`);
        done();
        if (!classId && !isLead()) go({ name: 'learner', id: learner.id });
      } catch (err) { error.textContent = err.message; error.hidden = false; }
    },
  },
  h('h2', {}, 'Add a learner'),
  h('div', { class: 'grid2' },
    input('Given name', 'given_name', { required: true }),
    input('Family name', 'family_name', { required: true }),
    input('Username (optional: suggested from the names)', 'username', { autocapitalize: 'off' }),
    input('Email (optional)', 'email', { type: 'email' })),
  error,
  h('div', { class: 'row' },
    h('button', { type: 'submit', class: 'primary', testid: 'new-learner-save' }, 'Add learner'),
    h('button', { type: 'button', onclick: () => done() }, 'Cancel')));
  return form;
}
