// Go live: this browser's webcam becomes a camera of the server. Frames are drawn into a canvas, sent as
// JPEG over a WebSocket (/ws/publish/<camera>), and the next goes only when the server has acked all but
// IN_FLIGHT of them: a slow network lowers the frame rate instead of building a queue. The server's results
// come back on the same socket and are drawn over the local video (no stream round trip).
'use strict';
const $ = (id) => document.getElementById(id);
const IN_FLIGHT = 2;
const JPEG_QUALITY = 0.8;
const BOXES_FADE_MS = 1000;

const host = {
  socket: null, media: null, width: 640, sent: 0, answered: 0, newFrame: false, encoding: false,
  sentAt: new Map(), sentTimes: [], roundTrips: [], result: null, resultAt: 0,
};
window.facestreamHost = host; // what the tests and bench/golive.py read

function say(text, kind = '') {
  $('status').textContent = text;
  $('status').className = `status ${kind}`;
}

function median(values) {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function start(event) {
  event.preventDefault();
  if (!window.isSecureContext || !navigator.mediaDevices) {
    say('The browser gives a page the webcam only over HTTPS (or on localhost): open this page with https:// ' +
        '(see the README, HTTPS).', 'error');
    return;
  }
  host.width = Number($('size').value);
  try {
    host.media = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: host.width } }, audio: false });
  } catch (error) {
    say(`The webcam was refused (${error.name}): allow it for this site and try again.`, 'error');
    return;
  }
  const video = $('local');
  video.srcObject = host.media;
  await video.play();
  watchFrames(video);
  const name = $('camera-name').value.trim();
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const socket = new WebSocket(`${scheme}://${location.host}/ws/publish/${encodeURIComponent(name)}`);
  socket.binaryType = 'arraybuffer';
  host.socket = socket;
  Object.assign(host, { sent: 0, answered: 0, sentAt: new Map(), sentTimes: [], roundTrips: [] });
  socket.addEventListener('open', () => {
    say(`Live as camera “${name}”: others watch it on the Live page.`, 'live');
    $('start').disabled = true;
    $('stop').disabled = false;
    pump();
  });
  socket.addEventListener('message', (message) => heard(JSON.parse(message.data)));
  socket.addEventListener('close', (closed) => stopped(closed.reason || 'the connection closed'));
}

function heard(message) {
  if ('ack' in message) {
    host.answered += 1;
    pump();
  } else if (message.type === 'result') {
    host.result = message;
    host.resultAt = performance.now();
    const sentAt = host.sentAt.get(message.frame_id);
    if (sentAt !== undefined) host.roundTrips.push(host.resultAt - sentAt);
    $('names').textContent = message.faces.length
      ? message.faces.map((face) => `${face.name.replaceAll('_', ' ')} ${Math.round(face.confidence)}%`).join(', ') : 'no faces';
  } else if (message.type === 'status') {
    $('viewers').textContent = String(message.viewers);
  } else if (message.type === 'error') {
    if (message.skipped) host.answered += 1;
    say(message.error, 'error');
  }
}

function watchFrames(video) {
  const next = () => {
    host.newFrame = true;
    pump();
    if (host.media) video.requestVideoFrameCallback(next);
  };
  video.requestVideoFrameCallback(next);
}

// Send the newest camera picture if there is a new one and fewer than IN_FLIGHT frames await their ack.
function pump() {
  const socket = host.socket;
  if (!socket || socket.readyState !== WebSocket.OPEN || host.encoding || !host.newFrame) return;
  if (host.sent - host.answered >= IN_FLIGHT) return;
  const video = $('local');
  if (!video.videoWidth) return;
  const canvas = pump.canvas || (pump.canvas = document.createElement('canvas'));
  canvas.width = Math.min(host.width, video.videoWidth);
  canvas.height = Math.round((video.videoHeight * canvas.width) / video.videoWidth);
  canvas.getContext('2d').drawImage(video, 0, 0, canvas.width, canvas.height);
  host.newFrame = false;
  host.encoding = true;
  canvas.toBlob((blob) => {
    host.encoding = false;
    if (!blob || socket.readyState !== WebSocket.OPEN) return;
    const now = performance.now();
    host.sentAt.set(host.sent, now);
    host.sentAt.delete(host.sent - 300);
    host.sentTimes.push(now);
    host.sent += 1;
    socket.send(blob);
    pump();
  }, 'image/jpeg', JPEG_QUALITY);
}

function drawBoxes() {
  const video = $('local');
  const canvas = $('boxes');
  canvas.width = video.clientWidth;
  canvas.height = video.clientHeight;
  const context = canvas.getContext('2d');
  context.clearRect(0, 0, canvas.width, canvas.height);
  if (host.result && performance.now() - host.resultAt < BOXES_FADE_MS) {
    context.lineWidth = 2;
    context.font = '15px system-ui, sans-serif';
    for (const face of host.result.faces) {
      const [x, y, w, h] = face.box;
      const known = face.name !== 'Unknown';
      context.strokeStyle = context.fillStyle = known ? '#4caf50' : '#e53935';
      context.strokeRect(x * canvas.width, y * canvas.height, w * canvas.width, h * canvas.height);
      context.fillText(`${face.name.replaceAll('_', ' ')} ${Math.round(face.confidence)}%`, x * canvas.width, Math.max(14, y * canvas.height - 4));
    }
  }
  requestAnimationFrame(drawBoxes);
}

function showRates() {
  const now = performance.now();
  host.sentTimes = host.sentTimes.filter((at) => now - at <= 2000);
  host.fps = host.sentTimes.length / 2;
  host.roundTrips = host.roundTrips.slice(-300);
  if (host.socket && host.socket.readyState === WebSocket.OPEN) {
    $('sent-fps').textContent = `${host.fps.toFixed(1)} fps at ${host.width} wide`;
    const middle = median(host.roundTrips);
    $('round-trip').textContent = middle === null ? '–' : `${Math.round(middle)} ms (median)`;
  }
}

function stopped(reason) {
  if (host.media) host.media.getTracks().forEach((track) => track.stop());
  host.media = null;
  host.socket = null;
  $('start').disabled = false;
  $('stop').disabled = true;
  say(`Off the air: ${reason}.`, 'error');
}

$('host-form').addEventListener('submit', start);
$('stop').addEventListener('click', () => host.socket && host.socket.close(1000, 'stopped by the host'));
requestAnimationFrame(drawBoxes);
setInterval(showRates, 500);
