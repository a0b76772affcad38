#include "tools/web/web_assets.h"

namespace castor {

std::string_view web_page_html() {
  return R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Castor</title>
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header>
  <h1>Castor <span id="cluster"></span></h1>
  <span id="conn" class="badge">connecting</span>
  <span id="updated" class="dim"></span>
  <span class="grow"></span>
  <form id="login-form" hidden>
    <input id="login-user" autocomplete="username" placeholder="user" required>
    <input id="login-password" type="password" autocomplete="current-password" placeholder="password" required>
    <button id="login-button" type="submit">Log in</button>
  </form>
  <span id="whoami" hidden></span>
  <button id="logout-button" type="button" hidden>Log out</button>
  <span id="readonly" class="badge">read-only</span>
</header>
<div id="message" role="status"></div>
<main>
  <section id="nodes" aria-label="nodes"></section>
  <section>
    <h2>Services</h2>
    <table id="services">
      <thead><tr><th>Service</th><th>State</th><th>Owner</th><th>Epoch</th><th>Restarts</th><th>Last start</th><th>Note</th><th class="actions">Actions</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section>
    <h2>History</h2>
    <ol id="history" reversed></ol>
  </section>
</main>
</body>
</html>
)HTML";
}

std::string_view web_page_script() {
  return R"JS('use strict';
// castor-web's page: the cluster view streamed from /api/events, rendered with textContent only.
const castor = { session: null, view: null, firstRenderMs: null, renders: 0 };
window.castor = castor;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k.startsWith('data-')) e.setAttribute(k, String(v));
    else e[k] = v;
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}
const $ = (id) => document.getElementById(id);

function message(text, bad) {
  const m = $('message');
  m.textContent = text || '';
  m.className = bad ? 'bad' : 'ok';
}

function ms(v) {
  if (v === null || v === undefined) return '';
  return v >= 1000 ? (v / 1000).toFixed(1) + ' s' : v + ' ms';
}

function loggedIn() { return castor.session && castor.session.user; }

function actionButton(label, verb, service, node) {
  return el('button', {
    type: 'button', id: 'act-' + verb + '-' + (service || node), class: 'act',
    onclick: () => act(verb, service, node),
  }, label);
}

function renderNodes(view) {
  const q = view.quorumd, s = view.svcmgr;
  const box = $('nodes');
  box.replaceChildren();
  const me = q ? q.node.name : (s ? s.node : '?');
  const peer = q ? q.peer.name : (s ? s.peer : '?');
  $('cluster').textContent = q && q.cluster ? q.cluster.name : '';
  const meCard = el('div', { class: 'card', id: 'node-' + me, 'data-state': q ? q.phase : 'quorumd down' },
    el('h3', {}, me, ' ', el('span', { class: 'dim' }, '(this node)')),
    q ? el('p', {}, 'quorumd: ', el('b', {}, q.phase), q.lease && q.lease.valid ? ' · lease ' + ms(q.lease.remaining_ms) : ' · no lease')
      : el('p', { class: 'bad' }, view.quorumd_error || 'quorumd does not answer'),
    s ? el('p', {}, 'svcmgr: up', s.standby ? ' · standby' : '') : el('p', { class: 'bad' }, view.svcmgr_error || 'svcmgr does not answer'));
  if (loggedIn() && s) {
    meCard.append(s.standby ? actionButton('Leave standby', 'unstandby', null, me) : actionButton('Standby', 'standby', null, me));
  }
  const peerView = q ? q.peer.view : (s ? s.peer_view : 'UNKNOWN');
  const peerCard = el('div', { class: 'card', id: 'node-' + peer, 'data-state': peerView },
    el('h3', {}, peer, ' ', el('span', { class: 'dim' }, '(peer)')),
    el('p', {}, 'seen as: ', el('b', { class: peerView === 'UP' ? 'ok' : 'bad' }, peerView),
      q && q.peer.heartbeat_age_ms !== null ? ' · heartbeat ' + ms(q.peer.heartbeat_age_ms) + ' ago' : '',
      (q && q.peer.standby) || (s && s.peer_standby) ? ' · standby' : ''));
  if (loggedIn() && s && peerView === 'UP') {  // carried to the peer in this node's heartbeat (svcmgr checks it takes requests)
    const peerStandby = (q && q.peer.standby) || s.peer_standby;
    peerCard.append(peerStandby ? actionButton('Leave standby', 'unstandby', null, peer) : actionButton('Standby', 'standby', null, peer));
  }
  const chan = el('div', { class: 'card', id: 'channels' }, el('h3', {}, 'Channels'));
  if (q && q.channels) {
    chan.append(el('p', { id: 'channel-disk' }, 'disk: ', el('b', { class: q.channels.disk.up ? 'ok' : 'bad' }, q.channels.disk.up ? 'up' : 'failing')));
    for (const l of q.channels.lan || [])
      chan.append(el('p', { id: 'channel-' + l.name }, l.name + ' (' + l.local + ' → ' + l.peer + '): ',
        el('b', { class: l.up ? 'ok' : 'bad' }, l.up ? 'up' : 'down'), l.rtt_ms !== null ? ' · rtt ' + l.rtt_ms.toFixed(2) + ' ms' : ''));
    for (const d of q.devices || [])
      chan.append(el('p', {}, 'quorum device ' + d.path + ': ', el('b', { class: d.answering ? 'ok' : 'bad' }, d.answering ? 'answering' : 'not answering')));
  }
  box.append(meCard, peerCard, chan);
  return { me, peer };
}

function renderServices(view, nodes) {
  const body = $('services').tBodies[0];
  body.replaceChildren();
  const s = view.svcmgr;
  if (!s) return;
  for (const svc of s.services) {
    const actions = el('td', { class: 'actions' });
    if (loggedIn()) {
      const target = svc.owner === nodes.me ? nodes.peer : nodes.me;
      if (svc.owner) actions.append(actionButton('Relocate to ' + target, 'relocate', svc.name, target));
      if (svc.state === 'disabled' || svc.state === 'stopped' || svc.state === 'failed') actions.append(actionButton('Enable', 'enable', svc.name, null));
      if (svc.state !== 'disabled') actions.append(actionButton('Disable', 'disable', svc.name, null));
      actions.append(svc.state === 'frozen' ? actionButton('Unfreeze', 'unfreeze', svc.name, null) : actionButton('Freeze', 'freeze', svc.name, null));
      for (const b of actions.querySelectorAll('button')) b.id = b.id.replace(/^act-([a-z]+)-.*/, 'act-$1-' + svc.name);
    }
    const note = svc.pending || (svc.last_failure ? svc.last_failure.reason : '') || svc.orphaned || '';
    body.append(el('tr', { id: 'svc-' + svc.name, 'data-state': svc.state, 'data-owner': svc.owner, 'data-epoch': svc.epoch },
      el('td', {}, svc.name), el('td', { class: 'state-' + svc.state }, svc.state), el('td', { class: 'owner' }, svc.owner || '—'),
      el('td', {}, svc.epoch), el('td', {}, svc.restarts + ' / ' + svc.max_restarts), el('td', {}, ms(svc.last_start_ms)),
      el('td', { class: 'dim' }, note), actions));
  }
}

function renderHistory(view) {
  const list = $('history');
  list.replaceChildren();
  const records = (view.history || []).slice(-30).reverse();
  for (const r of records) {
    const when = new Date(r.wall_ns / 1e6).toLocaleTimeString();
    list.append(el('li', { 'data-event': r.event },
      el('span', { class: 'dim' }, when + ' ' + r.node + ' '), el('b', {}, r.event), ' ',
      r.service ? r.service + ' ' : '', r.subject ? r.subject + ' ' : '', r.epoch ? 'epoch ' + r.epoch + ' ' : '',
      r.desc || '', r.reason ? el('span', { class: 'dim' }, ' — ' + r.reason) : null));
  }
}

function render(view) {
  const nodes = renderNodes(view);
  renderServices(view, nodes);
  renderHistory(view);
  $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
  castor.renders++;
  if (castor.firstRenderMs === null) {
    castor.firstRenderMs = performance.now();
    document.body.dataset.ready = '1';
  }
}

function renderSession() {
  const s = castor.session || {};
  const user = s.user;
  $('login-form').hidden = !!user || !s.https;
  $('whoami').hidden = !user;
  $('whoami').textContent = user ? 'logged in as ' + user : '';
  $('logout-button').hidden = !user;
  $('readonly').hidden = !!user;
  $('readonly').title = s.https ? 'log in to act' : 'plain HTTP: read-only (log in needs HTTPS)';
  if (castor.view) render(castor.view);
}

async function loadSession() {
  try {
    const r = await fetch('/api/session', { credentials: 'same-origin' });
    castor.session = await r.json();
  } catch (e) {
    castor.session = null;
  }
  renderSession();
}

async function act(verb, service, node) {
  message((verb + ' ' + (service || '') + ' ' + (node || '')).trim() + ' …');
  try {
    const r = await fetch('/api/action', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-Castor-CSRF': castor.session.csrf },
      body: JSON.stringify({ verb, service: service || '', node: node || '' }),
    });
    const j = await r.json();
    message(j.ok ? j.message : 'refused: ' + j.error, !j.ok);
    if (r.status === 401) loadSession();
  } catch (e) {
    message('the console did not answer: ' + e, true);
  }
}

function connect() {
  const es = new EventSource('/api/events');
  es.onopen = () => { $('conn').textContent = 'live'; $('conn').className = 'badge ok'; };
  es.onerror = () => { $('conn').textContent = 'reconnecting'; $('conn').className = 'badge bad'; };
  es.onmessage = (e) => {
    castor.view = JSON.parse(e.data);
    render(castor.view);
  };
}

document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const r = await fetch('/api/login', {
      method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ user: $('login-user').value, password: $('login-password').value }),
    });
    $('login-password').value = '';
    const j = await r.json();
    message(j.ok ? 'logged in' : j.error, !j.ok);
    await loadSession();
  });
  $('logout-button').addEventListener('click', async () => {
    await fetch('/api/logout', { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    await loadSession();
  });
  loadSession();
  connect();
});
)JS";
}

std::string_view web_page_style() {
  return R"CSS(body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f5f6f8; }
header { display: flex; align-items: center; gap: .8em; padding: .6em 1.2em; background: #1d2330; color: #fff; flex-wrap: wrap; }
header h1 { font-size: 1.2em; margin: 0; }
.grow { flex: 1; }
main { padding: 0 1.2em 2em; }
#nodes { display: flex; gap: 1em; flex-wrap: wrap; margin-top: 1em; }
.card { background: #fff; border: 1px solid #d8dbe2; border-radius: 6px; padding: .4em 1em; min-width: 15em; }
.card h3 { margin: .4em 0; }
.card p { margin: .3em 0; }
table { border-collapse: collapse; background: #fff; width: 100%; }
th, td { text-align: left; padding: .35em .7em; border-bottom: 1px solid #e4e6eb; }
th { background: #eceef2; }
.badge { padding: .1em .6em; border-radius: 1em; background: #59616f; color: #fff; font-size: .85em; }
.badge.ok { background: #2f7d32; color: #fff; } .badge.bad { background: #b3261e; color: #fff; }
.ok { color: #2f7d32; } .bad { color: #b3261e; } .dim { color: #6b7280; }
header .dim { color: #c3c8d2; }
.state-started { color: #2f7d32; font-weight: bold; } .state-failed, .state-orphaned { color: #b3261e; font-weight: bold; }
.state-frozen { color: #1e5fb3; font-weight: bold; }
button.act { margin-right: .3em; }
#message { min-height: 1.4em; padding: .3em 1.2em; }
#history { font-family: ui-monospace, monospace; font-size: .9em; background: #fff; border: 1px solid #d8dbe2; padding: .5em 2.5em; }
)CSS";
}

}  // namespace castor
