/**
 * ISO 8583:1987, binary profile: MTI 2 bytes BCD, 8-byte binary bitmaps (secondary allowed),
 * LL prefixes 1 byte BCD and LLL 2 bytes BCD. n fields are packed BCD, right-aligned (odd
 * counts get a leading 0 nibble), prefixes counting digits; z (track) fields are packed BCD
 * left-aligned with an F pad nibble and '=' sent as D; a/an/ans are ASCII; b raw bytes.
 */
import { defineSpec } from '../iso8583/index.js';
import { iso87Fields } from './iso87-fields.js';

export const iso87Binary = defineSpec({
  name: 'iso87-binary',
  description: 'ISO 8583:1987, BCD MTI/numerics/prefixes, binary bitmap',
  mti: { encoding: 'bcd' },
  bitmap: { encoding: 'binary', secondary: true },
  fields: iso87Fields({
    text: (kind, lengthType) => ({
      ...(kind === 'n' ? { encoding: 'bcd' } : kind === 'z' ? { encoding: 'bcd', align: 'left', pad: 0xf } : { encoding: 'ascii' }),
      ...(lengthType === 'fixed' ? {} : { prefix: 'bcd' }),
    }),
    binary: (lengthType) => ({ encoding: 'binary', ...(lengthType === 'fixed' ? {} : { prefix: 'bcd' }) }),
  }),
});
