/**
 * The timeouts of pending asks. One fiber per actor system sleeps (on the system's `Clock`, so a `TestClock`
 * drives it) until the earliest deadline and fails the asks that are due with `AskTimeout`; an answered ask is
 * taken out of its bucket by the actor that handled it.
 *
 * Why not `Effect.timeout` around each ask: it races two fibers per request, which was three quarters of an
 * ask's cost. Asks with the same timeout arrive in deadline order, so each timeout has a bucket kept in insertion
 * order and only bucket heads are looked at.
 */
import type * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as ActorError from "../ActorError.ts"

/** A pending ask, as the timers see it. */
export interface Pending {
  readonly path: string
  readonly deferred: Deferred.Deferred<unknown, unknown>
  readonly timeoutMillis: number
  readonly deadline: number
}

/** The timeouts of one actor system's asks. */
export class AskTimers {
  private readonly clock: Clock.Clock
  private readonly context: Context.Context<never>
  private readonly buckets = new Map<number, Set<Pending>>()
  private fiber: Fiber.Fiber<void> | undefined = undefined
  private wakeAt = Number.POSITIVE_INFINITY
  private lastTimeout = Number.NaN
  private lastBucket = new Set<Pending>()

  constructor(clock: Clock.Clock, context: Context.Context<never>) {
    this.clock = clock
    this.context = context
  }

  /** The deadline of an ask made now with this timeout. */
  deadline(timeoutMillis: number): number {
    return this.clock.currentTimeMillisUnsafe() + timeoutMillis
  }

  /** Starts timing `pending` (asks without a finite timeout are never timed out). */
  add(pending: Pending): void {
    if (!Number.isFinite(pending.deadline)) return
    this.bucket(pending.timeoutMillis).add(pending)
    if (pending.deadline < this.wakeAt) this.sleepUntil(pending.deadline)
  }

  /** Stops timing `pending`: it was answered. */
  cancel(pending: Pending): void {
    if (Number.isFinite(pending.deadline)) this.bucket(pending.timeoutMillis).delete(pending)
  }

  /** The bucket of a timeout; the last one used is kept at hand, since most asks use the same timeout. */
  private bucket(timeoutMillis: number): Set<Pending> {
    if (timeoutMillis === this.lastTimeout) return this.lastBucket
    let bucket = this.buckets.get(timeoutMillis)
    if (bucket === undefined) {
      bucket = new Set()
      this.buckets.set(timeoutMillis, bucket)
    }
    this.lastTimeout = timeoutMillis
    this.lastBucket = bucket
    return bucket
  }

  /** Stops the timer fiber (the system is shutting down). */
  stop(): void {
    this.fiber?.interruptUnsafe()
    this.fiber = undefined
    this.wakeAt = Number.POSITIVE_INFINITY
  }

  private sleepUntil(deadline: number): void {
    this.fiber?.interruptUnsafe()
    this.wakeAt = deadline
    const delay = Math.max(0, deadline - this.clock.currentTimeMillisUnsafe())
    const fiber = Effect.runForkWith(this.context)(
      Effect.andThen(
        this.clock.sleep(Duration.millis(delay)),
        Effect.sync(() => this.expire())
      )
    )
    this.fiber = fiber.pollUnsafe() === undefined ? fiber : this.fiber
  }

  private expire(): void {
    this.fiber = undefined
    this.wakeAt = Number.POSITIVE_INFINITY
    const now = this.clock.currentTimeMillisUnsafe()
    let next = Number.POSITIVE_INFINITY
    for (const [timeoutMillis, bucket] of this.buckets) {
      for (const pending of bucket) {
        if (pending.deadline > now) {
          next = Math.min(next, pending.deadline)
          break
        }
        bucket.delete(pending)
        Deferred.doneUnsafe(
          pending.deferred,
          Exit.fail(new ActorError.AskTimeout({ path: pending.path, timeoutMillis }))
        )
      }
      // Timeouts computed per call (a remaining budget, say) would otherwise leave a bucket each.
      if (bucket.size === 0 && bucket !== this.lastBucket) this.buckets.delete(timeoutMillis)
    }
    if (next !== Number.POSITIVE_INFINITY) this.sleepUntil(next)
  }
}
