/**
 * Financial transactions, settlement and batch upload (docs/protocol-transactions.md). Routes are
 * built from the wire contract in src/transactions/messages.ts.
 */
import type { Route } from '../../router.js';
import { FINANCIAL_KINDS, MESSAGES } from '../../../transactions/messages.js';
import { handleFinancial } from './financial.js';
import { handleReversal } from './reversal.js';
import { handleBatchUpload, handleBatchUploadEnd, handleSettlement } from './settlement.js';

const financialRoutes: Route[] = FINANCIAL_KINDS.filter((k) => k !== 'qr-purchase').map((k) => {
  const d = MESSAGES[k];
  return {
    name: k,
    mti: d.mti,
    ...(d.messageType !== undefined ? { messageType: d.messageType } : {}),
    ...(d.processingCode !== undefined ? { processingCode: d.processingCode } : {}),
    handler: handleFinancial,
  };
});

export const TRANSACTION_ROUTES: readonly Route[] = [
  ...financialRoutes,
  { name: 'reversal', mti: '0400', handler: handleReversal },
  { name: 'settlement', mti: '0500', messageType: '00', networkCode: '201', handler: handleSettlement },
  { name: 'batch-upload', mti: '0320', messageType: '00', networkCode: '201', handler: handleBatchUpload },
  { name: 'batch-upload-end', mti: '0320', messageType: '00', networkCode: '207', handler: handleBatchUploadEnd },
  { name: 'batch-upload-end', mti: '0320', messageType: '00', networkCode: '202', handler: handleBatchUploadEnd },
];
