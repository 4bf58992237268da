import type { Command } from '../../command.js';
import { decryptCommand, encryptCommand } from './cipher.js';
import { componentsCombineCommand, componentsGenerateCommand } from './components.js';
import { dukptDeriveCommand } from './dukpt.js';
import { kcvCommand } from './kcv.js';
import { macCommand } from './mac.js';
import { pinblockBuildCommand, pinblockParseCommand } from './pinblock.js';
import { tr31UnwrapCommand, tr31WrapCommand } from './tr31.js';

/** `qiandao crypto …`: the payment-crypto calculator (test keys only). */
export const cryptoCommands: Command[] = [
  kcvCommand,
  encryptCommand,
  decryptCommand,
  componentsGenerateCommand,
  componentsCombineCommand,
  pinblockBuildCommand,
  pinblockParseCommand,
  macCommand,
  tr31WrapCommand,
  tr31UnwrapCommand,
  dukptDeriveCommand,
];
