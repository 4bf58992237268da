/** JSON form of the frame parts around an ISO 8583 body: TPDU and UnionPay header. */
import type { CupHeader, Tpdu, ParsedFrame } from '../framing/index.js';
import { isProcessingRequirement } from '../framing/index.js';
import { CliError } from './errors.js';

export interface TpduJson {
  id: string;
  destination: string;
  source: string;
}
export interface HeaderJson {
  applicationType: string;
  softwareVersion: string;
  terminalStatus: number;
  processingRequirement: number;
  subVersion: string;
}

export const hexByte = (n: number): string => n.toString(16).toUpperCase().padStart(2, '0');

export function tpduToJson(t: Tpdu): TpduJson {
  return { id: hexByte(t.id), destination: t.destination, source: t.source };
}

export function headerToJson(h: CupHeader): HeaderJson {
  return {
    applicationType: hexByte(h.applicationType),
    softwareVersion: hexByte(h.softwareVersion),
    terminalStatus: h.terminalStatus,
    processingRequirement: h.processingRequirement,
    subVersion: h.subVersion,
  };
}

export function frameToJson(f: ParsedFrame): { tpdu?: TpduJson; header?: HeaderJson } {
  return {
    ...(f.tpdu ? { tpdu: tpduToJson(f.tpdu) } : {}),
    ...(f.header ? { header: headerToJson(f.header) } : {}),
  };
}

function byteField(obj: Record<string, unknown>, key: string, where: string, dflt: number): number {
  const v = obj[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || !/^[0-9a-fA-F]{2}$/.test(v)) throw new CliError(`${where}.${key} must be 2 hex digits`);
  return parseInt(v, 16);
}

function hexField(obj: Record<string, unknown>, key: string, where: string, digits: number, dflt: string): string {
  const v = obj[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || !new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(v)) {
    throw new CliError(`${where}.${key} must be ${digits} hex digits`);
  }
  return v.toUpperCase();
}

function nibbleField(obj: Record<string, unknown>, key: string, where: string, max: number): number {
  const v = obj[key] ?? 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw new CliError(`${where}.${key} must be an integer from 0 to ${max}`);
  }
  return v;
}

function asObject(v: unknown, where: string): Record<string, unknown> {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CliError(`${where} must be an object`);
  return v as Record<string, unknown>;
}

/** TPDU from JSON; missing parts default to `60 0000 0000`. */
export function tpduFromJson(v: unknown): Tpdu {
  const o = asObject(v, 'tpdu');
  return {
    id: byteField(o, 'id', 'tpdu', 0x60),
    destination: hexField(o, 'destination', 'tpdu', 4, '0000'),
    source: hexField(o, 'source', 'tpdu', 4, '0000'),
  };
}

/** UnionPay header from JSON; missing parts default to `60 31 00 00 00 00`. */
export function headerFromJson(v: unknown): CupHeader {
  const o = asObject(v, 'header');
  const pr = nibbleField(o, 'processingRequirement', 'header', 7);
  if (!isProcessingRequirement(pr)) throw new CliError('header.processingRequirement must be 0 to 7');
  return {
    applicationType: byteField(o, 'applicationType', 'header', 0x60),
    softwareVersion: byteField(o, 'softwareVersion', 'header', 0x31),
    terminalStatus: nibbleField(o, 'terminalStatus', 'header', 15),
    processingRequirement: pr,
    subVersion: hexField(o, 'subVersion', 'header', 6, '000000'),
  };
}
