/** Field 39 values the host sends (UnionPay POS meanings). */
export const ResponseCode = {
  Approved: '00',
  InvalidMerchant: '03',
  FormatError: '30',
  FunctionNotSupported: '40',
  NotPermittedOnTerminal: '58',
  SystemMalfunction: '96',
  TerminalNotRegistered: '97',
  SecurityProcessingFailed: 'A7',
} as const;
export type ResponseCode = (typeof ResponseCode)[keyof typeof ResponseCode];
