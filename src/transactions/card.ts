/**
 * The card of a financial request: PAN and expiry from field 2 / 14 or track 2 (field 35), or the
 * QR payment code of field 59. Values stay in memory for the request only; the journal keeps the
 * HSM fingerprint and the masked PAN.
 */
import { isQrEntryMode, QR_CODE_PATTERN } from './messages.js';

export type CardData =
  | { channel: 'card'; pan: string; expiry: string | undefined }
  | { channel: 'qr'; pan: string; expiry: undefined };

export type CardRead = { ok: true; card: CardData } | { ok: false; code: '30' | '14'; reason: string };

const PAN_RE = /^[0-9]{12,19}$/;

/** PAN and expiry from track 2 (`PAN=YYMM…`; the separator may arrive as `=` or `D`). */
export function parseTrack2(track: string): { pan: string; expiry: string | undefined } | null {
  const m = /^([0-9]{12,19})[=D]([0-9]{4})?/.exec(track);
  if (m === null) return null;
  return { pan: m[1]!, expiry: m[2] };
}

export interface CardFields {
  entryMode: string | undefined;
  pan: string | undefined;
  expiry: string | undefined;
  track2: string | undefined;
  qrCode: string | undefined;
}

export function readCard(f: CardFields): CardRead {
  if (isQrEntryMode(f.entryMode)) {
    if (f.qrCode === undefined) return { ok: false, code: '30', reason: 'QR purchase without field 59' };
    if (!QR_CODE_PATTERN.test(f.qrCode)) return { ok: false, code: '14', reason: 'QR payment code is not 12-19 digits' };
    return { ok: true, card: { channel: 'qr', pan: f.qrCode, expiry: undefined } };
  }
  if (f.pan !== undefined) {
    if (!PAN_RE.test(f.pan)) return { ok: false, code: '14', reason: 'field 2 is not a 12-19 digit PAN' };
    return { ok: true, card: { channel: 'card', pan: f.pan, expiry: f.expiry } };
  }
  if (f.track2 !== undefined) {
    const t = parseTrack2(f.track2);
    if (t === null) return { ok: false, code: '14', reason: 'track 2 has no readable PAN' };
    return { ok: true, card: { channel: 'card', pan: t.pan, expiry: f.expiry ?? t.expiry } };
  }
  return { ok: false, code: '30', reason: 'neither field 2 nor field 35 present' };
}
