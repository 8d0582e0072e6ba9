// The errors minictr raises. Each names what was being done and to which object, and keeps the underlying cause, so
// a message reads like "create veth mc3f2a1b9c0d4e on minictr0 (eth0 in the netns of pid 4242): ip link add
// mc3f2a1b9c0d4e ... (RTM_NEWLINK): File exists (EEXIST)" (stepError). Only cli.ts turns an error into an exit
// code, from its `kind`; everything else just throws.

/** How the CLI reports an error: Docker's exit codes follow from it (see cli.ts). */
export type ErrorKind =
  | 'usage' // bad flags or input, rejected before anything was created
  | 'failure' // minictr itself could not do a step
  | 'not-found' // the command does not exist in the container
  | 'cannot-execute' // the command exists but cannot be run
  | 'interrupted' // a signal stopped minictr before the container ran
  | 'lookup'; // no container, or more than one, answers to a name or id (Docker's exit 1)

export class MinictrError extends Error {
  readonly kind: ErrorKind;

  constructor(message: string, kind: ErrorKind = 'failure', cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'MinictrError';
    this.kind = kind;
  }
}

/** Bad input: reported before any host object exists. */
export class UsageError extends MinictrError {
  constructor(message: string) {
    super(message, 'usage');
    this.name = 'UsageError';
  }
}

/**
 * The kind of a failure reported by a container's child: exec's errno decides between Docker's 127 and 126, but for
 * E2BIG, which is about what minictr was given (arguments and environment too large), not the command: 125.
 */
export function childFailureKind(step: string, errno: number): ErrorKind {
  if (step !== 'exec' || errno === 7 /* E2BIG */) return 'failure';
  return errno === 2 /* ENOENT */ ? 'not-found' : 'cannot-execute';
}

/** Why execve() says E2BIG: the kernel's limits on what a program is given, which are the only ones minictr has. */
const E2BIG_DETAIL =
  "the command's arguments and environment together exceed the kernel's limit (getconf ARG_MAX: a quarter of the " +
  'stack size limit, ulimit -s), or one of them is longer than 131072 bytes';

/** Why the overlay step says E2BIG (src/container/overlay.ts): mount(2) was needed, and cannot take the layers. */
const OVERLAY_E2BIG_DETAIL =
  "the kernel refused the new mount API's lowerdir+ (no fsopen, as under some seccomp profiles, or an overlayfs " +
  "without it), and mount(2) cannot take the overlay's options (longer than one page, or a path with ',' or ':')";

/** A step the container's child reported failing ({step, errno}), naming its object when known. */
export function childStepError(failure: { step: string; errno: number; message: string }, object: string | undefined): MinictrError {
  const e2big = failure.step === 'mount overlay rootfs' ? OVERLAY_E2BIG_DETAIL : E2BIG_DETAIL;
  const detail = failure.errno === 7 /* E2BIG */ ? `: ${e2big}` : '';
  return new MinictrError(`${failure.step}${object ? ` ${object}` : ''} in container: ${failure.message}${detail}`, childFailureKind(failure.step, failure.errno));
}

/** The text of any thrown value, for messages that embed a cause. */
export function messageOf(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

/** A failed step on a named object: "<step> <object>: <cause>". */
export function stepError(step: string, object: string, cause: unknown, kind: ErrorKind = 'failure'): MinictrError {
  return new MinictrError(`${step} ${object}: ${messageOf(cause)}`, kind, cause);
}

/** Several errors from one best-effort pass (teardown, gc), reported together. */
export class AggregateFailure extends MinictrError {
  readonly errors: readonly Error[];

  constructor(what: string, errors: readonly Error[]) {
    super(`${what}: ${errors.map((e) => e.message).join('; ')}`);
    this.name = 'AggregateFailure';
    this.errors = errors;
  }
}
