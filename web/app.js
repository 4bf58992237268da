// qiandao web console: a plain ES module over the management API (/api).
// The session is the HttpOnly `qd_session` cookie the API sets; nothing is kept in storage.
// Every value from the API is rendered as text through DOM nodes (never innerHTML).

/** What each role may do — mirrors src/console/roles.ts; the API enforces it in any case. */
const PERMISSIONS = {
  'platform-admin': ['merchant.read', 'merchant.write', 'terminal.read', 'terminal.write', 'alert.read', 'alert.ack', 'operator.read', 'operator.write', 'audit.read'],
  'merchant-admin': ['merchant.read', 'terminal.read', 'terminal.write', 'alert.read', 'alert.ack', 'operator.read', 'operator.write'],
  auditor: ['audit.read', 'alert.read'],
};

const VIEWS = [
  { id: 'terminals', label: 'Terminals', permission: 'terminal.read' },
  { id: 'operators', label: 'Operators', permission: 'operator.read' },
  { id: 'alerts', label: 'Alerts', permission: 'alert.read' },
  { id: 'audit', label: 'Audit log', permission: 'audit.read' },
];

const AUDIT_PAGE = 50;

const state = {
  user: null,
  merchants: [],
  merchantNo: null,
  view: null,
  terminal: null,
  audit: { filters: {}, cursors: [], before: null },
};

const main = document.getElementById('main');

// ---------------------------------------------------------------- DOM helpers

/** el('tag', { attr: value, onclick: fn }, ...children): children are nodes or text. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'className') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (v === true) node.setAttribute(k, '');
    else node.setAttribute(k, String(v));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 10)}`;
  input.id = id;
  const hintNode = hint ? el('small', { id: `${id}-hint`, className: 'hint' }, hint) : null;
  if (hintNode) input.setAttribute('aria-describedby', hintNode.id);
  return el('div', { className: 'field' }, el('label', { for: id }, label), input, hintNode);
}

function table(headers, rows, caption) {
  return el(
    'div',
    { className: 'table-wrap' },
    el(
      'table',
      {},
      caption ? el('caption', {}, caption) : null,
      el('thead', {}, el('tr', {}, headers.map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, rows.length ? rows : el('tr', {}, el('td', { colspan: headers.length, className: 'empty' }, 'Nothing to show.'))),
    ),
  );
}

function notice(kind, ...text) {
  return el('div', { className: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...text);
}

function setMessage(region, kind, text) {
  clear(region);
  if (text) region.append(notice(kind, text));
}

function can(permission) {
  return state.user !== null && (PERMISSIONS[state.user.role] ?? []).includes(permission);
}

// ---------------------------------------------------------------- time

function pad(n) {
  return String(n).padStart(2, '0');
}

/** "YYYY-MM-DD HH:MM:SS" in a time zone (the merchant's), from an ISO time. */
function localText(iso, timeZone) {
  const d = new Date(iso);
  try {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
        .formatToParts(d)
        .map((p) => [p.type, p.value]),
    );
    return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
  } catch {
    return utcText(iso);
  }
}

function utcText(iso) {
  const d = new Date(iso);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
}

/** A <time> in merchant-local time with the UTC time as tooltip. */
function timeNode(iso, timeZone) {
  if (!iso) return '—';
  const tz = timeZone || 'UTC';
  return el('time', { datetime: iso, title: utcText(iso) }, `${localText(iso, tz)}${tz === 'UTC' ? ' UTC' : ''}`);
}

function merchant() {
  return state.merchants.find((m) => m.merchantNo === state.merchantNo) ?? null;
}

function short(value, max = 80) {
  if (value === null || value === undefined) return '—';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

// ---------------------------------------------------------------- API

class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `request failed (${status})`);
    this.status = status;
    this.code = problem?.code ?? 'error';
    this.problem = problem;
  }
}

/** Call the API with the session cookie. A lost session (401) returns to the sign-in screen. */
async function api(method, path, body, { signIn = false } = {}) {
  const init = { method, credentials: 'same-origin', headers: { accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, { detail: 'the console API cannot be reached; check the connection', code: 'network' });
  }
  const text = await res.text();
  let data = null;
  if (text !== '' && (res.headers.get('content-type') ?? '').includes('json')) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (res.ok) return data;
  const err = new ApiError(res.status, data);
  if (res.status === 401 && !signIn) {
    sessionLost(err);
    throw err;
  }
  if (err.code === 'password_change_required' && !signIn) {
    showPasswordChange();
  }
  throw err;
}

function lostNote(err) {
  if (err.code === 'reauth_required') return 'Your session was idle for more than 15 minutes. Please sign in again.';
  if (err.code === 'session_expired') return 'Your session has reached its time limit. Please sign in again.';
  return 'Your session has ended. Please sign in again.';
}

function sessionLost(err) {
  state.user = null;
  showSignIn(lostNote(err));
}

// ---------------------------------------------------------------- screens

function setScreen(...nodes) {
  clear(main);
  append(main, nodes);
}

function showHeader(visible) {
  document.getElementById('top').hidden = !visible;
}

function showSignIn(note) {
  state.user = null;
  showHeader(false);
  document.title = 'Sign in · qiandao console';
  const message = el('div', { id: 'sign-in-message', 'aria-live': 'polite' });
  if (note) message.append(notice('info', note));
  const username = el('input', { id: 'username', name: 'username', autocomplete: 'username', required: true, maxlength: 64, autocapitalize: 'none', spellcheck: 'false' });
  const password = el('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const code = el('input', { id: 'totp', name: 'totp', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: 6, required: true });
  const submit = el('button', { type: 'submit' }, 'Sign in');
  const form = el(
    'form',
    { className: 'card narrow', id: 'sign-in-form', 'aria-labelledby': 'sign-in-title' },
    el('h1', { id: 'sign-in-title' }, 'Sign in'),
    message,
    field('Username', username),
    field('Password', password),
    field('Authentication code', code, 'The 6-digit code from your authenticator app.'),
    el('div', { className: 'actions' }, submit),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear(message);
    submit.disabled = true;
    try {
      const r = await api('POST', '/api/auth/sign-in', { username: username.value.trim(), password: password.value, totp: code.value.trim() }, { signIn: true });
      password.value = '';
      state.user = r.user;
      if (r.scope === 'password-change') showPasswordChange();
      else await showMain();
    } catch (e) {
      setMessage(message, 'error', messageOf(e));
      code.value = '';
      code.focus();
    } finally {
      submit.disabled = false;
    }
  });
  setScreen(form);
  username.focus();
}

function messageOf(e) {
  if (!(e instanceof ApiError)) return 'Something went wrong.';
  if (e.status === 429 && typeof e.problem?.retryAfter === 'number') return `${e.message} (retry in ${e.problem.retryAfter} s)`;
  return e.message;
}

function showPasswordChange() {
  showHeader(false);
  document.title = 'Change password · qiandao console';
  const message = el('div', { id: 'password-message', 'aria-live': 'polite' });
  const current = el('input', { id: 'current-password', type: 'password', autocomplete: 'current-password', required: true });
  const next = el('input', { id: 'new-password', type: 'password', autocomplete: 'new-password', required: true, minlength: 12, maxlength: 128 });
  const confirm = el('input', { id: 'confirm-password', type: 'password', autocomplete: 'new-password', required: true });
  const submit = el('button', { type: 'submit' }, 'Change password');
  const form = el(
    'form',
    { className: 'card narrow', id: 'password-form', 'aria-labelledby': 'password-title' },
    el('h1', { id: 'password-title' }, 'Change your password'),
    el('p', {}, 'Your password is a one-time password or has expired. Choose a new one to continue.'),
    message,
    field('Current password', current),
    field('New password', next, 'At least 12 characters with letters and digits, not one of your last 4 passwords, and not containing your username.'),
    field('Confirm new password', confirm),
    el('div', { className: 'actions' }, submit, el('button', { type: 'button', className: 'secondary', onclick: () => signOut() }, 'Cancel')),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (next.value !== confirm.value) {
      setMessage(message, 'error', 'The new passwords do not match.');
      confirm.focus();
      return;
    }
    submit.disabled = true;
    try {
      const r = await api('POST', '/api/auth/password', { currentPassword: current.value, newPassword: next.value });
      state.user = r.user;
      await showMain('Password changed.');
    } catch (e) {
      if (e.status !== 401) setMessage(message, 'error', messageOf(e));
    } finally {
      submit.disabled = false;
    }
  });
  setScreen(form);
  current.focus();
}

async function signOut() {
  try {
    await api('POST', '/api/auth/sign-out', undefined, { signIn: true });
  } catch {
    // Already signed out or unreachable: the sign-in screen is shown either way.
  }
  state.merchants = [];
  state.merchantNo = null;
  showSignIn('You are signed out.');
}

// ---------------------------------------------------------------- main view

async function showMain(flash) {
  showHeader(true);
  document.title = 'qiandao console';
  const who = clear(document.getElementById('who'));
  who.append(el('span', { id: 'who-name' }, state.user.username), ' ', el('span', { className: 'role', id: 'who-role' }, state.user.role));
  state.merchants = can('merchant.read') ? ((await api('GET', '/api/merchants?limit=1000')).merchants ?? []) : [];
  if (!state.merchants.some((m) => m.merchantNo === state.merchantNo)) state.merchantNo = state.merchants[0]?.merchantNo ?? null;
  const views = VIEWS.filter((v) => can(v.permission));
  const tabs = clear(document.getElementById('tabs'));
  for (const v of views) {
    tabs.append(el('button', { type: 'button', className: 'tab', id: `tab-${v.id}`, dataset: { view: v.id }, onclick: () => openView(v.id) }, v.label));
  }
  const first = views.find((v) => v.id === state.view) ?? views[0];
  if (!first) {
    setScreen(notice('info', 'Your role has no sections in this console.'));
    return;
  }
  await openView(first.id, flash);
}

async function openView(id, flash) {
  state.view = id;
  for (const b of document.querySelectorAll('#tabs .tab')) {
    if (b.dataset.view === id) b.setAttribute('aria-current', 'page');
    else b.removeAttribute('aria-current');
  }
  const section = el('section', { id: `view-${id}`, 'aria-labelledby': `h-${id}` });
  const status = el('div', { id: 'status', 'aria-live': 'polite' });
  if (flash) status.append(notice('ok', flash));
  setScreen(status, section);
  try {
    if (id === 'terminals') await renderTerminals(section, status);
    else if (id === 'operators') await renderOperators(section, status);
    else if (id === 'audit') await renderAudit(section, status);
    else if (id === 'alerts') await renderAlerts(section, status);
  } catch (e) {
    if (e.status !== 401) setMessage(status, 'error', messageOf(e));
  }
}

/** Run an action; show its error (not a lost session) in the status region. */
async function act(status, fn) {
  try {
    await fn();
  } catch (e) {
    if (e.status !== 401) setMessage(status, 'error', messageOf(e));
  }
}

function merchantPicker(onChange) {
  const select = el('select', { id: 'merchant' });
  for (const m of state.merchants) {
    const o = el('option', { value: m.merchantNo }, `${m.name} (${m.merchantNo})`);
    if (m.merchantNo === state.merchantNo) o.selected = true;
    select.append(o);
  }
  select.addEventListener('change', () => {
    state.merchantNo = select.value;
    state.terminal = null;
    void onChange();
  });
  return field('Merchant', select);
}

// ---------------------------------------------------------------- terminals

async function renderTerminals(section, status) {
  append(section, [el('h2', { id: 'h-terminals' }, 'Terminals')]);
  if (state.merchants.length === 0) {
    section.append(notice('info', 'No merchants are assigned to you.'));
    return;
  }
  const body = el('div', { id: 'terminals-body' });
  const toolbar = el('div', { className: 'toolbar' }, merchantPicker(() => openView('terminals')));
  const m = merchant();
  if (m && can('merchant.write')) {
    const suspend = m.status === 'active';
    toolbar.append(
      el(
        'button',
        {
          type: 'button',
          className: 'secondary',
          id: 'merchant-status',
          onclick: () =>
            act(status, async () => {
              if (suspend && !window.confirm(`Suspend merchant ${m.merchantNo}?`)) return;
              await api('POST', `/api/merchants/${m.merchantNo}/status`, { status: suspend ? 'suspended' : 'active' });
              await showMain(`Merchant ${m.merchantNo} ${suspend ? 'suspended' : 'reactivated'}.`);
            }),
        },
        suspend ? 'Suspend merchant' : 'Reactivate merchant',
      ),
    );
  }
  if (m) toolbar.append(el('span', { className: 'muted' }, `Status: ${m.status} · time zone ${m.timeZone}`));
  append(section, [toolbar, body]);
  await loadTerminals(body, status);
}

async function loadTerminals(body, status) {
  const m = merchant();
  const { terminals } = await api('GET', `/api/merchants/${m.merchantNo}/terminals?limit=1000`);
  const write = can('terminal.write');
  const rows = terminals.map((t) => {
    const ref = `/api/merchants/${t.merchantNo}/terminals/${t.terminalNo}`;
    const actions = el('div', { className: 'row-actions' });
    actions.append(el('button', { type: 'button', className: 'link', onclick: () => act(status, () => showSignOns(t)) }, 'Sign-ons'));
    if (write) {
      actions.append(
        el(
          'button',
          {
            type: 'button',
            dataset: { action: 'rekey' },
            disabled: t.rekeyRequested || t.status !== 'active',
            onclick: () =>
              act(status, async () => {
                await api('POST', `${ref}/rekey`);
                setMessage(status, 'ok', `Re-key ordered for terminal ${t.terminalNo}: it gets new working keys at its next sign-on.`);
                await loadTerminals(body, status);
              }),
          },
          'Order re-key',
        ),
        el(
          'button',
          {
            type: 'button',
            className: 'secondary',
            dataset: { action: t.status === 'active' ? 'disable' : 'enable' },
            onclick: () =>
              act(status, async () => {
                const next = t.status === 'active' ? 'disabled' : 'active';
                if (next === 'disabled' && !window.confirm(`Disable terminal ${t.terminalNo}? It will be refused at sign-on.`)) return;
                await api('POST', `${ref}/status`, { status: next });
                setMessage(status, 'ok', `Terminal ${t.terminalNo} ${next === 'active' ? 'enabled' : 'disabled'}.`);
                await loadTerminals(body, status);
              }),
          },
          t.status === 'active' ? 'Disable' : 'Enable',
        ),
      );
    }
    return el(
      'tr',
      { dataset: { terminal: t.terminalNo } },
      el('th', { scope: 'row' }, t.terminalNo),
      el('td', {}, el('span', { className: `badge ${t.status}` }, t.status), t.rekeyRequested ? el('span', { className: 'badge warn' }, 're-key requested') : null),
      el('td', {}, el('span', { className: `badge ${t.connectionState}` }, t.connectionState)),
      el('td', {}, timeNode(t.lastSignOnAt, m.timeZone)),
      el('td', { className: 'num' }, String(t.keyGeneration)),
      el('td', { className: 'num' }, t.batchNo),
      el('td', { title: t.lastStatusAt ? `reported ${utcText(t.lastStatusAt)}` : undefined }, short(t.lastStatus, 40)),
      el('td', {}, actions),
    );
  });
  clear(body);
  body.append(
    table(['Terminal', 'Status', 'Connection', `Last sign-on (${m.timeZone})`, 'Key generation', 'Batch', 'Last reported status', 'Actions'], rows, `Terminals of ${m.name}`),
    el('div', { id: 'sign-ons' }),
  );
  if (state.terminal) {
    const t = terminals.find((x) => x.terminalNo === state.terminal);
    if (t) await showSignOns(t);
  }
}

async function showSignOns(t) {
  state.terminal = t.terminalNo;
  const m = merchant();
  const panel = document.getElementById('sign-ons');
  const h = await api('GET', `/api/merchants/${t.merchantNo}/terminals/${t.terminalNo}/sign-ons?limit=50`);
  clear(panel);
  panel.append(
    el('h3', { id: 'h-sign-ons', tabindex: '-1' }, `Sign-on history of terminal ${t.terminalNo}`),
    table(
      ['Generation', 'Scheme', 'PIK KCV', 'MAK KCV', 'TDK KCV', 'Issued', 'Superseded'],
      h.generations.map((g) =>
        el('tr', {}, el('td', { className: 'num' }, String(g.generation)), el('td', {}, g.scheme), el('td', { className: 'mono' }, g.pikKcv), el('td', { className: 'mono' }, g.makKcv), el('td', { className: 'mono' }, g.tdkKcv ?? '—'), el('td', {}, timeNode(g.createdAt, m.timeZone)), el('td', {}, timeNode(g.supersededAt, m.timeZone))),
      ),
      'Key generations (check values only)',
    ),
    table(
      ['Time', 'Event', 'Outcome', 'Operator', 'Detail'],
      h.events.map((e) => el('tr', {}, el('td', {}, timeNode(e.at, m.timeZone)), el('td', {}, e.type), el('td', {}, e.ok ? 'ok' : 'refused'), el('td', {}, e.operatorNo ?? '—'), el('td', {}, short(e.detail)))),
      'Refused sign-ons, sign-offs and operator sign-ons',
    ),
  );
  document.getElementById('h-sign-ons').focus();
}

// ---------------------------------------------------------------- operators

/** A random digit password for an operator: 8 digits for the system administrator (99), else 6. */
function operatorPassword(operatorNo) {
  const n = operatorNo === '99' ? 8 : 6;
  const bytes = new Uint32Array(n);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => String(b % 10)).join('');
}

function showOnce(status, operatorNo, password) {
  clear(status);
  status.append(
    notice('ok', `One-time password for operator ${operatorNo}: `, el('strong', { className: 'mono', id: 'one-time-password' }, password), '. Give it to the operator now; it is not shown again and must be changed at first use.'),
  );
}

async function renderOperators(section, status) {
  append(section, [el('h2', { id: 'h-operators' }, 'Operators')]);
  if (state.merchants.length === 0) {
    section.append(notice('info', 'No merchants are assigned to you.'));
    return;
  }
  const body = el('div', { id: 'operators-body' });
  append(section, [el('div', { className: 'toolbar' }, merchantPicker(() => openView('operators'))), body]);
  await loadOperators(body, status);
}

async function loadOperators(body, status) {
  const m = merchant();
  const base = `/api/merchants/${m.merchantNo}/operators`;
  const [{ operators }, roles] = await Promise.all([api('GET', base), api('GET', '/api/operator-roles').catch(() => ({ roles: [] }))]);
  const write = can('operator.write');
  const reload = () => loadOperators(body, status);
  const now = Date.now();
  const rows = operators.map((o) => {
    const locked = o.lockedUntil !== null && new Date(o.lockedUntil).getTime() > now;
    const ref = `${base}/${o.operatorNo}`;
    const actions = el('div', { className: 'row-actions' });
    if (write) {
      const enabled = o.status === 'active';
      actions.append(
        el(
          'button',
          {
            type: 'button',
            className: 'secondary',
            onclick: () =>
              act(status, async () => {
                await api('POST', `${ref}/${enabled ? 'disable' : 'enable'}`);
                setMessage(status, 'ok', `Operator ${o.operatorNo} ${enabled ? 'disabled' : 'enabled'}.`);
                await reload();
              }),
          },
          enabled ? 'Disable' : 'Enable',
        ),
      );
      if (locked) {
        actions.append(
          el(
            'button',
            {
              type: 'button',
              className: 'secondary',
              onclick: () =>
                act(status, async () => {
                  await api('POST', `${ref}/unlock`);
                  setMessage(status, 'ok', `Operator ${o.operatorNo} unlocked.`);
                  await reload();
                }),
            },
            'Unlock',
          ),
        );
      }
      actions.append(
        el(
          'button',
          {
            type: 'button',
            className: 'secondary',
            onclick: () =>
              act(status, async () => {
                if (!window.confirm(`Reset the password of operator ${o.operatorNo}?`)) return;
                const password = operatorPassword(o.operatorNo);
                await api('POST', `${ref}/password`, { password });
                await reload();
                showOnce(status, o.operatorNo, password);
              }),
          },
          'Reset password',
        ),
      );
    }
    return el(
      'tr',
      { dataset: { operator: o.operatorNo } },
      el('th', { scope: 'row' }, o.operatorNo),
      el('td', {}, o.name),
      el('td', {}, o.role),
      el('td', {}, el('span', { className: `badge ${o.status}` }, o.status)),
      el('td', {}, locked ? el('span', { className: 'badge warn', title: `until ${utcText(o.lockedUntil)}` }, 'locked') : 'no'),
      el('td', {}, actions),
    );
  });
  clear(body);
  body.append(table(['No.', 'Name', 'Role', 'Status', 'Locked', 'Actions'], rows, `Operators of ${m.name}`));
  if (write) body.append(addOperatorForm(base, roles.roles ?? [], status, reload));
}

function addOperatorForm(base, roles, status, reload) {
  const no = el('input', { id: 'op-no', required: true, pattern: '[0-9]{2}', maxlength: 2, inputmode: 'numeric', size: 3 });
  const name = el('input', { id: 'op-name', required: true, maxlength: 40 });
  const role = el('select', { id: 'op-role' }, el('option', { value: '' }, 'Default'), roles.map((r) => el('option', { value: r.role }, r.role)));
  const form = el(
    'form',
    { className: 'card inline', id: 'add-operator', 'aria-labelledby': 'h-add-operator' },
    el('h3', { id: 'h-add-operator' }, 'Add an operator'),
    el('div', { className: 'fields' }, field('Number', no, '2 digits'), field('Name', name), field('Role', role)),
    el('div', { className: 'actions' }, el('button', { type: 'submit' }, 'Add operator')),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void act(status, async () => {
      const password = operatorPassword(no.value);
      await api('POST', base, { operatorNo: no.value, name: name.value.trim(), password, ...(role.value ? { role: role.value } : {}) });
      const added = no.value;
      await reload();
      showOnce(status, added, password);
    });
  });
  return form;
}

// ---------------------------------------------------------------- audit log

function auditQuery(filters, extra = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...filters, ...extra })) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  return q.toString();
}

/** A datetime-local value, read as UTC, to ISO 8601. */
function utcInput(value) {
  if (!value) return undefined;
  const d = new Date(`${value}${value.length === 16 ? ':00' : ''}Z`);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

async function renderAudit(section, status) {
  const a = state.audit;
  const input = (id, label, key, hint) => field(label, el('input', { id, name: key, value: a.filters[key] ?? '', maxlength: 200 }), hint);
  const dt = (id, label, key) => {
    const value = a.filters[key] ? a.filters[key].slice(0, 16) : '';
    return field(label, el('input', { id, name: key, type: 'datetime-local', value }));
  };
  const form = el(
    'form',
    { className: 'card inline', id: 'audit-filters', 'aria-label': 'Audit log filters' },
    el(
      'div',
      { className: 'fields' },
      input('f-actor', 'Actor', 'actor', 'e.g. user:alice'),
      input('f-type', 'Type', 'type', 'e.g. console.sign-in'),
      input('f-resource', 'Resource', 'resource', 'e.g. terminal:…'),
      dt('f-since', 'From (UTC)', 'since'),
      dt('f-until', 'To (UTC)', 'until'),
    ),
    el('div', { className: 'actions' }, el('button', { type: 'submit' }, 'Apply filters'), el('button', { type: 'reset', className: 'secondary' }, 'Clear')),
  );
  const body = el('div', { id: 'audit-body' });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const fd = new FormData(form);
    a.filters = {
      actor: String(fd.get('actor') ?? '').trim() || undefined,
      type: String(fd.get('type') ?? '').trim() || undefined,
      resource: String(fd.get('resource') ?? '').trim() || undefined,
      since: utcInput(String(fd.get('since') ?? '')),
      until: utcInput(String(fd.get('until') ?? '')),
    };
    a.cursors = [];
    a.before = null;
    void act(status, () => loadAudit(body, status));
  });
  form.addEventListener('reset', () => {
    a.filters = {};
    a.cursors = [];
    a.before = null;
    void act(status, () => loadAudit(body, status));
  });
  append(section, [el('h2', { id: 'h-audit' }, 'Audit log'), form, body]);
  await loadAudit(body, status);
}

async function loadAudit(body, status) {
  const a = state.audit;
  const r = await api('GET', `/api/audit/events?${auditQuery(a.filters, { limit: AUDIT_PAGE, before: a.before ?? undefined })}`);
  const rows = r.events.map((e) =>
    el(
      'tr',
      {},
      el('td', {}, timeNode(e.at, 'UTC')),
      el('td', {}, e.type),
      el('td', {}, e.ok ? 'ok' : 'failed'),
      el('td', {}, e.actor ?? '—'),
      el('td', {}, e.resource ?? '—'),
      el('td', {}, e.origin ?? '—'),
      el('td', {}, short(e.detail, 60)),
    ),
  );
  const newer = el('button', { type: 'button', className: 'secondary', disabled: a.cursors.length === 0 }, 'Newer');
  const older = el('button', { type: 'button', className: 'secondary', disabled: r.nextBefore === null }, 'Older');
  newer.addEventListener('click', () => {
    a.before = a.cursors.pop() ?? null;
    void act(status, () => loadAudit(body, status));
  });
  older.addEventListener('click', () => {
    a.cursors.push(a.before);
    a.before = r.nextBefore;
    void act(status, () => loadAudit(body, status));
  });
  const csv = el('a', { id: 'audit-csv', className: 'button secondary', href: `/api/audit/events.csv?${auditQuery(a.filters)}`, download: 'qiandao-audit.csv' }, 'Export CSV');
  clear(body);
  body.append(
    table(['Time (UTC)', 'Type', 'Outcome', 'Actor', 'Resource', 'Origin', 'Detail'], rows, 'Audit events, newest first'),
    el('div', { className: 'pager' }, newer, older, el('span', { className: 'muted' }, `Page ${a.cursors.length + 1}`), csv),
  );
}

// ---------------------------------------------------------------- alerts

async function renderAlerts(section, status) {
  const open = el('input', { id: 'alerts-open', type: 'checkbox', checked: true });
  const body = el('div', { id: 'alerts-body' });
  open.addEventListener('change', () => void act(status, () => loadAlerts(body, status, open.checked)));
  append(section, [
    el('h2', { id: 'h-alerts' }, 'Alerts'),
    el('div', { className: 'toolbar' }, el('div', { className: 'field check' }, open, el('label', { for: 'alerts-open' }, 'Open alerts only'))),
    body,
  ]);
  await loadAlerts(body, status, true);
}

async function loadAlerts(body, status, openOnly) {
  const { alerts } = await api('GET', `/api/alerts?limit=200${openOnly ? '&open=true' : ''}`);
  const zone = (mid) => state.merchants.find((m) => m.merchantNo === mid)?.timeZone ?? 'UTC';
  const rows = alerts.map((a) =>
    el(
      'tr',
      { dataset: { alert: a.id } },
      el('td', {}, timeNode(a.raisedAt, zone(a.merchantNo))),
      el('td', {}, el('span', { className: `badge ${a.severity}` }, a.severity)),
      el('td', {}, a.kind),
      el('td', {}, [a.merchantNo, a.terminalNo].filter(Boolean).join(' / ') || '—'),
      el('td', {}, a.summary),
      el(
        'td',
        {},
        a.acknowledgedAt
          ? `acknowledged by ${a.acknowledgedBy ?? '?'} (${utcText(a.acknowledgedAt)})`
          : can('alert.ack')
            ? el(
                'button',
                {
                  type: 'button',
                  onclick: () =>
                    act(status, async () => {
                      await api('POST', `/api/alerts/${a.id}/ack`);
                      setMessage(status, 'ok', `Alert ${a.id} acknowledged.`);
                      await loadAlerts(body, status, openOnly);
                    }),
                },
                'Acknowledge',
              )
            : 'open',
      ),
    ),
  );
  clear(body);
  body.append(table(['Raised', 'Severity', 'Kind', 'Merchant / terminal', 'Summary', 'State'], rows, 'Monitoring alerts, newest first'));
}

// ---------------------------------------------------------------- start

document.getElementById('sign-out').addEventListener('click', () => void signOut());

async function start() {
  try {
    const me = await api('GET', '/api/auth/me', undefined, { signIn: true });
    state.user = me.user;
    if (me.scope === 'password-change') showPasswordChange();
    else await showMain();
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) showSignIn(e instanceof ApiError ? e.message : undefined);
    else showSignIn(e.code === 'unauthenticated' ? undefined : lostNote(e));
  }
}

void start();
