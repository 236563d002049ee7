/**
 * The live state page as one HTML document: CSS and script inline, nothing fetched but `/events`, so it
 * works without a network. Values are written with `textContent` only: message ids and error codes
 * come from callers and must not become markup.
 */

const STYLE = `
:root { color-scheme: light dark; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --muted: #6e7781; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; max-width: 70rem; }
h1 { font-size: 1.3rem; margin: 0 0 .2rem; }
h2 { font-size: 1rem; margin: 1.4rem 0 .4rem; }
.muted { color: var(--muted); }
.cards { display: flex; flex-wrap: wrap; gap: .6rem; }
.card { border: 1px solid #8884; border-radius: 6px; padding: .5rem .8rem; min-width: 8rem; }
.card .label { font-size: .75rem; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 1.2rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.ok { color: var(--ok); } .warn { color: var(--warn); } .bad { color: var(--bad); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .25rem .6rem; border-bottom: 1px solid #8883; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font: 12px ui-monospace, monospace; }
`;

const SCRIPT = `
const $ = (id) => document.getElementById(id);
const TONE = {
  connected: 'ok', closed: 'ok', running: 'ok', open: 'bad', failed: 'bad', halfOpen: 'warn',
  connecting: 'warn', reconnecting: 'warn', blocked: 'warn', idle: 'muted', closing: 'warn',
};
function show(id, value, tone) {
  const el = $(id);
  el.textContent = String(value);
  el.dataset.value = String(value);
  el.className = 'value ' + (tone || '');
}
function rows(id, items, cells) {
  const body = $(id);
  body.replaceChildren(...items.map((item) => {
    const tr = document.createElement('tr');
    for (const [text, cls] of cells(item)) {
      const td = document.createElement('td');
      td.textContent = String(text);
      if (cls) td.className = cls;
      tr.append(td);
    }
    return tr;
  }));
}
function render(s) {
  const st = s.status;
  show('lifecycle', st.state, TONE[st.state]);
  show('connection', st.connection.phase, TONE[st.connection.phase]);
  show('breaker', st.circuitBreaker.state, st.circuitBreaker.state === 'closed' ? 'ok' : TONE[st.circuitBreaker.state]);
  show('gate', s.gateOpen ? 'open' : 'closed', s.gateOpen ? 'ok' : 'warn');
  const m = st.messages;
  for (const key of ['accepted', 'confirmed', 'buffered', 'inFlight', 'retrying', 'parked', 'deadLettered', 'journalPending']) {
    show('m-' + key, m[key], key === 'deadLettered' && m[key] > 0 ? 'bad' : key === 'parked' && m[key] > 0 ? 'warn' : '');
  }
  $('endpoint').textContent = st.connection.endpoint || '-';
  $('last-error').textContent = st.connection.lastError ? st.connection.lastError.code + ': ' + st.connection.lastError.message : '-';
  rows('actors', s.actors, (a) => [[a.id], [a.state]]);
  rows('retrying', s.retrying, (r) => [
    [r.messageId], [r.state, r.parked ? 'warn' : ''], [r.attempts, 'num'], [r.lastFailureCode], [r.nextDelayMs + ' ms', 'num'],
  ]);
  $('retrying-note').textContent = s.retryingActors > s.retrying.length
    ? 'showing ' + s.retrying.length + ' of ' + s.retryingActors + ' message actors' : '';
  $('updated').textContent = new Date().toLocaleTimeString();
}
const events = new EventSource('events');
events.onmessage = (e) => { render(JSON.parse(e.data)); $('stream').textContent = 'live'; };
events.onerror = () => { $('stream').textContent = 'disconnected from the service, retrying'; };
`;

const card = (id: string, label: string): string =>
  `<div class="card"><div class="label">${label}</div><div class="value" id="${id}">-</div></div>`;

/** The page served at `GET /`. */
export const LIVE_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>ferry: live state</title>
<style>${STYLE}</style>
</head>
<body>
<h1>ferry: live state</h1>
<p class="muted">Stream: <span id="stream">connecting</span> · updated <span id="updated">never</span>
 · broker <code id="endpoint">-</code></p>
<h2>Actors</h2>
<div class="cards">
${card('lifecycle', 'producer')}
${card('connection', 'connection')}
${card('breaker', 'circuit breaker')}
${card('gate', 'gate')}
</div>
<p class="muted">Last connection error: <span id="last-error">-</span></p>
<h2>Messages</h2>
<div class="cards">
${card('m-accepted', 'accepted')}
${card('m-confirmed', 'confirmed')}
${card('m-buffered', 'buffered')}
${card('m-inFlight', 'in flight')}
${card('m-retrying', 'retrying')}
${card('m-parked', 'parked')}
${card('m-deadLettered', 'dead-lettered')}
${card('m-journalPending', 'journal pending')}
</div>
<h2>Actor states</h2>
<table><thead><tr><th>actor</th><th>state</th></tr></thead><tbody id="actors"></tbody></table>
<h2>Retrying messages</h2>
<table>
<thead><tr><th>message id</th><th>state</th><th>attempts</th><th>last failure</th><th>retry delay</th></tr></thead>
<tbody id="retrying"></tbody>
</table>
<p class="muted" id="retrying-note"></p>
<script>${SCRIPT}</script>
</body>
</html>
`;
