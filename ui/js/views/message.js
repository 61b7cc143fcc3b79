// "Send a sign-in link": a message editor for one learner, a class, or the learners ticked
// in it. The text holds [loginLink] where each learner's own link goes; the preview shows
// one learner's copy; learners who cannot be reached (no address, deactivated) are listed
// before anything is sent. After sending, each copy's delivery is shown as it changes.

import { call } from '../ipc.js';
import { h, fill, toast, plural, formatWhen, MAIL_STATES } from '../dom.js';
import { state } from '../state.js';

// How often, and for how long at most, delivery is checked after sending.
const POLL_MS = 2000;
const POLL_FOR_MS = 5 * 60 * 1000;

export function messageView(route, { go }) {
  const el = h('section', { class: 'view', testid: 'view-message' }, h('p', { class: 'muted' }, 'Loading…'));
  let recipients = null;
  let timer = null;

  async function load() {
    try {
      recipients = await call('message_recipients', { learner_ids: route.learners ?? [], class_id: route.class ?? null });
    } catch (e) {
      fill(el, h('p', { class: 'notice error', role: 'alert' }, e.message));
      return;
    }
    render();
  }

  function render() {
    const { tag, link_example: example } = recipients;
    const school = state.me?.school_name ?? 'school';
    const subject = h('input', { name: 'subject', testid: 'message-subject', value: `Signing in to ${school}`, required: true, maxlength: 200 });
    const body = h('textarea', { name: 'body', testid: 'message-body', rows: 8, required: true, spellcheck: 'true' });
    body.value = `Hello,\n\nhere is your own link to sign in: ${tag}\nIt works once. When you are in, you can choose a new password.\n`;
    const ccMe = h('input', { type: 'checkbox', name: 'cc_me', testid: 'message-cc-me' });
    const preview = h('pre', { class: 'preview', testid: 'message-preview' });
    const previewFor = h('span', { class: 'muted' });
    const ticks = new Map();
    const error = h('p', { class: 'notice error', role: 'alert', testid: 'message-error', hidden: true });

    const first = () => recipients.reached.find((r) => ticks.get(r.learner_id)?.checked);
    function updatePreview() {
      const who = first();
      previewFor.textContent = who ? `As ${who.name} (${who.email}) will read it:` : 'Tick a learner to see their copy.';
      preview.textContent = who ? body.value.replaceAll(tag, example) : '';
      const missing = !body.value.includes(tag);
      linkWarning.hidden = !missing;
    }
    const linkWarning = h('p', { class: 'notice warn', testid: 'message-no-tag', hidden: true },
      `The text has no ${tag}: the message will carry no sign-in link.`);

    const insert = h('button', {
      type: 'button', testid: 'message-insert-tag',
      onclick: () => {
        const at = body.selectionStart ?? body.value.length;
        body.setRangeText(tag, at, body.selectionEnd ?? at, 'end');
        body.focus();
        updatePreview();
      },
    }, `Insert ${tag}`);
    body.addEventListener('input', updatePreview);

    const reachedList = h('ul', { class: 'plain recipients', testid: 'message-recipients' },
      recipients.reached.map((r) => {
        const tick = h('input', { type: 'checkbox', checked: true, 'aria-label': `Send to ${r.name}`, onchange: updatePreview });
        ticks.set(r.learner_id, tick);
        return h('li', { testid: 'message-recipient', dataset: { username: r.username } },
          h('label', { class: 'row' }, tick, h('span', {}, r.name), h('span', { class: 'muted mono' }, r.email)));
      }));
    const notReached = recipients.not_reached.length
      ? h('div', { class: 'notice warn', testid: 'message-not-reached' },
        h('p', { class: 'strong' }, `${plural(recipients.not_reached.length, 'learner', 'learners')} will not be reached:`),
        h('ul', {}, recipients.not_reached.map((r) => h('li', { dataset: { username: r.username } }, `${r.name} (${r.username}): ${r.why_not}`))))
      : null;

    const send = h('button', { type: 'submit', class: 'primary', testid: 'message-send' }, 'Send');
    const form = h('form', {
      class: 'card stack',
      onsubmit: async (e) => {
        e.preventDefault();
        error.hidden = true;
        const chosen = recipients.reached.filter((r) => ticks.get(r.learner_id).checked).map((r) => r.learner_id);
        if (chosen.length === 0) {
          error.textContent = 'Tick at least one learner to send the message to.';
          error.hidden = false;
          return;
        }
        send.disabled = true;
        try {
          const report = await call('message_send', {
            message: {
              learner_ids: chosen.length === recipients.reached.length
                ? [...chosen, ...recipients.not_reached.map((r) => r.learner_id)] : chosen,
              subject: subject.value.trim(), body: body.value, cc_me: ccMe.checked,
            },
          });
          showReport(report);
        } catch (err) {
          error.textContent = err.message;
          error.hidden = false;
          send.disabled = false;
        }
      },
    },
    h('label', {}, 'Subject', subject),
    h('label', {}, 'Message', body),
    h('div', { class: 'row wrap' }, insert, h('label', { class: 'row' }, ccMe, `Send me a copy (it keeps ${tag}, which signs nobody in)`)),
    linkWarning,
    h('h2', {}, `To ${plural(recipients.reached.length, 'learner', 'learners')} with an address`),
    recipients.reached.length ? reachedList : h('p', { class: 'muted' }, 'Nobody: no learner here has an email address.'),
    notReached,
    h('h2', {}, 'Preview'), previewFor, preview,
    error,
    h('div', { class: 'row' }, send, h('button', { type: 'button', onclick: back }, 'Cancel')));

    fill(el, head('Send a sign-in link'), form);
    updatePreview();
    subject.focus();
  }

  function head(title) {
    return h('header', { class: 'view-head' },
      h('div', {},
        route.back ? h('button', { type: 'button', class: 'link', testid: 'back', onclick: back }, '← Back') : null,
        h('h1', {}, title)));
  }

  function back() {
    go(route.back ?? { name: 'none' });
  }

  function showReport(report) {
    toast(`Sent to ${plural(report.sent.length, 'learner', 'learners')}.`);
    const table = h('tbody');
    const summary = h('p', { role: 'status', testid: 'message-delivery-summary' });
    fill(el, head('Message sent'),
      h('section', { class: 'card stack', testid: 'message-report' },
        h('p', {}, `Queued for ${plural(report.sent.length, 'learner', 'learners')}`,
          report.with_links ? ', each with their own sign-in link.' : '.'),
        report.not_reached.length
          ? h('div', { class: 'notice warn', testid: 'message-not-reached' },
            h('p', { class: 'strong' }, 'Not reached (no email address, or deactivated):'),
            h('ul', {}, report.not_reached.map((r) => h('li', { dataset: { username: r.username } }, `${r.name} (${r.username})`))))
          : null,
        summary,
        h('table', { class: 'plain-table', testid: 'message-delivery' },
          h('thead', {}, h('tr', {}, h('th', {}, 'To'), h('th', {}, 'Address'), h('th', {}, 'Delivery'))),
          table)));
    const started = Date.now();
    async function poll() {
      let status;
      try { status = await call('message_status', { message_id: report.message_id }); } catch (e) {
        summary.textContent = e.message;
        return;
      }
      fill(table, status.copies.map((c) => h('tr', { testid: 'delivery-row', dataset: { state: c.state } },
        h('td', {}, c.name), h('td', { class: 'mono' }, c.to),
        h('td', {}, MAIL_STATES[c.state], c.sent_at ? ` ${formatWhen(c.sent_at)}` : '',
          c.error ? h('div', { class: 'muted' }, c.error) : null))));
      const waiting = status.copies.filter((c) => c.state === 'queued').length;
      summary.textContent = waiting ? `${plural(waiting, 'copy is', 'copies are')} still waiting to be sent…` : 'Every copy has left.';
      if (waiting && Date.now() - started < POLL_FOR_MS) timer = setTimeout(poll, POLL_MS);
    }
    poll();
  }

  load();
  return { el, leave: () => clearTimeout(timer) };
}
