// Lead teachers: the school's roster from its information system. A file chosen on this
// computer (a OneRoster zip or a spreadsheet's CSV) is previewed by the server — every
// class and learner to add, change field by field, move or deactivate, the staff to add,
// and each row refused with its file, line and column — and applied, all of it at once,
// only when the lead teacher says so.

import { call } from '../ipc.js';
import { h, fill, plural, copy, toast } from '../dom.js';

function table(testid, headings, rows) {
  return h('table', { class: 'plain-table', testid },
    h('thead', {}, h('tr', {}, ...headings.map((t) => h('th', {}, t)))),
    h('tbody', {}, rows.map((cells) => h('tr', { testid: `${testid}-row` }, ...cells.map((c) => h('td', {}, c))))));
}

function section(title, count, body) {
  return count === 0 ? null : h('section', { class: 'stack' }, h('h2', {}, `${title} (${count})`), body);
}

function changeWords(change) {
  const words = change.fields.map((f) => `${f.field.replace('_', ' ')}: ${f.from || '—'} → ${f.to}`);
  if (change.reactivated) words.push('reactivated');
  if (change.joins.length) words.push(`joins ${change.joins.join(', ')}`);
  if (change.leaves.length) words.push(`leaves ${change.leaves.join(', ')}`);
  return words.length ? words.join('; ') : "takes the information system's id";
}

function nothingToChange(p) {
  return p.classes_added.length + p.classes_renamed.length + p.added.length + p.changed.length
    + p.deactivated.length + p.staff_added.length + p.staff_changed.length === 0;
}

export function importView({ refreshClasses }) {
  const error = h('p', { class: 'notice error', role: 'alert', testid: 'import-error', hidden: true });
  const format = h('select', { testid: 'import-format' },
    h('option', { value: '' }, 'Recognise it from the file'),
    h('option', { value: 'oneroster' }, 'OneRoster 1.1 or 1.2 (zip)'),
    h('option', { value: 'csv' }, "A spreadsheet's CSV of learners"));
  // What the server may ask for: a spreadsheet's columns it does not recognise, one per
  // line, or which school of a district's export this one is.
  const map = h('textarea', { testid: 'import-map', rows: 3, placeholder: 'Vorname=given_name' });
  const org = h('input', { type: 'text', testid: 'import-org', placeholder: 'sourcedId of this school' });
  const mapping = h('details', { testid: 'import-mapping' },
    h('summary', {}, 'The file is not read as you expect?'),
    h('label', { class: 'stack' },
      "A spreadsheet's columns, if their names are not recognised: one per line, COLUMN=field, where the field is id, given_name, family_name, class, username or email.",
      map),
    h('label', { class: 'stack' }, 'A OneRoster export of several schools: the one to import', org));
  const slot = h('div', { class: 'stack', testid: 'import-preview' });
  const choose = h('button', { type: 'button', class: 'primary', testid: 'import-choose' }, 'Choose a file and preview');

  function fail(e) { error.textContent = e.message; error.hidden = false; }

  async function preview() {
    error.hidden = true;
    choose.disabled = true;
    let view;
    try {
      view = await call('import_preview', {
        query: { format: format.value || null, map: map.value || null, org: org.value || null },
      });
    } catch (e) {
      fail(e);
      // What the server asks for is said here.
      if (/which column holds|schools: say which/.test(e.message)) mapping.open = true;
      return;
    } finally { choose.disabled = false; }
    if (view) show(view);
  }

  function show({ file_name: file, preview: p }) {
    const summary = `${file}, read as ${p.format}: ${plural(p.classes_added.length, 'class', 'classes')} to add, `
      + `${plural(p.added.length, 'learner', 'learners')} to add, ${p.changed.length} to change, `
      + `${p.deactivated.length} to deactivate, ${p.unchanged} unchanged; ${plural(p.refused.length, 'row', 'rows')} refused.`;
    const confirm = h('input', { type: 'checkbox', testid: 'import-confirm' });
    const apply = h('button', { type: 'button', class: 'primary', testid: 'import-apply' }, 'Apply the import');
    const held = p.held.length === 0 ? null : h('div', { class: 'notice warn', role: 'alert', testid: 'import-held' },
      h('p', {}, 'This import waits for your confirmation:'),
      h('ul', {}, p.held.map((why) => h('li', {}, why))),
      h('label', { class: 'row' }, confirm, 'I have checked these changes: apply them anyway'));
    apply.addEventListener('click', async () => {
      if (p.held.length && !confirm.checked) {
        fail(new Error('Tick the confirmation first: this import deactivates or renames many.'));
        return;
      }
      error.hidden = true;
      apply.disabled = true;
      try {
        const applied = await call('import_apply', { import_id: p.import_id, confirm: p.held.length > 0 });
        await refreshClasses();
        done(applied);
      } catch (e) { fail(e); apply.disabled = false; }
    });
    fill(slot,
      h('p', { testid: 'import-summary' }, summary),
      section('Classes to add', p.classes_added.length,
        h('p', { testid: 'import-classes-added' }, p.classes_added.join(', '))),
      section('Classes to rename', p.classes_renamed.length,
        table('import-renamed', ['Now', 'Becomes'], p.classes_renamed.map((r) => [r.from, r.to]))),
      section('Learners to add', p.added.length,
        table('import-added', ['Name', 'Username', 'Email', 'Classes'], p.added.map((a) => [
          `${a.given_name} ${a.family_name}${a.deactivated ? ' (deactivated)' : ''}`,
          a.username_made ? `${a.username} (made)` : a.username,
          a.email ?? '', a.classes.join(', ')]))),
      section('Learners to change', p.changed.length,
        table('import-changed', ['Learner', 'Change'], p.changed.map((c) => [
          `${c.learner.name} (${c.learner.username})`, changeWords(c)]))),
      section('Learners to deactivate (not in the file; accounts and emails are kept)', p.deactivated.length,
        table('import-deactivated', ['Learner', 'Username'], p.deactivated.map((l) => [l.name, l.username]))),
      section('Staff to add (each chooses a password through an invitation)', p.staff_added.length,
        table('import-staff', ['Name', 'Username', 'Role', 'Invitation', 'Classes'], p.staff_added.map((s) => [
          s.name, s.username, s.lead ? 'lead teacher' : 'teacher', s.email ?? 'a link for you to hand over',
          s.classes.join(', ')]))),
      section('Staff whose classes change', p.staff_changed.length,
        table('import-staff-changed', ['Staff', 'Starts teaching', 'Stops teaching'], p.staff_changed.map((s) => [
          `${s.name} (${s.username})`, s.teaches.join(', '), s.stops_teaching.join(', ')]))),
      section('Rows refused (not imported)', p.refused.length,
        table('import-refused', ['File', 'Line', 'Column', 'Reason'], p.refused.map((r) => [
          r.file, r.line ?? '', r.column ?? '', r.reason]))),
      held,
      nothingToChange(p)
        ? h('p', { class: 'notice', testid: 'import-nothing' }, 'Nothing to change: the school already matches this file.')
        : h('div', { class: 'row' }, apply, h('span', { class: 'muted' }, 'All of it is applied, or none of it.')));
  }

  function done(applied) {
    const invitations = applied.invitations.map((i) => (i.link
      ? h('li', { testid: 'import-invitation' }, `${i.name} (${i.username}): hand over this link, shown once, which works once for 7 days: `,
        h('span', { class: 'mono' }, i.link), ' ',
        h('button', { type: 'button', onclick: () => copy(i.link, 'The link') }, 'Copy'))
      : h('li', { testid: 'import-invitation' }, `${i.name} (${i.username}): invited by mail to ${i.mailed_to}.`)));
    fill(slot,
      h('p', { class: 'notice ok', testid: 'import-result' }, applied.classes_added + applied.classes_renamed
        + applied.added + applied.changed + applied.deactivated + applied.staff_added + applied.staff_changed === 0
        ? 'Imported: nothing changed.'
        : `Imported: ${plural(applied.classes_added, 'class', 'classes')} added, ${plural(applied.added, 'learner', 'learners')} added, `
          + `${applied.changed} changed, ${applied.deactivated} deactivated; ${applied.staff_added} staff added.`),
      invitations.length ? h('ul', { class: 'plain' }, invitations) : null,
      applied.skipped.length ? h('div', { class: 'notice warn', testid: 'import-skipped' },
        h('p', {}, 'Left out, because they changed since the preview (preview again to include them):'),
        h('ul', {}, applied.skipped.map((s) => h('li', {}, `${s.who}: ${s.reason}`)))) : null);
    toast('The import is applied.');
  }

  choose.addEventListener('click', preview);
  const el = h('section', { class: 'view', testid: 'view-import' },
    h('header', { class: 'view-head' }, h('div', {},
      h('h1', {}, 'Import the roster'),
      h('p', { class: 'muted' }, "Your information system's OneRoster export, or a spreadsheet's CSV of learners. "
        + 'You see every change before anything is applied; importing the same file again changes nothing.'))),
    h('div', { class: 'row wrap' }, h('label', {}, 'The file is ', format), choose),
    error,
    mapping,
    slot);
  return { el };
}
