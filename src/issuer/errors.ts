/** Typed errors of the issuer simulator's administration (the CLI exits 2 on them). */
export type IssuerErrorReason = 'BAD_INPUT' | 'NOT_FOUND' | 'DUPLICATE';

export class IssuerError extends Error {
  override readonly name = 'IssuerError';
  constructor(
    readonly reason: IssuerErrorReason,
    message: string,
  ) {
    super(message);
  }
}

export function isIssuerError(e: unknown, reason?: IssuerErrorReason): e is IssuerError {
  return e instanceof IssuerError && (reason === undefined || e.reason === reason);
}
