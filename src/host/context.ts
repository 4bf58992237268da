/** What handlers receive and return. */
import type { Logger } from 'pino';
import type { Hsm } from '../crypto/hsm/hsm.js';
import type { CupHeader, Tpdu } from '../framing/index.js';
import type { IsoMessage } from '../iso8583/index.js';
import type { cupPos } from '../specs/cup-pos.js';
import type { Issuer } from '../issuer/issuer.js';
import type { RiskEngine } from '../risk/types.js';
import type { Db, Terminal } from '../store/index.js';
import type { RrnGenerator } from './rrn.js';

export type CupPosMessage = IsoMessage<(typeof cupPos)['fields']>;

/** Host-wide settings and services shared by every connection. */
export interface HostContext {
  readonly db: Db;
  readonly hsm: Hsm;
  readonly logger: Logger;
  /** Working keys older than this are refreshed: the terminal is told to sign on again. */
  readonly keyLifetimeSeconds: number;
  /** How long superseded keys stay usable for messages already in flight. */
  readonly graceSeconds: number;
  /** Field 32 (acquiring institution code) on sign-on responses, when set. */
  readonly acquirerId: string | undefined;
  readonly rrn: RrnGenerator;
  /** Where financial requests are authorised; undefined: financial requests answer 91 (issuer unavailable). */
  readonly issuer: Issuer | undefined;
  /** Risk rules evaluated on every financial request; undefined: none. */
  readonly risk: RiskEngine | undefined;
  /** An operator's sign-on lapses after this long without a transaction. */
  readonly operatorIdleSeconds: number;
  /**
   * Journal entries this host process is working on right now (ids). A pending entry not in it
   * was left by a failed stand-in reversal or a previous run: a 0400 for it may reverse it.
   */
  readonly journalInFlight?: Set<string>;
  /** This host process in host_instances (src/store/host-instances.ts): written on its pending journal entries. */
  readonly instanceId?: string;
}

/** One decoded request. */
export interface HostRequest {
  readonly tpdu: Tpdu;
  readonly header: CupHeader;
  readonly message: CupPosMessage;
  /** The message as received (MTI, bitmap, fields): what a MAC in field 64 covers. */
  readonly body: Buffer;
  /** Peer address, `ip:port`. */
  readonly remoteAddress: string;
  /** Logger bound to this connection. */
  readonly logger: Logger;
}

/** What a handler answers. The server adds the TPDU and the UnionPay header. */
export interface HandlerResult {
  readonly response: CupPosMessage;
  /**
   * The terminal the request was accepted for (response code 00), used to tell the terminal what
   * to do next (processing-requirement nibble) and to track its connection.
   */
  readonly terminal?: Terminal;
  /** Keys were just issued (sign-on): never ask for another sign-on in this response. */
  readonly freshKeys?: boolean;
  /** The terminal signed off: no processing requirement is set. */
  readonly signedOff?: boolean;
}

export type Handler = (ctx: HostContext, req: HostRequest) => Promise<HandlerResult>;
