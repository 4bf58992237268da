/** Runtime commands: run the host, sign one terminal on, simulate many terminals. */
import type { Command } from '../../command.js';
import { hostStartCommand } from '../host.js';
import { terminalSignOnCommand } from '../terminal-sign-on.js';
import { simSignOnCommand } from './signon.js';

export { hostStartCommand, startHostService, waitForStopSignal, type HostService, type HostServiceConfig } from '../host.js';
export { terminalSignOnCommand } from '../terminal-sign-on.js';
export { simSignOnCommand, formatSimSummary } from './signon.js';

export const runtimeCommands: Command[] = [hostStartCommand, terminalSignOnCommand, simSignOnCommand];
