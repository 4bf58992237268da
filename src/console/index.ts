export { buildConsole, type ConsoleOptions } from './app.js';
export { startConsole, type RunningConsole, type StartConsoleOptions } from './start.js';
export { createUser, resetCredentials, changePassword, USERNAME_RE, type IssuedCredentials, type NewUserInput } from './auth/accounts.js';
export { disableIdleAccounts, ACCOUNT_IDLE_DAYS } from './jobs/idle-accounts.js';
export { accessReviewReport, type AccessReviewReport } from './access-review.js';
export { hotp, totp, verifyTotp, otpauthUri, base32Encode, base32Decode } from './auth/totp.js';
export { DEFAULT_POLICY, type AuthPolicy } from './context.js';
export { ROLES, PERMISSIONS, type Role, type Permission } from './roles.js';
export { ProblemError, type ProblemDocument } from './problem.js';
