export type {
  ExportedKey,
  Hsm,
  KeyAlgorithm,
  KeySpec,
  KeyUsage,
  MacAlgorithm,
  PinBlockFormat,
  WrappedKey,
} from './hsm.js';
export { SoftHsm, type HsmLogger, type LmkSource, type SoftHsmOptions } from './soft-hsm.js';
