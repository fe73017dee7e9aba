// What the History and Review pages share: how a name and a sighting read, and the pictures of faces.
'use strict';

import { el, formatDate } from './api.js';

export const UNKNOWN = 'Unknown';

// A name as a person reads it: a folder called Ana_Guevara is Ana Guevara (shared/people/names.py display_name).
export const displayName = (name) => String(name).replaceAll('_', ' ');

// Who a sighting was: their name, or Unknown with the visitor it was recognised as.
export function who(item) {
  if (item.name !== UNKNOWN) return displayName(item.name);
  return item.visitor ? `Unknown (visitor ${item.visitor})` : UNKNOWN;
}

export function duration(item) {
  const seconds = Math.max(0, Math.round(item.end - item.start));
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

// A sighting's face crop (admins only: the server refuses anyone else), loaded lazily, marked when there is none.
export function faceThumb(item, label) {
  const image = el('img', {
    src: `/api/sightings/${item.id}/face.jpg`, alt: label || `Face of ${who(item)}`, loading: 'lazy',
    decoding: 'async', dataset: { sighting: item.id },
  });
  image.addEventListener('error', () => {
    image.classList.add('broken');
    image.alt = 'No picture kept';
  }, { once: true });
  return image;
}

export { formatDate };
