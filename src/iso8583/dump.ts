/** Human-readable, multi-line rendering of a message for logs and the CLI. */
import { VT_BINARY, VT_COMPOSITE, VT_TEXT } from './compile.js';
import { Iso8583Error } from './errors.js';
import { toHexUpper } from './encodings.js';
import type { FieldMap } from './fields.js';
import { MASK, maskText, tlvValueHex } from './mask.js';
import type { IsoMessage } from './message.js';
import { COMPILED, type Spec } from './spec.js';
import type { TlvItem } from './tlv.js';
import type { RevealOption } from './json.js';

const NAME_W = 40;
const FMT_W = 32;

/**
 * One line per field: number, name, format, value. PANs/tracks masked, PIN blocks, keys, CVVs
 * and MACs hidden unless `reveal`. A field that fails to decode is shown as `<invalid: …>`
 * instead of throwing.
 */
export function dump<F extends FieldMap>(spec: Spec<F>, msg: IsoMessage<F>, opts: RevealOption = {}): string {
  const reveal = opts.reveal === true;
  const c = spec[COMPILED];
  const nums = msg.fields();
  const bm = new Uint8Array(nums.some((n) => n > 64) ? 16 : 8);
  if (bm.length === 16) bm[0] = 0x80;
  for (const n of nums) bm[(n - 1) >> 3]! |= 0x80 >> ((n - 1) & 7);
  const lines = [`${spec.name} ${msg.mti}`, `  MTI ${msg.mti}  bitmap ${toHexUpper(bm)}`];
  for (const n of nums) {
    const cf = c.fields[n];
    const head = `  ${String(n).padStart(3)}  `;
    if (!cf) {
      lines.push(`${head}<not defined in ${spec.name}>`);
      continue;
    }
    const prefix = `${head}${cf.name.padEnd(NAME_W).slice(0, NAME_W)} ${cf.format.padEnd(FMT_W)} `;
    let v: unknown;
    try {
      v = msg.get(n);
    } catch (e) {
      if (!(e instanceof Iso8583Error)) throw e;
      lines.push(`${prefix}<invalid: ${e.message}>`);
      continue;
    }
    const hide = !reveal && cf.sensitive !== undefined;
    switch (cf.vt) {
      case VT_TEXT: {
        const s = v as string;
        lines.push(prefix + (hide ? maskText(s, cf.sensitive!) : JSON.stringify(s)) + `  (${s.length})`);
        break;
      }
      case VT_BINARY: {
        const b = v as Buffer;
        lines.push(prefix + (hide ? MASK : toHexUpper(b)) + `  (${b.length} bytes)`);
        break;
      }
      case VT_COMPOSITE: {
        const o = v as Record<string, string>;
        lines.push(prefix + Object.values(o).join('|'));
        for (const sd of cf.subs!) {
          const s = o[sd.key];
          if (s === undefined) continue;
          lines.push(`       ${sd.id.padEnd(6)} ${sd.name.padEnd(NAME_W - 2).slice(0, NAME_W - 2)} ${(sd.kind + sd.length).padEnd(FMT_W)} ${hide ? MASK : s}`);
        }
        break;
      }
      default: {
        const items = v as TlvItem[];
        lines.push(prefix + `${items.length} TLV items`);
        for (const it of items) {
          lines.push(`       ${it.tag.padEnd(6)} ${String(it.value.length).padStart(3)}  ${hide ? MASK : tlvValueHex(it, reveal)}`);
        }
      }
    }
  }
  return lines.join('\n');
}
