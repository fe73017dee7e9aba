// Keeps each camera's badge (live / no signal), its fps and the names in view current.
async function refresh() {
  try {
    const response = await fetch('/api/cameras');
    const { cameras } = await response.json();
    for (const camera of cameras) {
      const figure = document.querySelector(`[data-camera="${CSS.escape(camera.id)}"]`);
      if (!figure) continue;
      const badge = figure.querySelector('[data-role="status"]');
      badge.textContent = camera.status === 'live' ? 'live' : 'no signal';
      badge.className = `badge ${camera.status}`;
      const resolution = camera.resolution ? `${camera.resolution[0]}×${camera.resolution[1]}` : '';
      figure.querySelector('[data-role="detail"]').textContent =
        camera.status === 'live' ? `${resolution} · ${camera.fps.toFixed(1)} fps` : camera.message;
      const result = await fetch(`/api/results/${encodeURIComponent(camera.id)}`);
      const people = figure.querySelector('[data-role="people"]');
      if (result.ok) {
        const { faces } = await result.json();
        people.textContent = faces.length
          ? faces.map((face) => `${face.name} ${Math.round(face.confidence)}%`).join(', ')
          : 'no faces';
      }
    }
  } catch (error) {
    console.warn('status refresh failed', error);
  }
}
refresh();
setInterval(refresh, 2000);
