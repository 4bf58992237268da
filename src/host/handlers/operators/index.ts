import type { Route } from '../../router.js';

/** Operator sign-on, sign-off, supervisor approval and management messages. */
export const OPERATOR_ROUTES: readonly Route[] = [];
