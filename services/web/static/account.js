// The Account page: change one's own password through /api/me/password (the current one is asked for).
'use strict';

import { $, api, setStatus } from './api.js';

const form = $('change-password');

async function changePassword(event) {
  event.preventDefault();
  const current = $('current-password').value;
  const fresh = $('new-password').value;
  if (fresh !== $('repeat-password').value) {
    setStatus('The two new passwords differ.', 'error');
    return;
  }
  const button = form.querySelector('button[type=submit]');
  button.disabled = true;
  try {
    await api('POST', '/api/me/password', { current, new: fresh });
    form.reset();
    setStatus('Password changed: use the new one at your next login.', 'ok');
  } catch (error) {
    setStatus(error.message, 'error');
  } finally {
    button.disabled = false;
  }
}

if (form) form.addEventListener('submit', changePassword);
