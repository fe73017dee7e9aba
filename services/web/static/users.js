// The Users page (admins): accounts (add, reset a password, change a role, remove) and named API tokens (make,
// shown once, revoke), all through /api/users and /api/tokens with this login.
'use strict';

import { $, api, el, formatDate, setStatus } from './api.js';

const MIN_PASSWORD = Number(document.querySelector('main')?.dataset.minPassword) || 10;
const ROLES = ['viewer', 'admin'];
const userPath = (name) => `/api/users/${encodeURIComponent(name)}`;
const tokenPath = (name) => `/api/tokens/${encodeURIComponent(name)}`;

// Run one change: its outcome in the status line, the lists reloaded either way (the CLI may have changed them too).
async function change(action, done) {
  try {
    await action();
    setStatus(done, 'ok');
  } catch (error) {
    setStatus(error.message, 'error');
  }
  await Promise.all([loadUsers(), loadTokens()]);
}

function emptyRow(text) {
  return el('tr', {}, el('td', { colspan: 4, class: 'muted' }, text));
}

// ------------------------------------------------------------------ accounts

function resetForm(user) {
  const input = el('input', {
    type: 'password', autocomplete: 'new-password', minlength: MIN_PASSWORD, required: true,
    'aria-label': `New password for ${user.name}`, placeholder: `new password (${MIN_PASSWORD}+ characters)`,
  });
  const form = el('form', { class: 'reset row', hidden: true },
    input, el('button', { type: 'submit', class: 'small primary' }, 'Set password'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    change(() => api('PUT', `${userPath(user.name)}/password`, { password: input.value }),
      `New password set for ${user.name}.`);
  });
  return form;
}

function userRow(user) {
  const reset = resetForm(user);
  const role = el('select', { 'aria-label': `Role of ${user.name}`, class: 'role' },
    ROLES.map((name) => el('option', { value: name, selected: name === user.role }, name)));
  role.addEventListener('change', () => change(() => api('PUT', `${userPath(user.name)}/role`, { role: role.value }),
    `${user.name} is now ${role.value === 'admin' ? 'an admin' : 'a viewer'}.`));
  const remove = () => {
    if (!window.confirm(`Remove the account ${user.name}? They can no longer log in.`)) return;
    change(() => api('DELETE', userPath(user.name)), `Removed ${user.name}.`);
  };
  const toggle = () => {
    reset.hidden = !reset.hidden;
    if (!reset.hidden) reset.querySelector('input').focus();
  };
  return el('tr', { dataset: { user: user.name } },
    el('td', { class: 'name' }, user.name),
    el('td', {}, role),
    el('td', { class: 'muted' }, formatDate(user.created)),
    el('td', { class: 'actions' },
      el('button', { type: 'button', class: 'small', onclick: toggle }, 'Reset password'),
      el('button', { type: 'button', class: 'small danger', onclick: remove }, 'Remove'),
      reset));
}

async function loadUsers() {
  try {
    const { users } = await api('GET', '/api/users');
    $('users-list').replaceChildren(...(users.length ? users.map(userRow) : [emptyRow('No accounts.')]));
  } catch (error) {
    setStatus(error.message, 'error');
  }
}

function addUser(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const name = $('user-name').value.trim().toLowerCase();
  change(async () => {
    await api('POST', '/api/users', { name, role: $('user-role').value, password: $('user-password').value });
    form.reset();
  }, `Added ${name}.`);
}

// ------------------------------------------------------------------ named tokens

function tokenRow(token) {
  const revoke = () => {
    if (!window.confirm(`Revoke the token ${token.name}? Whatever uses it stops at once.`)) return;
    change(() => api('DELETE', tokenPath(token.name)), `Revoked ${token.name}.`);
  };
  return el('tr', { dataset: { token: token.name } },
    el('td', { class: 'name' }, token.name),
    el('td', {}, token.scope),
    el('td', { class: 'muted' }, formatDate(token.created)),
    el('td', { class: 'actions' }, el('button', { type: 'button', class: 'small danger', onclick: revoke }, 'Revoke')));
}

async function loadTokens() {
  try {
    const { tokens } = await api('GET', '/api/tokens');
    $('tokens-list').replaceChildren(...(tokens.length ? tokens.map(tokenRow) : [emptyRow('No named tokens.')]));
  } catch (error) {
    setStatus(error.message, 'error');
  }
}

// The first camera's name for the example URL (as it goes in a URL); a placeholder when there is none.
async function exampleCamera() {
  try {
    const { cameras } = await api('GET', '/api/cameras');
    return cameras.length ? encodeURIComponent(cameras[0].id) : '<camera>';
  } catch {
    return '<camera>';
  }
}

// The token this once: kept nowhere but in this panel, which forgets it when hidden.
async function showMade(made) {
  $('token-made-name').textContent = `${made.name} (${made.scope})`;
  $('token-value').value = made.token;
  const camera = await exampleCamera();
  $('token-example').textContent = `${window.location.origin}/stream/${camera}.mjpg?token=${made.token}`;
  $('token-made').hidden = false;
  $('token-value').select();
}

function hideMade() {
  $('token-value').value = '';
  $('token-example').textContent = '';
  $('token-made').hidden = true;
}

async function copyToken() {
  const input = $('token-value');
  input.select();
  try {
    await navigator.clipboard.writeText(input.value);
    setStatus('Token copied.', 'ok');
  } catch {
    setStatus('Copy it by hand: it is selected (Ctrl-C).', '');  // the clipboard needs HTTPS or localhost
  }
}

function makeToken(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const name = $('token-name').value.trim().toLowerCase();
  hideMade();
  change(async () => {
    await showMade(await api('POST', '/api/tokens', { name, scope: $('token-scope').value }));
    form.reset();
  }, `Made ${name}: copy it now.`);
}

$('add-user').addEventListener('submit', addUser);
$('make-token').addEventListener('submit', makeToken);
$('token-copy').addEventListener('click', copyToken);
$('token-hide').addEventListener('click', hideMade);
loadUsers();
loadTokens();
