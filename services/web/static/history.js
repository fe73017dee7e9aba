// The History page: sightings newest first (filtered by person, visitor, camera and time, paged with next_cursor),
// and when and where each person was seen. Faces are shown to admins only (a viewer's login cannot fetch them).
'use strict';

import { $, api, el, setStatus } from './api.js';
import { UNKNOWN, displayName, duration, faceThumb, formatDate, who } from './sightings.js';

const PAGE = 50;
const IS_ADMIN = document.querySelector('main')?.dataset.role === 'admin';
const state = { query: new URLSearchParams(), cursor: null, loading: false };

// A datetime-local value (the browser's local time) as Unix seconds; '' when empty.
function seconds(value) {
  if (!value) return '';
  const time = new Date(value).getTime();
  return Number.isFinite(time) ? String(time / 1000) : '';
}

function readFilters() {
  const query = new URLSearchParams();
  const name = $('filter-name').value.trim();
  // the page shows names with spaces; a name typed so is looked up as stored when it is one of the known ones
  const stored = [...$('filter-names').options].map((option) => option.dataset.stored).find(
    (candidate) => candidate && displayName(candidate) === name);
  if (name) query.set('name', stored || name);
  const values = {
    visitor: $('filter-visitor').value.trim(), camera: $('filter-camera').value,
    since: seconds($('filter-since').value), until: seconds($('filter-until').value),
  };
  for (const [key, value] of Object.entries(values)) if (value) query.set(key, value);
  return query;
}

function sightingRow(item) {
  const filterBy = (key, value) => () => {
    $('filter-name').value = key === 'name' ? displayName(value) : '';
    $('filter-visitor').value = key === 'visitor' ? value : '';
    show();
  };
  const person = item.name === UNKNOWN
    ? (item.visitor
      ? el('button', { type: 'button', class: 'link', onclick: filterBy('visitor', item.visitor) }, who(item))
      : UNKNOWN)
    : el('button', { type: 'button', class: 'link', onclick: filterBy('name', item.name) }, who(item));
  return el('li', { class: 'sighting', dataset: { sighting: item.id, camera: item.camera } },
    IS_ADMIN ? el('div', { class: 'face' }, faceThumb(item)) : null,
    el('div', { class: 'what' },
      el('div', { class: 'who' }, person),
      el('div', { class: 'muted' },
        `${item.camera} · ${formatDate(item.start)} · ${duration(item)} · ${Math.round(item.confidence)}% · `
        + `${item.frames} frames`)));
}

async function load(more) {
  if (state.loading) return;
  state.loading = true;
  const query = new URLSearchParams(state.query);
  query.set('limit', String(PAGE));
  if (more && state.cursor) query.set('cursor', state.cursor);
  try {
    const page = await api('GET', `/api/sightings?${query}`);
    const rows = page.items.map(sightingRow);
    if (more) $('sightings').append(...rows);
    else $('sightings').replaceChildren(...(rows.length ? rows : [el('li', { class: 'muted' }, 'No sightings.')]));
    state.cursor = page.next_cursor;
    $('more').hidden = !page.next_cursor;
    setStatus('');
  } catch (error) {
    setStatus(error.message, 'error');
  } finally {
    state.loading = false;
  }
}

function show(event) {
  event?.preventDefault();
  state.query = readFilters();
  state.cursor = null;
  load(false);
}

async function loadSeen() {
  try {
    const { names } = await api('GET', '/api/sightings/names');
    $('filter-names').replaceChildren(
      ...names.map((seen) => el('option', { value: displayName(seen.name), dataset: { stored: seen.name } })),
      el('option', { value: UNKNOWN }));
    const rows = names.map((seen) => el('tr', { dataset: { person: seen.name } },
      el('td', { class: 'name' }, el('button', {
        type: 'button', class: 'link',
        onclick: () => { $('filter-name').value = displayName(seen.name); $('filter-visitor').value = ''; show(); },
      }, displayName(seen.name))),
      el('td', {}, formatDate(seen.first_seen)),
      el('td', {}, formatDate(seen.last_seen)),
      el('td', {}, `${seen.cameras.join(', ')} (${seen.sightings} sighting${seen.sightings === 1 ? '' : 's'})`)));
    $('seen-list').replaceChildren(...(rows.length ? rows
      : [el('tr', {}, el('td', { colspan: 4, class: 'muted' }, 'Nobody known seen yet.'))]));
  } catch (error) {
    setStatus(error.message, 'error');
  }
}

async function loadCameras() {
  try {
    const { cameras } = await api('GET', '/api/cameras');
    $('filter-camera').append(...cameras.map((camera) => el('option', { value: camera.id }, camera.id)));
  } catch (error) {
    setStatus(error.message, 'error');
  }
}

$('viewer-note').hidden = IS_ADMIN;
$('filters').addEventListener('submit', show);
$('filter-clear').addEventListener('click', () => { $('filters').reset(); show(); });
$('more').addEventListener('click', () => load(true));
loadCameras();
loadSeen();
show();
