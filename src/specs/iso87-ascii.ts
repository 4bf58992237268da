/**
 * ISO 8583:1987, all-ASCII profile: MTI as 4 ASCII digits, bitmaps as 16 ASCII hex characters
 * (secondary bitmap allowed), LL/LLL prefixes as ASCII digits, every text field in ASCII, binary
 * fields (52, 64, 96, 128, 55) as upper-case hex with the prefix counting bytes.
 */
import { defineSpec } from '../iso8583/index.js';
import { iso87Fields } from './iso87-fields.js';

export const iso87Ascii = defineSpec({
  name: 'iso87-ascii',
  description: 'ISO 8583:1987, ASCII MTI/bitmap/prefixes, binary fields as hex',
  mti: { encoding: 'ascii' },
  bitmap: { encoding: 'hex', secondary: true },
  fields: iso87Fields({
    text: (_kind, lengthType) => ({ encoding: 'ascii', ...(lengthType === 'fixed' ? {} : { prefix: 'ascii' }) }),
    binary: (lengthType) => ({ encoding: 'hex', ...(lengthType === 'fixed' ? {} : { prefix: 'ascii' }) }),
  }),
});
