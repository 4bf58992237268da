/** The tamper-evident audit trail over the event log: sealing and verification. */
export { sealEvents, sealAll, startSealer, type SealOptions, type SealResult, type Sealer } from './seal.js';
export { verifyChain, type VerifyResult, type BrokenLink, type BrokenLinkKind } from './verify.js';
export { GENESIS_HASH, linkHash } from './canonical.js';
