// "Why can't they sign in?": the server's checks for one learner, problems first, each with
// the fixes this teacher may apply, one click each. Without the server, it says so and
// shows what this computer knows.

import { call } from '../ipc.js';
import { h, fill, toast, formatWhen, plural, copy, MAIL_STATES } from '../dom.js';

const MARKS = { problem: 'Problem', warning: 'Check', fine: 'OK' };

export function whyView(learnerId, { go, refreshClasses }) {
  const el = h('section', { class: 'view', testid: 'view-why' }, h('p', { class: 'muted' }, 'Checking…'));
  let view = null;

  async function load() {
    try {
      view = await call('learner_diagnosis', { learner_id: learnerId });
    } catch (e) {
      fill(el, h('p', { class: 'notice error', role: 'alert', testid: 'why-error' }, e.message));
      return;
    }
    render();
  }

  // Applies a fix, then checks again so the screen shows what the fix changed.
  async function apply(button, command, args, done) {
    button.disabled = true;
    try {
      const answer = await call(command, { learner_id: learnerId, ...args });
      toast(typeof done === 'function' ? done(answer) : done);
      refreshClasses();
      await load();
    } catch (e) {
      toast(e.message, 'error');
      button.disabled = false;
    }
  }

  function fixButton(fix, diagnosis) {
    const button = (label, onclick, testid = `fix-${fix.fix.replaceAll('_', '-')}`) =>
      h('button', { type: 'button', testid, onclick: (e) => onclick(e.currentTarget) }, label);
    switch (fix.fix) {
      case 'reactivate':
        return button('Reactivate', (b) => apply(b, 'learner_set_active', { active: true }, 'Reactivated: they can sign in again.'));
      case 'unlock':
        return button('Unlock', (b) => apply(b, 'learner_unlock', {}, 'Unlocked: their password works again at once.'));
      case 'send_reset_link':
        return button('Send a password link', (b) => apply(b, 'learner_reset_link', {},
          (sent) => `A link to choose a new password is on its way to ${sent.to}.`));
      case 'send_sign_in_link':
        return button('Send a sign-in link…', () => go({ name: 'message', learners: [learnerId], back: { name: 'why', id: learnerId } }));
      case 'reset_password':
        return button('Set a new password…', () => go({ name: 'learner', id: learnerId }));
      case 'edit_email':
        return button('Change the email…', () => go({ name: 'learner', id: learnerId }));
      case 'copy_sign_in_page':
        return button('Copy the address', () => copy(diagnosis.sign_in_url, 'Sign-in page address'));
      case 'move_email': {
        const confirm = h('span', { class: 'row', hidden: true },
          h('span', {}, `Move ${fix.address} from ${fix.from_username} to ${diagnosis.username}?`),
          h('button', {
            type: 'button', class: 'primary', testid: 'fix-move-email-confirm',
            onclick: (e) => apply(e.currentTarget, 'learner_email_move', { from: fix.from },
              `${fix.address} is now ${diagnosis.username}'s.`),
          }, 'Move it'),
          h('button', { type: 'button', onclick: () => { confirm.hidden = true; } }, 'Cancel'));
        return h('span', { class: 'row' },
          button(`Move ${fix.address} to this account…`, () => { confirm.hidden = false; }),
          confirm);
      }
      default:
        return null;
    }
  }

  function findingRow(finding, diagnosis) {
    return h('li', { class: `finding ${finding.severity}`, testid: 'finding', dataset: { check: finding.check, severity: finding.severity } },
      h('div', { class: 'finding-head' },
        h('span', { class: `mark ${finding.severity}` }, MARKS[finding.severity]),
        h('h3', {}, finding.heading)),
      h('p', { testid: 'finding-says' }, finding.says),
      finding.fixes.length ? h('div', { class: 'row wrap' }, finding.fixes.map((f) => fixButton(f, diagnosis))) : null);
  }

  function mailTable(mail) {
    if (mail.length === 0) return null;
    return h('section', { class: 'card stack' },
      h('h2', {}, 'Last messages to them'),
      h('table', { class: 'plain-table', testid: 'why-mail' },
        h('thead', {}, h('tr', {}, h('th', {}, 'What'), h('th', {}, 'To'), h('th', {}, 'Queued'), h('th', {}, 'State'))),
        h('tbody', {}, mail.map((m) => h('tr', {},
          h('td', {}, m.title),
          h('td', { class: 'mono' }, m.to),
          h('td', {}, formatWhen(m.queued_at)),
          h('td', { class: m.state === 'refused' || m.state === 'failed' ? 'strong' : '' },
            MAIL_STATES[m.state] + (m.sent_at ? ` ${formatWhen(m.sent_at)}` : ''),
            m.error ? h('div', { class: 'muted' }, m.error) : null))))));
  }

  function knownHere(known) {
    const password = {
      not_set: 'No password yet',
      set_by_teacher: 'Set by a teacher',
      set_by_learner: 'Chosen by the learner',
    }[known.password];
    return h('section', { class: 'card stack', testid: 'why-known' },
      h('h2', {}, 'What this computer knows'),
      h('dl', { class: 'compare' },
        h('dt', {}, 'Account'), h('dd', {}, known.active ? 'Active' : 'Deactivated: they cannot sign in'),
        h('dt', {}, 'Email'), h('dd', {}, known.email ?? 'None on file'),
        h('dt', {}, 'Password'), h('dd', {}, password + (known.must_change ? ' (to be changed at the next sign-in)' : ''))));
  }

  function render() {
    const diagnosis = view.diagnosis;
    const again = h('button', { type: 'button', testid: 'why-again', onclick: () => { fill(el, h('p', { class: 'muted' }, 'Checking…')); load(); } }, 'Check again');
    const head = h('header', { class: 'view-head' },
      h('div', {},
        h('button', { type: 'button', class: 'link', testid: 'back', onclick: () => go({ name: 'learner', id: learnerId }) }, '← Back to the learner'),
        h('h1', { testid: 'why-title' }, diagnosis ? `Why can't ${diagnosis.name} sign in?` : "Why can't they sign in?"),
        diagnosis ? h('p', { class: 'muted' }, h('span', { class: 'mono' }, diagnosis.username), ` · checked ${formatWhen(diagnosis.checked_at)}`) : null),
      h('div', { class: 'actions' }, again));
    if (!diagnosis) {
      fill(el, head,
        h('p', { class: 'notice warn', role: 'status', testid: 'why-offline' }, view.offline),
        knownHere(view.known));
      return;
    }
    const problems = diagnosis.findings.filter((f) => f.severity === 'problem').length;
    fill(el, head,
      h('p', { class: problems ? 'notice error' : 'notice', role: 'status', testid: 'why-summary' },
        problems ? `${plural(problems, 'problem', 'problems')} found: the fix is next to each.` : 'Nothing found that stops them signing in. The checks are below.'),
      h('ul', { class: 'plain findings', testid: 'why-findings' }, diagnosis.findings.map((f) => findingRow(f, diagnosis))),
      mailTable(diagnosis.facts.mail));
  }

  load();
  return { el };
}
