/**
 * The idempotency key of the tool call in progress: the same for every attempt at that call, so that a call run
 * again (a durable run resumed after a crash while the call was in flight) can be told apart from a new one.
 * `undefined` outside a durable run. A durable agent run sets it around each tool call (`@troupe/agent`'s
 * `RunJournal.CurrentIdempotencyKey` is this reference).
 *
 * The built-in tools pass it on where the other side can use it: `http_fetch` sends it as the `Idempotency-Key`
 * header of every request but GET and HEAD, and `shell_run` and `shell_start` give it to the program as
 * `TROUPE_IDEMPOTENCY_KEY`.
 */
import * as Context from "effect/Context"

/** The idempotency key of the tool call in progress, if it runs in a durable run. */
export const CurrentKey = Context.Reference<string | undefined>("@troupe/tools/IdempotencyKey", {
  defaultValue: () => undefined
})

/** The header `http_fetch` sends the key in. */
export const header = "idempotency-key"

/** The environment variable the shell tools give the key in. */
export const variable = "TROUPE_IDEMPOTENCY_KEY"
