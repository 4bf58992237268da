/** The acquiring host: TCP server, routing and message handlers for UnionPay POS terminals. */
export { startHost, type HostOptions, type RunningHost } from './server.js';
export { DEFAULT_ROUTES, findRoute, route, routeKeyOf, type Route, type RouteKey } from './router.js';
export type { Handler, HandlerResult, HostContext, HostRequest, CupPosMessage } from './context.js';
export { ResponseCode } from './response-codes.js';
export { responseMti, startResponse } from './response.js';
export { buildKeyField, handleSignOn } from './handlers/sign-on.js';
export { handleEcho, handleSignOff } from './handlers/network.js';
export { terminalTmk } from './tmk.js';
export { encodeParameters, handleParameterDownload, handleStatusUpload } from './handlers/parameters.js';
export { recoverPending, type RecoveryReport } from './recovery.js';
