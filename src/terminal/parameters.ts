/**
 * Terminal side of the paged parameter download (docs/protocol.md, "Parameter download"): ask for
 * page 1, then DF05 = 2, 3 … until the page number equals the page count (DF06); if the version
 * (DF03) changes on the way, start again from page 1 (at most a few times).
 */
import { buildTlv, parseTlv, type TlvItem } from '../iso8583/index.js';
import type { CupMessage } from './client-types.js';
import { TerminalError, declined } from './errors.js';

export interface DownloadedParameters {
  version: number;
  values: Record<string, string>;
  pages: number;
}

export interface ParameterTransport {
  /** Send a 360 request with this field 62 (undefined: none) and return the response message. */
  request(f62: Buffer | undefined): Promise<CupMessage>;
}

const MAX_RESTARTS = 3;
const MAX_PAGES = 1000;

function num(items: TlvItem[], tag: string, stan: string | undefined): number {
  const v = items.find((i) => i.tag === tag)?.value.toString('ascii');
  if (v === undefined || !/^[0-9]{1,9}$/.test(v)) throw new TerminalError('BAD_RESPONSE', `parameter page has no valid ${tag}`, stan !== undefined ? { stan } : {});
  return Number(v);
}

export async function downloadParameters(t: ParameterTransport): Promise<DownloadedParameters> {
  for (let attempt = 0; attempt <= MAX_RESTARTS; attempt++) {
    const values: Record<string, string> = {};
    let version: number | null = null;
    let page = 1;
    let restart = false;
    for (;;) {
      const f62 = page === 1 ? undefined : buildTlv([{ tag: 'DF05', value: Buffer.from(String(page), 'ascii') }]);
      const m = await t.request(f62);
      const stan = m.get(11);
      const code = m.get(39);
      if (code !== '00') throw declined('parameter download', code ?? '??', stan);
      const raw = m.get(62);
      if (raw === undefined) throw new TerminalError('BAD_RESPONSE', 'parameter download response has no field 62', stan !== undefined ? { stan } : {});
      let items: TlvItem[];
      try {
        items = parseTlv(raw, 62);
      } catch {
        throw new TerminalError('BAD_RESPONSE', 'field 62 of the parameter download is not TLV', stan !== undefined ? { stan } : {});
      }
      const v = num(items, 'DF03', stan);
      // A host that does not page (no DF05/DF06) sends everything at once.
      const hasPaging = items.some((i) => i.tag === 'DF06');
      const thisPage = hasPaging ? num(items, 'DF05', stan) : 1;
      const count = hasPaging ? num(items, 'DF06', stan) : 1;
      if (version !== null && v !== version) {
        restart = true;
        break;
      }
      version = v;
      if (thisPage !== page || count < 1 || count > MAX_PAGES) {
        throw new TerminalError('BAD_RESPONSE', `asked for parameter page ${page}, got ${thisPage} of ${count}`, stan !== undefined ? { stan } : {});
      }
      for (const it of items.filter((i) => i.tag === 'E1')) {
        const inner = parseTlv(it.value);
        const name = inner.find((i) => i.tag === 'DF01')?.value.toString('utf8');
        const value = inner.find((i) => i.tag === 'DF02')?.value.toString('utf8');
        if (name === undefined || value === undefined) throw new TerminalError('BAD_RESPONSE', 'parameter entry without name or value', stan !== undefined ? { stan } : {});
        values[name] = value;
      }
      if (page === count) return { version, values, pages: count };
      page += 1;
    }
    if (!restart) break;
  }
  throw new TerminalError('BAD_RESPONSE', `parameters kept changing during the download (${MAX_RESTARTS + 1} attempts)`);
}
