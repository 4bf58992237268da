/**
 * Operator sign-on, sign-off, supervisor approval and management messages: qiandao extensions in
 * network management with 60.3 codes 901-906, which no UnionPay function uses (docs/protocol-operators.md).
 */
import type { Route } from '../../router.js';
import { handleSupervisorApproval } from './approve.js';
import { handleOperatorDownload } from './download.js';
import { handleOperatorManagement } from './manage.js';
import { handlePasswordChange } from './password.js';
import { handleOperatorSignOff } from './sign-off.js';
import { handleOperatorSignOn } from './sign-on.js';

/** 60.3 codes of the operator messages. */
export const OperatorNetworkCode = {
  SignOn: '901',
  SignOff: '902',
  Approval: '903',
  PasswordChange: '904',
  Manage: '905',
  Download: '906',
} as const;

export const OPERATOR_ROUTES: readonly Route[] = [
  { name: 'operator-sign-on', mti: '0800', messageType: '00', networkCode: OperatorNetworkCode.SignOn, handler: handleOperatorSignOn },
  { name: 'operator-sign-off', mti: '0820', messageType: '00', networkCode: OperatorNetworkCode.SignOff, handler: handleOperatorSignOff },
  { name: 'supervisor-approval', mti: '0800', messageType: '00', networkCode: OperatorNetworkCode.Approval, handler: handleSupervisorApproval },
  { name: 'operator-password-change', mti: '0800', messageType: '00', networkCode: OperatorNetworkCode.PasswordChange, handler: handlePasswordChange },
  { name: 'operator-management', mti: '0800', messageType: '00', networkCode: OperatorNetworkCode.Manage, handler: handleOperatorManagement },
  { name: 'operator-list-download', mti: '0800', messageType: '00', networkCode: OperatorNetworkCode.Download, handler: handleOperatorDownload },
];
