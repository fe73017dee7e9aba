// Keeps each camera's badge (live / no signal), its fps and the names in view current, from one
// server-sent events channel (/api/events) for all cameras. The streams start once the channel is
// open: a browser holds six connections per server, and the channel must not wait behind them.
const figures = () => document.querySelectorAll('figure.camera');

function show(camera) {
  const figure = document.querySelector(`[data-camera="${CSS.escape(camera.id)}"]`);
  if (!figure) return;
  const badge = figure.querySelector('[data-role="status"]');
  badge.textContent = camera.status === 'live' ? 'live' : 'no signal';
  badge.className = `badge ${camera.status}`;
  const resolution = camera.resolution ? `${camera.resolution[0]}×${camera.resolution[1]}` : '';
  figure.querySelector('[data-role="detail"]').textContent =
    camera.status === 'live' ? `${resolution} · ${camera.fps.toFixed(1)} fps` : camera.message;
  figure.querySelector('[data-role="people"]').textContent = camera.faces.length
    ? camera.faces.map((face) => `${face.name} ${Math.round(face.confidence)}%`).join(', ')
    : 'no faces';
}

function startStreams() {
  for (const image of document.querySelectorAll('img[data-src]')) {
    image.src = image.dataset.src;
    image.removeAttribute('data-src');
  }
}

const events = new EventSource('/api/events');
events.addEventListener('open', startStreams);
events.addEventListener('cameras', (message) => {
  for (const camera of JSON.parse(message.data).cameras) show(camera);
});
events.addEventListener('error', () => {
  for (const figure of figures()) {
    figure.querySelector('[data-role="status"]').textContent = 'reconnecting…';
  }
});
setTimeout(startStreams, 3000); // the pictures come even if the channel cannot open
