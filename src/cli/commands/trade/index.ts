/** Terminal transactions: `qiandao terminal purchase|balance|void|refund|settle` and `qiandao sim trade`. */
import type { Command } from '../../command.js';
import { simTradeCommand } from './sim.js';
import { terminalTradeCommands } from './terminal.js';

export { simTradeCommand, formatTradeSummary, parseCardsText } from './sim.js';
export { terminalTradeCommands } from './terminal.js';

export const tradeCommands: Command[] = [...terminalTradeCommands, simTradeCommand];
