/**
 * Node's promise-returning system calls as effects, with the errno code kept apart from the message so that
 * callers can branch on it and never forward a message that might quote more than a code and a path.
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import { IoFailed } from "../ToolError.ts"

/** A failed system call: the operation, the errno code (`ENOENT`, ...) when there is one, and a short reason. */
export class SysError extends Data.TaggedError("SysError")<{
  readonly operation: string
  readonly code: string | undefined
  readonly reason: string
}> {
  /** The tool failure the model sees: the operation and the code, no path and no content. */
  toolError(): IoFailed {
    return new IoFailed({ operation: this.operation, reason: this.code ?? this.reason })
  }
}

const codeOf = (cause: unknown): string | undefined =>
  typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string"
    ? cause.code
    : undefined

/** Runs a promise-returning system call as an effect that fails with a {@link SysError}. */
export const call = <A>(operation: string, run: () => Promise<A>): Effect.Effect<A, SysError> =>
  Effect.tryPromise({
    try: run,
    catch: (cause) => {
      const code = codeOf(cause)
      return new SysError({ operation, code, reason: code ?? (cause instanceof Error ? cause.message : String(cause)) })
    }
  })
