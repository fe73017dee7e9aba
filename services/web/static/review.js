// The Review page: recent sightings grouped by visitor (Unknown) and by person (named), a few face crops each, and
// the actions that teach the matcher: "Yes, that's Ana" (the crop becomes her photo), "Not Ana" (a negative
// example), naming a visitor (their best crops are enrolled), delete. Each action reloads the groups; the server
// announces people.changed, so the live view follows within a second.
'use strict';

import { $, api, el, setStatus } from './api.js';
import { UNKNOWN, displayName, faceThumb, formatDate } from './sightings.js';

const RECENT = 300;                 // the sightings grouped: the newest this many
const CROPS_SHOWN = 4;              // crops per group
const REFRESH_MS = 15000;           // new sightings come in; a half-typed name is never pulled away
const IS_ADMIN = document.querySelector('main')?.dataset.role === 'admin';
const personPath = (name) => `/api/people/${encodeURIComponent(name)}`;

// Groups in the order their newest sighting came: {key, kind: 'visitor'|'person', id|name, items}.
function grouped(items) {
  const groups = new Map();
  for (const item of items) {
    let key;
    if (item.name !== UNKNOWN) key = `person:${item.name}`;
    else if (item.visitor) key = `visitor:${item.visitor}`;
    else continue;                  // a stranger not (yet) recognised as a visitor: nothing to review by
    if (!groups.has(key)) {
      groups.set(key, item.name !== UNKNOWN
        ? { key, kind: 'person', name: item.name, items: [] }
        : { key, kind: 'visitor', id: item.visitor, items: [] });
    }
    groups.get(key).items.push(item);
  }
  return [...groups.values()];
}

// One action: its outcome in the group's own line (and the page's), then the groups reloaded.
async function act(group, action, done) {
  const line = group.querySelector('.status');
  for (const button of group.querySelectorAll('button')) button.disabled = true;
  try {
    const answer = await action();
    const text = typeof done === 'function' ? done(answer) : done;
    setStatus(text, 'ok');
  } catch (error) {
    line.textContent = error.message;
    line.className = 'status error';
    setStatus(error.message, 'error');
    for (const button of group.querySelectorAll('button')) button.disabled = false;
    return;
  }
  await load();
}

function cropItem(group, entry, item) {
  const actions = [];
  if (entry.kind === 'person') {
    const shown = displayName(entry.name);
    actions.push(
      el('button', {
        type: 'button', class: 'small primary', onclick: () => act(group,
          () => api('POST', `${personPath(entry.name)}/photos`, { sighting: item.id }),
          (answer) => (answer.files?.[0]?.already_enrolled
            ? `That face is one of ${shown}'s photos already.` : `Added the face to ${shown}'s photos.`)),
      }, `Yes, that's ${shown}`),
      el('button', {
        type: 'button', class: 'small', onclick: () => act(group,
          () => api('POST', `${personPath(entry.name)}/not`, { sighting: item.id }),
          `Kept as a face that is not ${shown}: faces like it are no longer named so.`),
      }, `Not ${shown}`));
  }
  actions.push(el('button', {
    type: 'button', class: 'small danger', onclick: () => {
      if (!window.confirm('Delete this sighting and its pictures?')) return;
      act(group, () => api('DELETE', `/api/sightings/${item.id}`), `Deleted sighting ${item.id}.`);
    },
  }, 'Delete'));
  return el('li', { class: 'crop', dataset: { sighting: item.id } },
    el('div', { class: 'picture' }, faceThumb(item)),
    el('span', { class: 'muted' }, `${item.camera} · ${formatDate(item.start)}`),
    el('div', { class: 'actions' }, actions));
}

function nameForm(group, entry) {
  const input = el('input', {
    maxlength: 64, required: true, 'aria-label': `Name of visitor ${entry.id}`,
    placeholder: 'Their name, e.g. Ada Lovelace', autocomplete: 'off',
  });
  const form = el('form', { class: 'name-form' }, input,
    el('button', { type: 'submit', class: 'small primary' }, 'Name'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const name = input.value.trim();
    act(group, () => api('POST', `/api/visitors/${entry.id}/name`, { name }), (answer) => {
      const faces = `${answer.enrolled} face${answer.enrolled === 1 ? '' : 's'} enrolled`;
      return `Visitor ${entry.id} is ${displayName(name)}: ${faces}${answer.warning ? ` (${answer.warning})` : ''}.`;
    });
  });
  return form;
}

function groupCard(entry) {
  const cameras = [...new Set(entry.items.map((item) => item.camera))].sort();
  const newest = entry.items[0];
  const title = entry.kind === 'person' ? displayName(entry.name) : `Unknown · visitor ${entry.id}`;
  const group = el('article', {
    class: 'group', dataset: entry.kind === 'person' ? { person: entry.name } : { visitor: entry.id },
  });
  const count = `${entry.items.length} recent sighting${entry.items.length === 1 ? '' : 's'}`;
  group.append(
    el('h3', {}, title),
    el('p', { class: 'muted' }, `${count} on ${cameras.join(', ')}; last ${formatDate(newest.start)}`));
  if (IS_ADMIN) {
    if (entry.kind === 'visitor') group.append(nameForm(group, entry));
    group.append(el('ul', { class: 'crops', 'aria-label': `Faces of ${title}` },
      entry.items.slice(0, CROPS_SHOWN).map((item) => cropItem(group, entry, item))));
  }
  group.append(el('p', { class: 'status', role: 'status' }));
  return group;
}

async function load() {
  try {
    const { items } = await api('GET', `/api/sightings?limit=${RECENT}`);
    const groups = grouped(items);
    $('groups').replaceChildren(...(groups.length ? groups.map(groupCard)
      : [el('p', { class: 'muted' }, 'No recent faces to review.')]));
    const visitors = groups.filter((entry) => entry.kind === 'visitor').length;
    $('summary').textContent = `${visitors} visitor${visitors === 1 ? '' : 's'}, `
      + `${groups.length - visitors} ${groups.length - visitors === 1 ? 'person' : 'people'}`;
  } catch (error) {
    setStatus(error.message, 'error');
  }
}

function refreshUnlessTyping() {
  const typing = [...document.querySelectorAll('.name-form input')].some((input) => input.value);
  if (!typing && !document.querySelector('.group button:disabled')) load();
}

$('viewer-note').hidden = IS_ADMIN;
$('refresh').addEventListener('click', load);
setInterval(refreshUnlessTyping, REFRESH_MS);
load();
