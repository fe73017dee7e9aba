// The People page: enrol, browse, rename and forget the known people, and recognise a photo, through /api.
//
// Plain browser JavaScript, no build step, nothing from the internet. Every name comes from users, so
// nothing user-provided ever goes through innerHTML: the DOM is built with el(), whose text children are
// text nodes and whose attributes are set with setAttribute.
'use strict';

// Writes made with the login cookie carry the page's CSRF token (services/web/auth.py).
const CSRF_TOKEN = document.querySelector('meta[name="csrf-token"]')?.content || '';
// Below this many photos a person is named on far fewer of their faces: the matcher's own figure, from the page.
const FEW_PHOTOS = Number(document.querySelector('main.people-page')?.dataset.photosAdvised) || 3;
const FEW_PHOTOS_ADVICE = `Add more photos (${FEW_PHOTOS} or more, in different light and angles) to be recognised reliably`;
const THUMBS_SHOWN = 12;            // photos shown per person before "show all"
const THUMB_FETCHES = 4;            // photos fetched at once
const LIST_REFRESH_MS = 10000;      // the list also changes from the CLI or another browser
const CAMERA_FRAME_TIMEOUT_MS = 8000;
const SNAPSHOT_QUALITY = 0.92;

const state = {
  role: '',                         // 'admin' or 'viewer': what this login may do
  people: [],
  listSignature: '',
  expanded: new Set(),              // people whose every photo is shown
  thumbs: new Map(),                // photo id (content hash) -> Promise<object URL>
  snapshots: [],                    // {blob, url, label}
  webcam: null,                     // MediaStream
  busy: false,
};

const $ = (id) => document.getElementById(id);

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'style') Object.assign(node.style, value); // CSSOM: the page's CSP refuses style attributes
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function setStatus(text, kind = '') {
  const status = $('status');
  status.textContent = text;
  status.className = `status ${kind}`;
}

function plural(count, one, many = `${one}s`) {
  return `${count} ${count === 1 ? one : many}`;
}

function formatDate(seconds) {
  if (!seconds) return 'unknown date';
  return new Date(seconds * 1000).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

// ------------------------------------------------------------------ the API, with this login

class SignedOut extends Error {}

const personPath = (name) => `/api/people/${encodeURIComponent(name)}`;

async function api(method, path, { body, json } = {}) {
  const headers = method === 'GET' ? {} : { 'X-CSRFToken': CSRF_TOKEN };
  let payload = body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload, cache: 'no-store', credentials: 'same-origin' });
  } catch (error) {
    throw new Error(`cannot reach facestream (${error.message})`);
  }
  if (response.status === 401) {
    // The login ended (expired, or logged out in another tab): log in again, then come back here.
    window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname)}`);
    throw new SignedOut('signed out');
  }
  return response;
}

async function readJson(response) {
  try {
    return await response.json();
  } catch {
    return {};
  }
}

function problemOf(response, body) {
  return body.error || `the server answered ${response.status} ${response.statusText}`;
}

async function showApp() {
  try {
    state.role = (await readJson(await api('GET', '/api/me'))).role || '';
  } catch (problem) {
    if (!(problem instanceof SignedOut)) setStatus(problem.message, 'error');
    return;
  }
  $('viewer-note').hidden = state.role !== 'viewer';
  $('app').hidden = false;
  loadPeople(true);
  loadCameras();
}

// ------------------------------------------------------------------ the list of people

async function loadPeople(force = false) {
  let people;
  try {
    const response = await fetch('/api/people', { cache: 'no-store' });
    people = (await readJson(response)).people || [];
  } catch (error) {
    setStatus(`Cannot load the people: ${error.message}`, 'error');
    return;
  }
  const signature = JSON.stringify(people);
  if (!force && signature === state.listSignature) return;
  if (!force && document.querySelector('.person.editing')) return; // never pull a rename form from under the user
  state.listSignature = signature;
  state.people = people;
  renderPeople();
}

function renderPeople() {
  const list = $('people-list');
  $('people-count').textContent = state.people.length ? `(${state.people.length})` : '';
  const names = $('known-names');
  names.replaceChildren(...state.people.map((person) => el('option', { value: person.name })));
  forgetUnusedThumbs();
  if (!state.people.length) {
    list.replaceChildren(el('p', { class: 'muted' }, 'Nobody is known yet: add a person on the left.'));
    return;
  }
  list.replaceChildren(...state.people.map(personCard));
}

function personCard(person) {
  const ids = person.photo_ids || [];
  const showAll = state.expanded.has(person.name) || ids.length <= THUMBS_SHOWN;
  const shown = showAll ? ids : ids.slice(0, THUMBS_SHOWN);
  const thumbs = shown.map((id, index) => photoThumb(person.name, id, index + 1));
  if (!showAll) {
    thumbs.push(el('li', {}, el('button', {
      type: 'button', class: 'more small',
      onclick: () => { state.expanded.add(person.name); renderPeople(); },
    }, `Show all ${ids.length}`)));
  }
  return el('article', { class: 'person', dataset: { person: person.name } },
    el('div', { class: 'person-head' },
      el('h3', { class: 'person-name' }, person.name),
      el('span', { class: 'meta' }, `${plural(person.photos, 'photo')} · added ${formatDate(person.added)}`),
      person.photos < FEW_PHOTOS ? el('span', { class: 'advice' }, FEW_PHOTOS_ADVICE) : null,
      el('div', { class: 'actions' },
        el('button', { type: 'button', class: 'small', onclick: () => addPhotosFor(person.name) }, 'Add photos'),
        el('button', { type: 'button', class: 'small', onclick: (event) => startRename(event, person.name) }, 'Rename'),
        el('button', { type: 'button', class: 'small danger', onclick: () => deletePerson(person) }, 'Delete'))),
    el('ul', { class: 'thumbs', 'aria-label': `Photos of ${person.name}` }, thumbs));
}

function photoThumb(name, photoId, number) {
  const image = el('img', { alt: `Photo ${number} of ${name}`, decoding: 'async', dataset: { photoId } });
  thumbUrl(name, photoId).then(
    (url) => { image.src = url; },
    () => { image.classList.add('broken'); image.alt = `Photo ${number} of ${name} could not be loaded`; },
  );
  return el('li', { class: 'thumb' }, image,
    el('button', {
      type: 'button', class: 'remove', title: 'Delete this photo', 'aria-label': `Delete photo ${number} of ${name}`,
      onclick: () => deletePhoto(name, photoId),
    }, '×'));
}

// Photos are an admin's: fetched, and shown as blob URLs, so a refused one is told apart from a broken one.
// A photo id is its content hash, so one URL serves the photo whatever its person is called.
const thumbQueue = [];
let thumbsInFlight = 0;

function thumbUrl(name, photoId) {
  if (!state.thumbs.has(photoId)) {
    const promise = new Promise((resolve, reject) => {
      thumbQueue.push({ name, photoId, resolve, reject });
      pumpThumbs();
    });
    promise.catch(() => state.thumbs.delete(photoId)); // try again at the next render
    state.thumbs.set(photoId, promise);
  }
  return state.thumbs.get(photoId);
}

function pumpThumbs() {
  while (thumbsInFlight < THUMB_FETCHES && thumbQueue.length) {
    const job = thumbQueue.shift();
    thumbsInFlight += 1;
    api('GET', `${personPath(job.name)}/photos/${encodeURIComponent(job.photoId)}`)
      .then(async (response) => {
        if (!response.ok) throw new Error(`photo ${job.photoId}: ${response.status}`);
        job.resolve(URL.createObjectURL(await response.blob()));
      })
      .catch(job.reject)
      .finally(() => { thumbsInFlight -= 1; pumpThumbs(); });
  }
}

function forgetUnusedThumbs() {
  const used = new Set(state.people.flatMap((person) => person.photo_ids || []));
  for (const [photoId, promise] of state.thumbs) {
    if (!used.has(photoId)) {
      state.thumbs.delete(photoId);
      promise.then((url) => URL.revokeObjectURL(url), () => {});
    }
  }
}

function addPhotosFor(name) {
  $('add-name').value = name;
  selectTab('upload');
  $('add-card').scrollIntoView({ behavior: 'smooth', block: 'start' });
  $('add-files').focus();
}

function startRename(event, name) {
  const card = event.target.closest('.person');
  const heading = card.querySelector('.person-name');
  const input = el('input', { value: name, maxlength: 64, 'aria-label': `New name for ${name}`, required: true });
  const error = el('p', { class: 'error rename-error', role: 'alert', hidden: true });
  const finish = () => { card.classList.remove('editing'); loadPeople(true); };
  const form = el('form', { class: 'rename' }, input,
    el('button', { type: 'submit', class: 'primary small' }, 'Save'),
    el('button', { type: 'button', class: 'small', onclick: finish }, 'Cancel'),
    error);
  form.addEventListener('submit', async (submit) => {
    submit.preventDefault();
    const newName = input.value.trim();
    if (!newName || newName === name) { finish(); return; }
    try {
      const response = await api('PATCH', personPath(name), { json: { name: newName } });
      const body = await readJson(response);
      if (!response.ok) {
        error.textContent = problemOf(response, body);
        error.hidden = false;
        input.focus();
        return;
      }
      if (state.expanded.delete(name)) state.expanded.add(body.name);
      setStatus(`Renamed ${name} to ${body.name}.`, 'ok');
      finish();
    } catch (problem) {
      if (!(problem instanceof SignedOut)) { error.textContent = problem.message; error.hidden = false; }
    }
  });
  card.classList.add('editing');
  heading.replaceWith(form);
  input.select();
}

// Forgetting a person keeps their sightings (when and where they were seen) unless the admin ticks the box.
async function deletePerson(person) {
  let sightings = 0;
  try {
    sightings = await sightingsOf(person.name);
  } catch (problem) {
    if (problem instanceof SignedOut) return;
  }
  const choice = await askToForget(person, sightings);
  if (!choice) return;
  const query = choice.deleteSightings ? '?sightings=delete' : '';
  await change(() => api('DELETE', `${personPath(person.name)}${query}`),
    (body) => `Forgot ${person.name}. Their sightings: ${body.sightings || 'kept'}.`);
}

// How many sightings are kept under this name (0 when the sightings database cannot say).
async function sightingsOf(name) {
  const response = await api('GET', '/api/sightings/names');
  if (!response.ok) return 0;
  const seen = ((await readJson(response)).names || []).find((one) => one.name === name);
  return seen ? seen.sightings : 0;
}

// The confirm dialog, with "also delete their N sightings" when there are any: {deleteSightings} or null.
function askToForget(person, sightings) {
  const dialog = $('forget-dialog');
  const box = $('forget-sightings');
  $('forget-title').textContent = `Forget ${person.name}?`;
  $('forget-what').textContent = `Their ${plural(person.photos, 'photo')} will be deleted; they will no longer be recognised.`;
  box.checked = false;
  $('forget-sightings-row').hidden = !sightings;
  $('forget-sightings-label').textContent =
    `Also delete their ${plural(sightings, 'sighting')} (when and where they were seen, face crops and snapshots)`;
  $('forget-sightings-kept').textContent = sightings
    ? 'Left unticked, the History page keeps showing them under this name. One still in view is kept either way.'
    : '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'forget' ? { deleteSightings: box.checked } : null);
    }, { once: true });
    dialog.returnValue = '';
    dialog.showModal();
    $('forget-confirm').focus();
  });
}

async function deletePhoto(name, photoId) {
  if (!window.confirm(`Delete this photo of ${name}?`)) return;
  await change(() => api('DELETE', `${personPath(name)}/photos/${encodeURIComponent(photoId)}`),
    `Deleted a photo of ${name}.`);
}

// Make a change and say how it went: ``done`` is the message, or makes it from the answer.
async function change(call, done) {
  try {
    const response = await call();
    const body = await readJson(response);
    if (!response.ok) { setStatus(problemOf(response, body), 'error'); return; }
    setStatus(typeof done === 'function' ? done(body) : done, 'ok');
  } catch (problem) {
    if (!(problem instanceof SignedOut)) setStatus(problem.message, 'error');
  }
  await loadPeople(true);
}

// ------------------------------------------------------------------ adding photos

function wantedName() {
  const name = $('add-name').value.trim();
  if (!name) {
    setStatus("Enter the person's name first.", 'error');
    $('add-name').focus();
  }
  return name;
}

// One request per photo: the server's size limit is per request, and each file gets its own progress.
async function uploadPhotos(name, files) {
  if (state.busy) return;
  state.busy = true;
  const entries = [];
  let stopped = '';
  try {
    for (const [index, { blob, filename }] of files.entries()) {
      setStatus(`Checking ${filename} (${index + 1} of ${files.length})…`);
      const form = new FormData();
      form.append('photos', blob, filename);
      const response = await api('POST', `${personPath(name)}/photos`, { body: form });
      const body = await readJson(response);
      if ((response.status === 201 || response.status === 422) && body.files) {
        entries.push(...body.files.map((entry) => ({ ...entry, file: filename })));
        if (body.person) name = body.person;
      } else if (response.status === 400) { // a bad name: every file would be refused alike
        stopped = problemOf(response, body);
        break;
      } else {
        entries.push({ file: filename, kept: false, reason: problemOf(response, body) });
      }
    }
  } catch (problem) {
    stopped = problem instanceof SignedOut ? '' : problem.message;
  } finally {
    state.busy = false;
  }
  renderReport(name, entries, stopped);
  const kept = entries.filter((entry) => entry.kept).length;
  setStatus(stopped || `${plural(kept, 'photo')} of ${name} kept, ${entries.length - kept} skipped.`,
    stopped || kept < entries.length ? 'error' : 'ok');
  await loadPeople(true);
  return kept;
}

function renderReport(name, entries, stopped) {
  const items = entries.map((entry) => {
    const kind = !entry.kept ? 'skipped' : entry.already_enrolled ? 'already' : entry.warning ? 'warned' : 'kept';
    const mark = { kept: '✓ kept', warned: '⚠ kept', already: '= already enrolled', skipped: '✗ skipped' }[kind];
    const why = kind === 'already' ? null : entry.kept ? entry.warning : entry.reason;
    return el('li', { class: kind }, `${mark}: ${entry.file}`, why ? el('span', { class: 'why' }, ` — ${why}`) : null);
  });
  const added = entries.filter((entry) => entry.kept && !entry.already_enrolled).length;
  const heading = added ? `${name}: ${added} of ${plural(entries.length, 'file')} enrolled` : `${name}: nothing new enrolled`;
  const parts = [el('h3', {}, heading)];
  if (stopped) parts.push(el('p', { class: 'error', role: 'alert' }, stopped));
  if (items.length) parts.push(el('ul', {}, items));
  $('report').replaceChildren(...parts);
}

async function onUploadFiles() {
  const name = wantedName();
  const input = $('add-files');
  if (!name) return;
  if (!input.files.length) { setStatus('Choose one or more photos first.', 'error'); return; }
  const files = [...input.files].map((file) => ({ blob: file, filename: file.name }));
  const kept = await uploadPhotos(name, files);
  if (kept) input.value = '';
}

// ------------------------------------------------------------------ snapshots (webcam or facestream camera)

function addSnapshot(blob, source) {
  const number = state.snapshots.length + 1;
  state.snapshots.push({ blob, url: URL.createObjectURL(blob), label: `${source}-${number}.jpg` });
  renderSnapshots();
}

function renderSnapshots() {
  const count = state.snapshots.length;
  $('snapshots').hidden = count === 0;
  $('snapshot-count').textContent = count ? `(${count})` : '';
  $('snapshots-upload').textContent = `Add ${plural(count, 'snapshot')}`;
  $('snapshot-list').replaceChildren(...state.snapshots.map((snapshot, index) => el('li', { class: 'thumb' },
    el('img', { src: snapshot.url, alt: `Snapshot ${index + 1}` }),
    el('button', {
      type: 'button', class: 'remove', title: 'Drop this snapshot', 'aria-label': `Drop snapshot ${index + 1}`,
      onclick: () => { URL.revokeObjectURL(snapshot.url); state.snapshots.splice(index, 1); renderSnapshots(); },
    }, '×'))));
}

function clearSnapshots() {
  for (const snapshot of state.snapshots) URL.revokeObjectURL(snapshot.url);
  state.snapshots = [];
  renderSnapshots();
  if ($('status').textContent.startsWith('Snapshot taken')) setStatus('');
}

async function onUploadSnapshots() {
  const name = wantedName();
  if (!name || !state.snapshots.length) return;
  const files = state.snapshots.map((snapshot) => ({ blob: snapshot.blob, filename: snapshot.label }));
  await uploadPhotos(name, files);
  clearSnapshots();
}

function canvasJpeg(source, width, height) {
  const canvas = el('canvas', { width, height });
  canvas.getContext('2d').drawImage(source, 0, 0, width, height);
  return new Promise((resolve, reject) => canvas.toBlob(
    (blob) => (blob ? resolve(blob) : reject(new Error('the snapshot could not be encoded'))),
    'image/jpeg', SNAPSHOT_QUALITY));
}

async function startWebcam() {
  const hint = $('webcam-hint');
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    hint.textContent = window.isSecureContext
      ? 'This browser gives pages no camera access.'
      : 'Browsers give pages a camera only over https:// or on http://localhost. Open this page that way, '
        + 'or use a facestream camera or photo upload.';
    hint.className = 'error';
    return;
  }
  try {
    state.webcam = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false,
    });
  } catch (error) {
    hint.textContent = error.name === 'NotAllowedError'
      ? 'Camera access was refused: allow it in the browser (address bar) and try again.'
      : `The camera cannot be opened: ${error.message || error.name}`;
    hint.className = 'error';
    return;
  }
  const video = $('webcam');
  video.srcObject = state.webcam;
  video.hidden = false;
  await video.play().catch(() => {});
  hint.textContent = 'Take several snapshots, turning the head a little between them.';
  hint.className = 'muted';
  $('webcam-snap').disabled = false;
  $('webcam-stop').disabled = false;
  $('webcam-start').disabled = true;
}

function stopWebcam() {
  if (state.webcam) state.webcam.getTracks().forEach((track) => track.stop());
  state.webcam = null;
  const video = $('webcam');
  video.srcObject = null;
  video.hidden = true;
  $('webcam-snap').disabled = true;
  $('webcam-stop').disabled = true;
  $('webcam-start').disabled = false;
}

async function snapWebcam() {
  const video = $('webcam');
  if (!video.videoWidth) { setStatus('The camera has no picture yet.', 'error'); return; }
  try {
    addSnapshot(await canvasJpeg(video, video.videoWidth, video.videoHeight), 'webcam');
  } catch (error) {
    setStatus(error.message, 'error');
  }
}

async function loadCameras() {
  const select = $('camera-select');
  let cameras = [];
  try {
    cameras = (await readJson(await fetch('/api/cameras', { cache: 'no-store' }))).cameras || [];
  } catch (error) {
    $('camera-hint').textContent = `Cannot list the cameras: ${error.message}`;
  }
  const previous = select.value;
  select.replaceChildren(...cameras.map((camera) => el('option', { value: camera.id },
    `${camera.id}${camera.status === 'live' ? '' : ' (no signal)'}`)));
  if (cameras.some((camera) => camera.id === previous)) select.value = previous;
  select.disabled = !cameras.length;
  $('camera-grab').disabled = !cameras.length;
  if (!cameras.length) {
    select.append(el('option', { value: '' }, 'no camera'));
    $('camera-hint').textContent = 'facestream has no camera configured (SOURCE=none).';
  }
}

// One frame of the raw MJPEG stream: read parts until one is a real frame (X-Frame-Id >= 0; -1 is the
// "no signal" card), then hang up.
async function grabCameraFrame(camera) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), CAMERA_FRAME_TIMEOUT_MS);
  try {
    const response = await fetch(`/stream/${encodeURIComponent(camera)}.mjpg?overlay=0`,
      { signal: controller.signal, cache: 'no-store' });
    if (!response.ok) throw new Error(problemOf(response, await readJson(response)));
    const reader = response.body.getReader();
    let buffer = new Uint8Array(0);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the stream ended before a frame came');
      buffer = joinBytes(buffer, value);
      for (let part = nextPart(buffer); part; part = nextPart(buffer)) {
        buffer = part.rest;
        if (part.frameId >= 0) return new Blob([part.jpeg], { type: 'image/jpeg' });
      }
    }
  } catch (error) {
    if (error.name === 'AbortError') {
      throw new Error(`no frame from camera ${camera} within ${CAMERA_FRAME_TIMEOUT_MS / 1000} s: it has no signal`);
    }
    throw error;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

function joinBytes(a, b) {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a, 0);
  joined.set(b, a.length);
  return joined;
}

function headerEnd(bytes) {
  for (let i = 0; i + 3 < bytes.length; i += 1) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
  }
  return -1;
}

function nextPart(buffer) {
  const end = headerEnd(buffer);
  if (end < 0) return null;
  const headers = {};
  for (const line of new TextDecoder('latin1').decode(buffer.subarray(0, end)).split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number.parseInt(headers['content-length'], 10);
  if (!Number.isFinite(length)) throw new Error('the camera stream has no Content-Length');
  const start = end + 4;
  if (buffer.length < start + length) return null;
  return {
    frameId: Number.parseInt(headers['x-frame-id'] ?? '0', 10),
    jpeg: buffer.slice(start, start + length),
    rest: buffer.subarray(start + length),
  };
}

async function snapCamera() {
  const camera = $('camera-select').value;
  if (!camera) return;
  const button = $('camera-grab');
  button.disabled = true;
  setStatus(`Taking a snapshot from camera ${camera}…`);
  try {
    addSnapshot(await grabCameraFrame(camera), `camera-${camera}`);
    setStatus(`Snapshot taken from camera ${camera}.`, 'ok');
  } catch (error) {
    setStatus(error.message, 'error');
  } finally {
    button.disabled = false;
  }
}

function selectTab(tab) {
  for (const button of document.querySelectorAll('[role="tab"]')) {
    button.setAttribute('aria-selected', String(button.dataset.tab === tab));
  }
  for (const panel of document.querySelectorAll('.tab-panel')) panel.hidden = panel.dataset.panel !== tab;
  if (tab !== 'webcam') stopWebcam(); // never keep a camera light on out of sight
  if (tab === 'server') loadCameras();
}

// ------------------------------------------------------------------ recognising a photo

function loadImage(url) {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new Error('the browser cannot show this image'));
    image.src = url;
  });
}

async function onRecognise() {
  const file = $('recognize-file').files[0];
  if (!file) return;
  const message = $('recognize-message');
  const canvas = $('recognize-canvas');
  $('recognize-faces').replaceChildren();
  canvas.hidden = true;
  message.textContent = 'Recognising…';
  message.className = 'muted';
  try {
    const form = new FormData();
    form.append('image', file, file.name);
    const response = await api('POST', '/api/recognize', { body: form });
    const body = await readJson(response);
    if (!response.ok) throw new Error(problemOf(response, body));
    await drawFaces(file, body.faces);
    message.textContent = body.faces.length
      ? `${plural(body.faces.length, 'face')} in ${file.name} (${body.width}×${body.height}).`
      : `No face found in ${file.name}.`;
  } catch (problem) {
    if (problem instanceof SignedOut) return;
    message.textContent = problem.message;
    message.className = 'error';
  }
}

const faceColour = (face) => (face.name === 'Unknown' ? '#e53935' : '#43a047');

async function drawFaces(file, faces) {
  const url = URL.createObjectURL(file);
  try {
    const image = await loadImage(url);
    const canvas = $('recognize-canvas');
    const scale = Math.min(1, 1600 / Math.max(image.naturalWidth, image.naturalHeight));
    canvas.width = Math.round(image.naturalWidth * scale);
    canvas.height = Math.round(image.naturalHeight * scale);
    const context = canvas.getContext('2d');
    context.drawImage(image, 0, 0, canvas.width, canvas.height);
    const line = Math.max(3, Math.round(canvas.width / 200));
    const fontSize = Math.max(14, Math.round(canvas.width / 45));
    context.font = `600 ${fontSize}px system-ui, sans-serif`;
    context.textBaseline = 'top';
    for (const face of faces) {
      const [x, y, w, h] = face.box;
      const left = x * canvas.width;
      const top = y * canvas.height;
      context.lineWidth = line;
      context.strokeStyle = faceColour(face);
      context.strokeRect(left, top, w * canvas.width, h * canvas.height);
      const label = `${face.name} ${Math.floor(face.confidence)}%`; // down: never "100%", as the live overlay
      const width = context.measureText(label).width + fontSize * 0.6;
      const labelTop = top >= fontSize * 1.4 ? top - fontSize * 1.4 : top + h * canvas.height;
      context.fillStyle = faceColour(face);
      context.fillRect(left - line / 2, labelTop, width, fontSize * 1.4);
      context.fillStyle = '#fff';
      context.fillText(label, left - line / 2 + fontSize * 0.3, labelTop + fontSize * 0.2);
    }
    canvas.hidden = false;
    canvas.setAttribute('aria-label', `${file.name} with ${plural(faces.length, 'face')} marked`);
    $('recognize-faces').replaceChildren(...faces.map((face) => el('li', {},
      el('span', { class: 'swatch', style: { background: faceColour(face) } }),
      el('strong', {}, face.name),
      ` ${face.confidence.toFixed(1)}%`,
      face.distance === null || face.distance === undefined
        ? null : el('span', { class: 'muted' }, ` · distance ${face.distance.toFixed(3)}`))));
  } finally {
    URL.revokeObjectURL(url);
  }
}

// ------------------------------------------------------------------ start

function wire() {
  $('add-upload').addEventListener('click', onUploadFiles);
  $('webcam-start').addEventListener('click', startWebcam);
  $('webcam-stop').addEventListener('click', stopWebcam);
  $('webcam-snap').addEventListener('click', snapWebcam);
  $('camera-grab').addEventListener('click', snapCamera);
  $('camera-refresh').addEventListener('click', loadCameras);
  $('snapshots-upload').addEventListener('click', onUploadSnapshots);
  $('snapshots-clear').addEventListener('click', clearSnapshots);
  $('recognize-file').addEventListener('change', onRecognise);
  for (const button of document.querySelectorAll('[role="tab"]')) {
    button.addEventListener('click', () => selectTab(button.dataset.tab));
  }
  setInterval(() => {
    if (!document.hidden && !$('app').hidden) loadPeople();
  }, LIST_REFRESH_MS);
}

async function start() {
  wire();
  await showApp();
}

start();
