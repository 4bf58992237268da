/** Options, results, events and message types of TerminalClient. */
import type { CupHeader, ProcessingRequirement, Tpdu } from '../framing/index.js';
import type { FieldValues, IsoMessage, Spec } from '../iso8583/index.js';
import type { cupPos } from '../specs/cup-pos.js';
import type { BackoffOptions } from './backoff.js';
import type { KeyScheme, WorkingKeyKcvs } from './working-keys.js';

export type CupFields = typeof cupPos extends Spec<infer F> ? F : never;
export type CupMessage = IsoMessage<CupFields>;
export type CupFieldValues = FieldValues<CupFields>;

/** Header bytes the terminal sends; the processing requirement is always 0 on requests. */
export type TerminalHeader = Omit<CupHeader, 'processingRequirement'>;

export const DEFAULT_HEADER: Readonly<TerminalHeader> = Object.freeze({
  applicationType: 0x60,
  softwareVersion: 0x31,
  terminalStatus: 0,
  subVersion: '310000',
});

export interface TerminalClientOptions {
  host: string;
  /**
   * Connect with TLS (e.g. `{ ca: hostCertPem }`, plus `cert`/`key` for a client certificate).
   * The server name defaults to `host`. Omit for plain TCP.
   */
  tls?: import('node:tls').ConnectionOptions;
  port: number;
  /** Field 41, 8 characters. */
  terminalNo: string;
  /** Field 42, 15 characters. */
  merchantNo: string;
  /** Clear terminal master key (8, 16 or 24 bytes). The client keeps its own copy. */
  tmk: Uint8Array;
  /** TPDU addresses as 4 hex characters. Default destination '0000', source '0000'. */
  tpdu?: { destination?: string; source?: string };
  /** UnionPay header fields; defaults in DEFAULT_HEADER. */
  header?: Partial<TerminalHeader>;
  /** Sign-on key scheme (60.3). Default '004'. */
  keyScheme?: KeyScheme;
  /** Batch number (60.2), 6 digits. Default '000001'; replaced by the host's on sign-on. */
  batchNo?: string;
  /** Operator number sent in field 63 of the sign-on (e.g. '01 ' or '001'). */
  operatorNo?: string;
  /** Per-request timeout. Default 30000 ms. */
  requestTimeoutMs?: number;
  /** TCP connect timeout. Default 10000 ms. */
  connectTimeoutMs?: number;
  /** Send an echo test after this long without traffic; 0 (default) disables. */
  echoIntervalMs?: number;
  /** Reconnect after a drop; false disables. Default { initialMs: 1000, maxMs: 60000 }. */
  reconnect?: BackoffOptions | false;
  /** Obey processing requirement 3 by signing on again. Default true. */
  autoSignOn?: boolean;
  /** UTC offset of the host clock in fields 12/13. Default 480 (China Standard Time). */
  hostUtcOffsetMinutes?: number;
  /** First STAN to use. Default 1. */
  firstStan?: number;
  /** Random source for backoff jitter, [0, 1). Default Math.random. */
  random?: () => number;
}

export interface TerminalResponse {
  readonly message: CupMessage;
  readonly tpdu: Tpdu;
  readonly header: CupHeader;
  /** The response message as received (MTI, bitmap, fields): what its MAC covers. */
  readonly body: Buffer;
}

export interface RequestOptions {
  /** Add field 64, the UnionPay POS MAC under the current MAC key. */
  mac?: boolean;
  /** Use this STAN (6 digits) instead of the next one, e.g. to retransmit a request unchanged. */
  stan?: string;
}

export interface SignOnResult {
  responseCode: string;
  batchNo: string;
  /** Upper-case hex, 4 bytes each. */
  kcvs: WorkingKeyKcvs;
  /** Host clock from fields 12/13, or null when absent or invalid. */
  hostTime: Date | null;
  processingRequirement: ProcessingRequirement;
}

export interface EchoResult {
  responseCode: string | undefined;
  roundTripMs: number;
}

export interface TerminalEvents {
  connected: [];
  disconnected: [error: Error | undefined];
  reconnecting: [info: { attempt: number; delayMs: number }];
  reconnectFailed: [info: { attempt: number; error: Error }];
  reconnected: [info: { attempts: number }];
  signedOn: [result: SignOnResult];
  signedOff: [];
  /**
   * The host asked to sign on again — processing requirement 3, or response code 99/A0 — and an
   * automatic sign-on follows when enabled.
   */
  signOnRequired: [info: { mti: string; reason: 'processingRequirement' | 'responseCode'; responseCode?: string }];
  autoSignOnFailed: [error: Error];
  /** The host asked (nibble 1) for a parameter download. */
  parametersPending: [info: { mti: string }];
  processingRequirement: [info: { requirement: ProcessingRequirement; mti: string }];
  /** A response whose STAN matches no request in flight (late, duplicate or unsolicited). */
  unmatchedResponse: [info: { mti: string; stan: string | undefined }];
  /** A frame or message that could not be decoded. The connection stays up unless framing was lost. */
  protocolError: [error: Error];
  echoFailed: [error: Error];
  closed: [];
}
