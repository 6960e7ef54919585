// What an authorization check concluded, whichever transport (HTTP or gRPC) asked.

/** A header and whether it is appended to (true) or replaces (false) existing values. */
export type HeaderEdit = readonly [name: string, value: string, append: boolean];

/** The authorizer allowed the request. */
export interface CheckOk {
  readonly kind: 'ok';
  /** Headers set (or appended) on the request before it goes upstream. */
  readonly upstream: readonly HeaderEdit[];
  /** Request headers removed before it goes upstream. */
  readonly remove: readonly string[];
  /** Headers added to the response the client gets. */
  readonly downstream: readonly HeaderEdit[];
}

/** The authorizer denied the request: its status, headers and body go to the client. */
export interface CheckDenied {
  readonly kind: 'denied';
  readonly status: number;
  readonly headers: readonly HeaderEdit[];
  readonly body: string;
}

/** No answer (unreachable, timeout, malformed reply, gRPC error status). */
export interface CheckError {
  readonly kind: 'error';
  readonly reason: string;
}

export type CheckResult = CheckOk | CheckDenied | CheckError;
