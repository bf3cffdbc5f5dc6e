// The dashboard of `qpipe api`: lists the transfers with their progress
// and rates, starts listeners and sends, cancels and removes transfers.
// It speaks the same JSON API as any client; the browser sends the token as
// the HttpOnly cookie set by /?token=..., and every request carries
// Content-Type: application/json, as the service demands. Values from the
// service are put on the page as text, never as HTML.
'use strict';

const POLL_LIVE_MS = 250; // while something runs: the engine reports 4 times a second
const POLL_IDLE_MS = 1000;

const tbody = document.querySelector('#transfers tbody');
const message = document.getElementById('message');
const rows = new Map(); // id -> {tr, cells, last: {bytes, at}}

async function api(method, path, body) {
  const init = {method, headers: {}, credentials: 'same-origin'};
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  let data = null;
  try {
    data = await response.json();
  } catch (e) {
    data = null;
  }
  return {status: response.status, ok: response.ok, data};
}

function say(text, isError) {
  message.textContent = text;
  message.className = isError ? 'error' : '';
}

function errorText(result) {
  const e = result.data && result.data.error;
  return e ? `${result.status}: ${e.message}` : `HTTP ${result.status}`;
}

function formatBytes(n) {
  if (n === null || n === undefined) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

function formatRate(bytesPerSecond) {
  if (!bytesPerSecond || bytesPerSecond < 0) return '';
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

function cell(tr, name) {
  const td = document.createElement('td');
  td.className = name;
  tr.appendChild(td);
  return td;
}

function makeRow(t) {
  const tr = document.createElement('tr');
  tr.dataset.id = t.id;
  tr.dataset.role = t.role;
  const cells = {};
  for (const name of ['id', 'role', 'state', 'address', 'progress', 'bytes', 'rate', 'actions'])
    cells[name] = cell(tr, name);
  cells.id.textContent = t.id;
  cells.role.textContent = t.role;
  const bar = document.createElement('progress');
  bar.max = 100;
  const percent = document.createElement('span');
  percent.className = 'percent';
  cells.progress.append(bar, percent);
  const button = document.createElement('button');
  button.type = 'button';
  button.addEventListener('click', () => removeOrCancel(tr.dataset.id, tr.dataset.over === 'true'));
  cells.actions.appendChild(button);
  const detail = document.createElement('tr');
  detail.className = 'detail';
  const td = document.createElement('td');
  td.colSpan = 8;
  detail.appendChild(td);
  const row = {tr, detail, cells, bar, percent, button, last: null};
  rows.set(t.id, row);
  return row;
}

function files(t) {
  if (!t.files || t.files.length === 0) return '';
  return t.files.map(f => {
    const size = f.size === null ? '' : ` of ${formatBytes(f.size)}`;
    return `${f.name}: ${f.state}, ${formatBytes(f.bytes)}${size}`;
  }).join('; ');
}

function update(row, t, now) {
  const over = t.finished !== null;
  row.tr.dataset.state = t.state;
  row.tr.dataset.over = String(over);
  row.cells.state.textContent = t.state;
  row.cells.address.textContent = t.role === 'listen' ?
      (t.peer ? `${t.listen} ← ${t.peer}` : t.listen) : (t.peer || '');
  if (t.percent === null) {
    row.bar.removeAttribute('value'); // indeterminate: the size is not known
    row.percent.textContent = '';
  } else {
    row.bar.value = t.percent;
    row.percent.textContent = `${t.percent.toFixed(1)}%`;
  }
  row.tr.dataset.percent = t.percent === null ? '' : String(t.percent);
  row.cells.bytes.textContent =
      formatBytes(t.bytes) + (t.size !== null && t.size !== undefined ? ` / ${formatBytes(t.size)}` : '');
  // While it runs: the rate since the last look; at the end: the average.
  let rate = t.rate;
  if (!over && row.last && now > row.last.at) rate = (t.bytes - row.last.bytes) * 1000 / (now - row.last.at);
  row.last = {bytes: t.bytes, at: now};
  row.cells.rate.textContent = formatRate(rate);
  row.button.textContent = over ? 'Remove' : 'Cancel';
  const detail = [t.error, files(t)].filter(Boolean).join(' — ');
  row.detail.firstChild.textContent = detail;
  row.detail.hidden = detail === '';
}

let timer = null;

async function refresh() {
  clearTimeout(timer);
  let live = false;
  try {
    const result = await api('GET', '/v1/transfers');
    if (!result.ok) throw new Error(errorText(result));
    document.getElementById('connection').textContent = '';
    const now = performance.now();
    const seen = new Set();
    for (const t of result.data.transfers) {
      seen.add(t.id);
      const row = rows.get(t.id) || makeRow(t);
      if (!row.tr.parentNode) tbody.prepend(row.tr, row.detail);
      update(row, t, now);
      if (t.finished === null) live = true;
    }
    for (const [id, row] of rows)
      if (!seen.has(id)) {
        row.tr.remove();
        row.detail.remove();
        rows.delete(id);
      }
    document.getElementById('empty').hidden = rows.size > 0;
  } catch (e) {
    document.getElementById('connection').textContent = `not connected (${e.message})`;
  }
  timer = setTimeout(refresh, live ? POLL_LIVE_MS : POLL_IDLE_MS);
}

async function removeOrCancel(id, over) {
  const result = await api('DELETE', `/v1/transfers/${encodeURIComponent(id)}`);
  if (result.ok) say(over ? `${id} removed` : `${id} cancelled`);
  else say(errorText(result), true);
  refresh();
}

function text(form, name) {
  const v = form.elements[name].value.trim();
  return v === '' ? undefined : v;
}

document.getElementById('listener-form').addEventListener('submit', async event => {
  event.preventDefault();
  const f = event.target;
  const body = {output: text(f, 'output')};
  if (text(f, 'listen')) body.listen = text(f, 'listen');
  if (text(f, 'secret')) body.secret = text(f, 'secret');
  for (const name of ['keep_listening', 'overwrite', 'allow_unauthenticated'])
    if (f.elements[name].checked) body[name] = true;
  const result = await api('POST', '/v1/listeners', body);
  if (result.ok) say(`listener ${result.data.id} on ${result.data.listen}`);
  else say(errorText(result), true);
  refresh();
});

document.getElementById('send-form').addEventListener('submit', async event => {
  event.preventDefault();
  const f = event.target;
  const body = {peer: text(f, 'peer')};
  if (f.elements.source.value === 'gen') body.source = {gen: {size: text(f, 'size') || ''}};
  else body.source = {path: text(f, 'path') || ''};
  if (text(f, 'zstd') !== undefined) body.zstd = Number(text(f, 'zstd'));
  if (text(f, 'pin')) body.pin = text(f, 'pin');
  if (text(f, 'secret')) body.secret = text(f, 'secret');
  if (f.elements.insecure.checked) body.insecure = true;
  const result = await api('POST', '/v1/sends', body);
  if (result.ok) say(`send ${result.data.id} to ${body.peer}`);
  else say(errorText(result), true);
  refresh();
});

api('GET', '/v1/health').then(r => {
  if (r.ok) document.getElementById('version').textContent = `api ${r.data.version}`;
});
refresh();
