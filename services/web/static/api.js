// What the account pages share: the JSON API with this login (and its CSRF token), and safe DOM building.
//
// An ES module (no build step, nothing from the internet). Names come from users, so nothing user-provided
// goes through innerHTML: el() makes text children text nodes and sets attributes with setAttribute.
'use strict';

// Writes made with the login cookie carry the page's CSRF token (services/web/auth.py).
const CSRF_TOKEN = document.querySelector('meta[name="csrf-token"]')?.content || '';

export const $ = (id) => document.getElementById(id);

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function formatDate(seconds) {
  if (!seconds) return 'unknown date';
  return new Date(seconds * 1000).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function setStatus(text, kind = '') {
  const status = $('status');
  status.textContent = text;
  status.className = `status ${kind}`;
}

// A refusal from the server, with its words (the API's {"error": ...}).
export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

// The JSON answer of one call; ApiError with the server's reason otherwise (a lost login sends to the login page).
export async function api(method, path, json) {
  const headers = method === 'GET' ? {} : { 'X-CSRFToken': CSRF_TOKEN };
  const init = { method, headers, cache: 'no-store', credentials: 'same-origin' };
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiError(`The server cannot be reached (${error.message}).`, 0);
  }
  if (response.status === 401) {
    window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname)}`);
    throw new ApiError('Logged out: log in again.', 401);
  }
  let body = {};
  try {
    body = await response.json();
  } catch {
    // a proxy's page, say: the status says enough
  }
  if (!response.ok) throw new ApiError(body.error || `The server answered ${response.status}.`, response.status);
  return body;
}
