import type { Route } from '../../router.js';

/** Financial transactions, settlement and batch upload. */
export const TRANSACTION_ROUTES: readonly Route[] = [];
