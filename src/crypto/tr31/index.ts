export { KeyBlockError, type KeyBlockErrorCode } from './errors.js';
export {
  EXPORTABILITY,
  KEY_ALGORITHMS,
  KEY_USAGES,
  MODES_OF_USE,
  isKeyUsage,
  parseHeader,
  type Exportability,
  type KeyAlgorithm,
  type KeyBlockHeader,
  type KeyBlockVersion,
  type KeyUsage,
  type ModeOfUse,
  type OptionalBlock,
  type StandardKeyUsage,
} from './header.js';
export {
  assertUsage,
  deriveBlockKeys,
  KeyBlockProtectionKey,
  unwrap,
  wrap,
  type Kbpk,
  type KeyBlockAttributes,
  type UnwrappedKey,
  type UsageRequirement,
  type WrapOptions,
} from './keyblock.js';
