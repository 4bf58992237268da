/** POS operators: numbering, passwords, permissions, the password PIN block and response codes. */
export * from './policy.js';
export * from './permissions.js';
export * from './pin-block.js';
export * from './response-codes.js';
