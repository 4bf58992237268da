/** Masking of sensitive values for logs, dumps and JSON (PCI DSS style: first 6 / last 4). */
import type { Sensitivity } from './fields.js';
import type { TlvItem } from './tlv.js';
import { toHexUpper } from './encodings.js';

export const MASK = '****';

/** `6222021234567890123` → `622202*********0123`; 10 characters or fewer are fully masked. */
export function maskPan(pan: string): string {
  const n = pan.length;
  if (n <= 10) return '*'.repeat(n);
  return pan.slice(0, 6) + '*'.repeat(n - 10) + pan.slice(n - 4);
}

/** Track data: the PAN part is masked as a PAN, everything after the separator is starred. */
export function maskTrack(track: string): string {
  let sep = -1;
  for (let i = 0; i < track.length; i++) {
    const c = track[i];
    if (c === '=' || c === 'D' || c === '^') {
      sep = i;
      break;
    }
  }
  if (sep < 0) return maskPan(track);
  return maskPan(track.slice(0, sep)) + track[sep] + '*'.repeat(track.length - sep - 1);
}

/** Mask a text value according to its field's sensitivity. */
export function maskText(s: string, sensitive: Sensitivity): string {
  if (sensitive === 'pan') return maskPan(s);
  if (sensitive === 'track') return maskTrack(s);
  return MASK;
}

/** EMV tags carrying cardholder data, and how to mask their hex value. */
const SENSITIVE_TAGS: Record<string, 'pan' | 'track' | 'hide'> = {
  '5A': 'pan', // Application PAN
  '57': 'track', // Track 2 equivalent data
  '9F6B': 'track', // Track 2 data (contactless)
  '5F20': 'hide', // Cardholder name
  '56': 'hide', // Track 1 data
  '9F1F': 'hide', // Track 1 discretionary data
  '9F20': 'hide', // Track 2 discretionary data
  '9F0B': 'hide', // Cardholder name extended
};

/** Hex string of a TLV value, masked when the tag carries cardholder data and !reveal. */
export function tlvValueHex(item: TlvItem, reveal: boolean): string {
  const hex = toHexUpper(item.value);
  if (reveal) return hex;
  switch (SENSITIVE_TAGS[item.tag]) {
    case 'pan': return maskPan(hex.replace(/F+$/, ''));
    case 'track': return maskTrack(hex.replace(/F+$/, ''));
    case 'hide': return MASK;
    default: return hex;
  }
}
