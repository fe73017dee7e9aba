// Keeps each camera's badge (live / no signal), its fps and the names in view current, from one
// server-sent events channel (/api/events) for all cameras. The streams start once the channel is
// open: a browser holds six connections per server, and the channel must not wait behind them.
const figures = () => document.querySelectorAll('figure.camera');

const LABELS = { live: 'live', no_signal: 'no signal', offline: 'offline' };
let streamsStarted = false;

// A camera that appeared after the page loaded (a browser that went live): a figure like the server's own.
function figureFor(camera) {
  const existing = document.querySelector(`[data-camera="${CSS.escape(camera.id)}"]`);
  const grid = document.querySelector('.grid');
  if (existing || !grid) return existing; // a camera's own page shows that camera only
  const figure = document.createElement('figure');
  figure.className = 'camera';
  figure.dataset.camera = camera.id;
  const image = document.createElement('img');
  image.alt = `Live view of camera ${camera.id}`;
  image.dataset.src = `/stream/${encodeURIComponent(camera.id)}.mjpg`;
  const caption = document.createElement('figcaption');
  const name = document.createElement('a');
  name.href = `/camera/${encodeURIComponent(camera.id)}`;
  name.className = 'name';
  name.textContent = camera.hosted ? `${camera.id} (browser)` : camera.id;
  caption.append(name);
  for (const [role, kind] of [['status', 'badge'], ['detail', 'detail'], ['people', 'people']]) {
    const span = document.createElement('span');
    span.className = kind;
    span.dataset.role = role;
    caption.append(span);
  }
  figure.append(image, caption);
  grid.append(figure);
  document.getElementById('no-camera')?.remove();
  if (streamsStarted) startStreams();
  return figure;
}

function show(camera) {
  const figure = figureFor(camera);
  if (!figure) return;
  const badge = figure.querySelector('[data-role="status"]');
  badge.textContent = LABELS[camera.status] || camera.status;
  badge.className = `badge ${camera.status}`;
  const resolution = camera.resolution ? `${camera.resolution[0]}×${camera.resolution[1]}` : '';
  figure.querySelector('[data-role="detail"]').textContent =
    camera.status === 'live' ? `${resolution} · ${camera.fps.toFixed(1)} fps` : camera.message;
  figure.querySelector('[data-role="people"]').textContent = caption(camera.faces);
}

// Who is in view, as the boxes on the picture say it; with nobody enrolled, "Unknown 100%" would mislead.
function caption(faces) {
  if (!faces.length) return 'no faces';
  if (knownPeople === 0) return `${faces.length} face${faces.length > 1 ? 's' : ''} (nobody is enrolled yet)`;
  return faces.map((face) => `${face.name.replaceAll('_', ' ')} ${Math.round(face.confidence)}%`).join(', ');
}

let knownPeople = null;
function showEnrolmentHint(count) {
  knownPeople = count;
  const hint = document.getElementById('no-people');
  if (hint) hint.hidden = count !== 0;
}

function startStreams() {
  streamsStarted = true;
  for (const image of document.querySelectorAll('img[data-src]')) {
    image.src = image.dataset.src;
    image.removeAttribute('data-src');
  }
}

// After the web restarts the streams have ended; the events channel reconnects by itself, and its
// reopening restarts them (a fresh URL, so the browser does not keep the dead one).
function restartStreams() {
  for (const image of document.querySelectorAll('figure.camera img[src]')) {
    const url = new URL(image.getAttribute('src'), location.href);
    url.searchParams.set('since', String(Date.now()));
    image.src = `${url.pathname}${url.search}`;
  }
}

let channelLost = false;
const events = new EventSource('/api/events');
events.addEventListener('open', () => {
  if (channelLost) restartStreams();
  channelLost = false;
  startStreams();
});
events.addEventListener('cameras', (message) => {
  const update = JSON.parse(message.data);
  showEnrolmentHint(update.known_people);
  for (const camera of update.cameras) show(camera);
});
events.addEventListener('error', () => {
  channelLost = true;
  for (const figure of figures()) {
    figure.querySelector('[data-role="status"]').textContent = 'reconnecting…';
  }
});
setTimeout(startStreams, 3000); // the pictures come even if the channel cannot open

// A camera's own page: the boxes and names drawn on the picture, or the raw picture.
document.getElementById('overlay')?.addEventListener('change', (event) => {
  const image = document.querySelector('figure.full img');
  const base = (image.getAttribute('src') || image.dataset.src).split('?')[0];
  image.src = event.target.checked ? base : `${base}?overlay=0`;
});
