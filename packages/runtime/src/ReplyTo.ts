/**
 * The reply handle carried inside a request message: the handler answers through it, the asker waits on it.
 *
 * Requests put a `ReplyTo<A, E>` in a field of their message (Akka's `replyTo`), so the reply type belongs to the
 * message and `ask` is typed by it. A handle is in-process only; across processes use the cluster's entities.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { ReplyTo } from "@troupe/runtime"
 *
 * const Get = Schema.TaggedStruct("Get", { replyTo: ReplyTo.schema<number>() })
 * ```
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"

const TypeId = "~@troupe/runtime/ReplyTo"

/** Where a request's reply goes: succeed it with `A` or fail it with the protocol's `E`. */
export interface ReplyTo<in out A, in out E = never> {
  readonly [TypeId]: typeof TypeId
  /** The deferred the asker waits on. */
  readonly deferred: Deferred.Deferred<A, E>
}

/**
 * A reply handle as a class. The runtime's requests extend it, so that the handle a request carries is the
 * envelope the mailbox holds: one object less per `ask`.
 */
export class Handle<A, E = never> implements ReplyTo<A, E> {
  readonly deferred: Deferred.Deferred<A, E>
  constructor(deferred: Deferred.Deferred<A, E>) {
    this.deferred = deferred
  }
  get [TypeId](): typeof TypeId {
    return TypeId
  }
}

/** `true` for a reply handle. */
export const isReplyTo = (u: unknown): u is ReplyTo<unknown, unknown> =>
  typeof u === "object" && u !== null && TypeId in u

/** A fresh, unanswered reply handle. */
export const make = <A, E = never>(): Effect.Effect<ReplyTo<A, E>> =>
  Effect.map(Deferred.make<A, E>(), (deferred) => new Handle(deferred))

/** The schema of a reply-handle field in a message. It validates that the field holds a handle. */
export const schema = <A, E = never>() => Schema.declare((u): u is ReplyTo<A, E> => isReplyTo(u), { title: "ReplyTo" })

/** Answers with `value`. Answering twice keeps the first answer and returns `false`. */
export const succeed = <A, E>(self: ReplyTo<A, E>, value: A): Effect.Effect<boolean> =>
  Deferred.succeed(self.deferred, value)

/** Answers with the protocol's failure `error`. */
export const fail = <A, E>(self: ReplyTo<A, E>, error: E): Effect.Effect<boolean> => Deferred.fail(self.deferred, error)

/** Answers with an exit, e.g. the result of running an effect on the asker's behalf. */
export const complete = <A, E>(self: ReplyTo<A, E>, exit: Exit.Exit<A, E>): Effect.Effect<boolean> =>
  Deferred.done(self.deferred, exit)

/** Runs `effect` and answers with its outcome: a convenient way to reply with a computation's result. */
export const from = <A, E, R>(self: ReplyTo<A, E>, effect: Effect.Effect<A, E, R>): Effect.Effect<boolean, never, R> =>
  Effect.flatMap(Effect.exit(effect), (exit) => complete(self, exit))

/** A fresh reply handle, made synchronously (for the runtime's `ask`). */
export const makeUnsafe = <A, E = never>(): ReplyTo<A, E> => new Handle(Deferred.makeUnsafe<A, E>())
