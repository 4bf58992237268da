/**
 * Typed access to the `iso_8583` npm package (CommonJS, no type declarations), the comparison
 * codec. Its default profile: ASCII MTI, binary bitmap (it always emits the secondary bitmap),
 * ASCII fields with ASCII length prefixes, b fields given as hex strings.
 */
import { createRequire } from 'node:module';

export type IsoLibData = Record<number, string>;

export interface IsoLibInstance {
  getRawMessage(): Buffer;
  getIsoJSON(buf: Buffer, config: { lenHeader: boolean }): Record<string, string> & { error?: string };
}

export type IsoLibCtor = new (data?: IsoLibData) => IsoLibInstance;

const require = createRequire(import.meta.url);

export const IsoLib = require('iso_8583') as IsoLibCtor;

export const isoLibVersion = (require('iso_8583/package.json') as { version: string }).version;
