// Access codes and password resets: a class's codes (passwords hidden until revealed, one or
// all), the class reset (preview, regenerate, apply), the CSV download and login cards; and
// one learner's password card. Everything secret comes from the server, which records who
// saw it; nothing here is kept after the screen closes. Offline, the list comes from this
// computer (parent codes as last fetched, no passwords) and says so.

import { call } from '../ipc.js';
import { h, plural, toast, fill, copy } from '../dom.js';
import { isLead } from '../state.js';

const HIDDEN = '••••••••';

function passwordText(code, revealed) {
  switch (code.password_state) {
    case 'not_set': return h('span', { class: 'muted' }, 'No password yet');
    case 'set_by_learner': return h('span', { class: 'muted', title: 'Only the learner knows it' }, 'Set by the learner — reset it instead');
    default:
      if (!revealed) return h('span', { class: 'mono muted', 'aria-label': 'hidden' }, HIDDEN);
      return code.password
        ? h('span', { class: 'mono secret', testid: 'code-password' }, code.password)
        : h('span', { class: 'muted' }, 'Cannot be shown — reset it');
  }
}

// The codes table for a class: reveal one, reveal all, copy.
function codesTable(codes, { revealed, reveal, offline }) {
  const rows = codes.map((code) => {
    const shown = revealed.has(code.learner_id);
    return h('tr', { testid: 'code-row', dataset: { username: code.username, learnerId: code.learner_id } },
      h('td', {}, `${code.given_name} ${code.family_name}`, code.active ? null : h('span', { class: 'badge off' }, 'deactivated')),
      h('td', { class: 'mono', testid: 'code-username' }, code.username,
        h('button', { type: 'button', class: 'link small', 'aria-label': `Copy ${code.username}`, onclick: () => copy(code.username, 'Username') }, 'Copy')),
      h('td', { testid: 'code-password-cell' }, passwordText(code, shown),
        code.password_state === 'set_by_teacher' && !shown && !offline
          ? h('button', { type: 'button', class: 'link small', testid: 'code-reveal', onclick: () => reveal(code) }, 'Show')
          : null,
        shown && code.password
          ? h('button', { type: 'button', class: 'link small', 'aria-label': `Copy the password of ${code.username}`, onclick: () => copy(code.password, 'Password') }, 'Copy')
          : null),
      code.parent_code
        ? h('td', { class: 'mono', testid: 'code-parent' }, code.parent_code,
          h('button', { type: 'button', class: 'link small', 'aria-label': `Copy the parent code of ${code.username}`, onclick: () => copy(code.parent_code, 'Parent access code') }, 'Copy'))
        : h('td', { class: 'muted', testid: 'code-parent', title: 'Not fetched on this computer yet' }, 'Not here yet'));
  });
  return h('table', { class: 'plain-table codes', testid: 'codes-table' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Username'), h('th', {}, 'Password'), h('th', {}, 'Parent access code'))),
    h('tbody', {}, rows));
}

// The "Access codes" panel of a class.
export function accessCodesPanel(cls, { onReset }) {
  const el = h('section', { class: 'stack', testid: 'codes-panel' }, h('p', { class: 'muted' }, 'Loading access codes…'));
  const error = h('p', { class: 'notice error', role: 'alert', testid: 'codes-error', hidden: true });
  let codes = null;
  let signInUrl = '';
  let offline = false;
  const revealed = new Set();

  const fail = (e) => { error.textContent = e.message; error.hidden = false; };

  async function load() {
    try {
      const answer = await call('class_access_codes', { class_id: cls.id, reveal: false });
      codes = answer.codes;
      signInUrl = answer.sign_in_url;
      offline = answer.offline;
      error.hidden = true;
      render();
    } catch (e) {
      fill(el, error);
      fail(e);
    }
  }

  async function revealAll() {
    try {
      const answer = await call('class_access_codes', { class_id: cls.id, reveal: true });
      codes = answer.codes;
      offline = false;
      for (const c of codes) revealed.add(c.learner_id);
      render();
    } catch (e) { fail(e); }
  }

  async function revealOne(code) {
    try {
      const answer = await call('learner_access_codes', { learner_id: code.learner_id, reveal: true });
      const fresh = answer.codes[0];
      codes = codes.map((c) => (c.learner_id === fresh.learner_id ? fresh : c));
      revealed.add(fresh.learner_id);
      render();
    } catch (e) { fail(e); }
  }

  async function download() {
    try {
      const saved = await call('class_access_codes_export', { class_id: cls.id });
      if (saved) toast(`Saved ${plural(saved.learners, 'learner', 'learners')} to ${saved.path}.`);
    } catch (e) { fail(e); }
  }

  async function instructions(paper) {
    try {
      const saved = await call('instructions_save', { class_id: cls.id, learner_id: null, paper });
      if (saved) toast(`Saved instructions for ${plural(saved.learners, 'learner', 'learners')} to ${saved.path}.`);
    } catch (e) { fail(e); }
  }

  async function cards(paper) {
    try {
      const saved = await call('class_login_cards', { class_id: cls.id, paper });
      if (saved) toast(`Saved ${plural(saved.learners, 'login card', 'login cards')} to ${saved.path}.`);
    } catch (e) { fail(e); }
  }

  function render() {
    const paper = h('select', { testid: 'cards-paper', 'aria-label': 'Paper size' },
      h('option', { value: 'a4' }, 'A4'), h('option', { value: 'letter' }, 'US Letter'));
    const needsServer = offline ? { disabled: true, title: 'Needs the server' } : {};
    fill(el,
      offline
        ? h('div', { class: 'notice', role: 'status', testid: 'codes-offline' },
          'The server cannot be reached, so these codes are the ones kept on this computer. Showing passwords, resets, downloads and cards need the server. ',
          h('button', { type: 'button', class: 'link', testid: 'codes-retry', onclick: load }, 'Try again'))
        : null,
      h('div', { class: 'row wrap' },
        h('button', { type: 'button', testid: 'codes-reveal-all', onclick: revealAll, ...needsServer }, 'Show all passwords'),
        h('button', { type: 'button', class: 'primary', testid: 'class-reset-open', onclick: () => onReset(() => { revealed.clear(); load(); }), ...needsServer }, 'Reset passwords…'),
        h('button', { type: 'button', testid: 'codes-download', onclick: download, ...needsServer }, 'Download CSV'),
        h('span', { class: 'row' }, paper,
          h('button', { type: 'button', testid: 'cards-print', onclick: () => cards(paper.value), ...needsServer }, 'Login cards (PDF)'),
          h('button', {
            type: 'button', testid: 'instructions-print', onclick: () => instructions(paper.value), ...needsServer,
            title: 'A page for each learner\'s parents: how to sign in, with the username (no password)',
          }, 'Instructions for parents (PDF)'))),
      h('p', { class: 'muted' }, 'Learners sign in at ', h('span', { class: 'mono', testid: 'codes-sign-in-url' }, signInUrl),
        '. Showing passwords, downloads and cards are recorded in the audit log.'),
      isLead() ? null : h('p', { class: 'muted', testid: 'school-export-lead-only' }, 'Only lead teachers can export the whole school.'),
      error,
      codes.length ? codesTable(codes, { revealed, reveal: revealOne, offline }) : h('p', { class: 'muted' }, 'No learners in this class yet.'));
  }

  load();
  return { el, refresh: load };
}

// A password-style picker, filled from the server's styles and the class's default.
async function stylePicker(classId, testid) {
  const select = h('select', { testid, 'aria-label': 'Password style' });
  const styles = await call('password_styles', { class_id: classId });
  for (const s of styles) {
    select.append(h('option', { value: s.style, selected: s.default }, `${s.label} (${Math.round(s.entropy_bits)} bits)`));
  }
  return select;
}

// "Reset passwords" for a whole class: choose, preview, regenerate, apply.
export async function classResetDialog(cls, { done, cancel }) {
  const style = await stylePicker(cls.id, 'reset-style');
  const modeEach = h('input', { type: 'radio', name: 'reset-mode', value: 'individual', checked: true, testid: 'reset-mode-individual' });
  const modeSame = h('input', { type: 'radio', name: 'reset-mode', value: 'same', testid: 'reset-mode-same' });
  const mustChange = h('input', { type: 'checkbox', testid: 'reset-must-change' });
  const warning = h('p', { class: 'notice warn', testid: 'reset-same-warning', hidden: true },
    'Everyone in the class gets the same password: any learner could sign in as any other. Use it only for a first lesson, with "must change" ticked.');
  const error = h('p', { class: 'notice error', role: 'alert', testid: 'reset-error', hidden: true });
  const previewSlot = h('div');
  const progress = h('p', { class: 'muted', role: 'status', testid: 'reset-progress', hidden: true });
  let preview = null;
  const mode = () => (modeSame.checked ? 'same' : 'individual');

  const apply = h('button', { type: 'button', class: 'primary', testid: 'reset-apply', disabled: true }, 'Apply');
  const regenerate = h('button', { type: 'button', testid: 'reset-regenerate', disabled: true }, 'Regenerate');

  async function makePreview() {
    error.hidden = true;
    warning.hidden = mode() !== 'same';
    try {
      preview = await call('class_passwords_preview', { class_id: cls.id, mode: mode(), style: style.value });
    } catch (e) { error.textContent = e.message; error.hidden = false; return; }
    fill(previewSlot, h('table', { class: 'plain-table', testid: 'reset-preview' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Username'), h('th', {}, 'New password'))),
      h('tbody', {}, preview.map((line) => h('tr', { testid: 'reset-preview-row', dataset: { username: line.username } },
        h('td', {}, line.name), h('td', { class: 'mono' }, line.username), h('td', { class: 'mono secret' }, line.password))))));
    apply.textContent = `Apply to ${plural(preview.length, 'learner', 'learners')}`;
    apply.disabled = false;
    regenerate.disabled = false;
  }

  apply.addEventListener('click', async () => {
    apply.disabled = true;
    regenerate.disabled = true;
    error.hidden = true;
    progress.textContent = `Setting ${plural(preview.length, 'password', 'passwords')}… all of them change, or none.`;
    progress.hidden = false;
    try {
      const codes = await call('class_passwords_reset', {
        class_id: cls.id, mode: mode(), preview, source: 'generated', must_change: mustChange.checked,
      });
      toast(`${plural(codes.codes.filter((c) => c.password).length, 'password', 'passwords')} set for ${cls.name}.`);
      done();
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
      apply.disabled = false;
      regenerate.disabled = false;
      if (e.code === 'conflict') makePreview();
    } finally { progress.hidden = true; }
  });
  regenerate.addEventListener('click', makePreview);
  for (const input of [modeEach, modeSame, style]) input.addEventListener('change', makePreview);

  const el = h('section', { class: 'card stack', testid: 'class-reset' },
    h('h2', {}, `Reset the passwords of ${cls.name}`),
    h('div', { class: 'row wrap' },
      h('label', { class: 'row' }, modeEach, 'A new password for each learner'),
      h('label', { class: 'row' }, modeSame, 'One password for everyone'),
      h('label', {}, 'Style', style),
      h('label', { class: 'row' }, mustChange, 'Must choose a new one at next sign-in')),
    warning, previewSlot, progress, error,
    h('div', { class: 'row' }, apply, regenerate, h('button', { type: 'button', onclick: cancel }, 'Cancel')));
  makePreview();
  return el;
}

// One learner's password and parent access code, on the learner screen.
export function learnerPasswordCard(learner, { changed }) {
  const el = h('section', { class: 'card stack', testid: 'learner-password' });
  const error = h('p', { class: 'notice error', role: 'alert', testid: 'password-error', hidden: true });
  const fail = (e) => { error.textContent = e.message; error.hidden = false; };
  let code = null;
  let revealed = false;
  let candidate = null;
  let offline = false;

  async function load(reveal = false) {
    try {
      const answer = await call('learner_access_codes', { learner_id: learner.id, reveal });
      code = answer.codes[0];
      offline = answer.offline;
      revealed = reveal;
      render();
    } catch (e) { fill(el, h('h2', {}, 'Password'), error); fail(e); }
  }

  async function set(password, source, mustChange) {
    error.hidden = true;
    try {
      const answer = await call('learner_password_set', { learner_id: learner.id, password, source, must_change: mustChange });
      code = answer.codes[0];
      revealed = true;
      candidate = null;
      toast('Password set.');
      render();
      changed();
    } catch (e) { fail(e); }
  }

  async function render() {
    const state = offline ? {
      not_set: 'No password yet.',
      set_by_teacher: 'Set by a teacher.',
      set_by_learner: 'Set by the learner — it cannot be shown; reset it instead.',
    }[code.password_state] : {
      not_set: 'No password yet.',
      set_by_teacher: 'Set by a teacher: it can be shown.',
      set_by_learner: 'Set by the learner — it cannot be shown; reset it instead.',
    }[code.password_state];
    if (offline) {
      fill(el,
        h('h2', {}, 'Password'),
        h('p', { testid: 'password-state' }, state, code.must_change ? ' The learner must choose a new one at next sign-in.' : ''),
        h('p', { class: 'notice', role: 'status', testid: 'password-offline' },
          'The server cannot be reached: this is what this computer knows. Showing or setting a password needs the server. ',
          h('button', { type: 'button', class: 'link', testid: 'password-retry', onclick: () => load() }, 'Try again')),
        h('h3', {}, 'Parent access code'),
        h('p', {}, code.parent_code
          ? h('span', { class: 'mono', testid: 'parent-code' }, code.parent_code)
          : h('span', { class: 'muted', testid: 'parent-code' }, 'Not fetched on this computer yet')));
      return;
    }
    const mustChange = h('input', { type: 'checkbox', testid: 'password-must-change' });
    const style = await stylePicker(learner.classes[0] ?? null, 'password-style');
    const preview = h('span', { class: 'mono secret', testid: 'password-candidate' }, candidate ?? '');
    const generate = async () => {
      try { candidate = await call('password_generate', { style: style.value }); preview.textContent = candidate; applyGenerated.disabled = false; } catch (e) { fail(e); }
    };
    const applyGenerated = h('button', { type: 'button', class: 'primary', testid: 'password-apply', disabled: !candidate,
      onclick: () => set(candidate, 'generated', mustChange.checked) }, 'Use this password');
    const typed = h('input', { type: 'text', testid: 'password-typed', autocomplete: 'off', spellcheck: 'false', placeholder: 'Type a password' });
    style.addEventListener('change', generate);
    fill(el,
      h('h2', {}, 'Password'),
      h('p', { testid: 'password-state' }, state, code.must_change ? ' The learner must choose a new one at next sign-in.' : ''),
      code.password_state === 'set_by_teacher'
        ? h('p', { class: 'row' }, h('span', {}, 'Password: '), revealed
          ? h('span', { class: 'mono secret', testid: 'password-shown' }, code.password ?? 'cannot be shown — reset it')
          : h('button', { type: 'button', testid: 'password-reveal', onclick: () => load(true) }, 'Show password'))
        : null,
      h('div', { class: 'row wrap' },
        h('label', {}, 'New password style', style),
        h('button', { type: 'button', testid: 'password-generate', onclick: generate }, candidate ? 'Regenerate' : 'Generate'),
        preview, applyGenerated),
      h('form', { class: 'row wrap', onsubmit: (e) => { e.preventDefault(); set(typed.value, 'typed', mustChange.checked); } },
        h('label', {}, 'Or type one', typed),
        h('button', { type: 'submit', testid: 'password-typed-apply' }, 'Set typed password')),
      h('label', { class: 'row' }, mustChange, 'Must choose a new one at next sign-in'),
      error,
      h('h3', {}, 'Parent access code'),
      h('p', { class: 'row' }, h('span', { class: 'mono', testid: 'parent-code' }, code.parent_code),
        h('button', { type: 'button', testid: 'parent-code-rotate', onclick: async () => {
          try { code = (await call('learner_parent_code_rotate', { learner_id: learner.id })).codes[0]; toast('New parent access code made. Parents already linked stay linked.'); render(); } catch (e) { fail(e); }
        } }, 'Replace code')));
  }

  load();
  return el;
}

// The whole-school export (lead teachers): access codes, the student database or the
// roster as OneRoster 1.2, after entering their password again.
export function schoolExportCard() {
  const password = h('input', { type: 'password', testid: 'school-export-password', autocomplete: 'current-password' });
  const kind = h('select', { testid: 'school-export-kind' },
    h('option', { value: 'access_codes' }, "Every learner's access codes"),
    h('option', { value: 'students' }, 'The student database (no passwords)'),
    h('option', { value: 'roster' }, 'The roster for the information system (OneRoster 1.2 zip, no passwords)'));
  const error = h('p', { class: 'notice error', role: 'alert', testid: 'school-export-error', hidden: true });
  return h('details', { class: 'dropdown', testid: 'school-export' },
    h('summary', { testid: 'school-export-open' }, 'Export the school'),
    h('form', {
      class: 'card stack',
      onsubmit: async (e) => {
        e.preventDefault();
        error.hidden = true;
        try {
          const saved = await call('school_export', { kind: kind.value, password: password.value });
          password.value = '';
          if (saved) toast(`Saved ${plural(saved.learners, 'learner', 'learners')} to ${saved.path}.`);
        } catch (err) { error.textContent = err.message; error.hidden = false; }
      },
    },
    h('label', {}, 'What', kind),
    h('label', {}, 'Your password (asked again for the whole school)', password),
    error,
    h('button', { type: 'submit', class: 'primary', testid: 'school-export-submit' }, 'Export')));
}
