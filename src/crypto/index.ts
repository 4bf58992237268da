/**
 * Public API of the payment-crypto folder (package export "qiandao/crypto").
 *
 * Primitives are exported flat. Key blocks, DUKPT and the HSM are namespaced (`tr31`, `dukpt`,
 * `hsm`) because their type names (KeyUsage, KeyAlgorithm, ...) overlap with each other and with
 * the primitives'; the HSM's main names are also exported flat (`SoftHsm`, `Hsm`, `WrappedKey`,
 * `HsmKeyUsage`, ...).
 */
export * from './cipher.js';
export * from './errors.js';
export * from './parity.js';
export * from './kcv.js';
export * from './random.js';
export * from './components.js';
export * from './pinblock.js';
export * from './mac.js';
export * from './pvv.js';
export * from './password.js';
export * as tr31 from './tr31/index.js';
export * as dukpt from './dukpt/index.js';
export * as hsm from './hsm/index.js';
export {
  SoftHsm,
  type ExportedKey,
  type Hsm,
  type HsmLogger,
  type KeyAlgorithm as HsmKeyAlgorithm,
  type KeySpec,
  type KeyUsage as HsmKeyUsage,
  type LmkSource,
  type MacAlgorithm,
  type SoftHsmOptions,
  type WrappedKey,
} from './hsm/index.js';
