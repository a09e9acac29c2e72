/**
 * A supervisor's restart tolerance at run time: the restarts within the current period, and the backoff
 * schedule's state. Both start over once the period has passed without restarts.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Supervisor from "../Supervisor.ts"

type Step = (now: number, input: unknown) => Effect.Effect<[number, Duration.Duration], unknown>

/** The restarts of one supervisor incarnation. */
export class Restarts {
  readonly maxRestarts: number
  readonly withinMillis: number
  private readonly backoff: Schedule.Schedule<unknown, number> | undefined
  private times: Array<number> = []
  private step: Step | undefined = undefined
  private lastDelay: Duration.Duration = Duration.zero

  constructor(flags: Supervisor.Flags, withinMillis: number) {
    this.maxRestarts = flags.intensity.maxRestarts
    this.withinMillis = withinMillis
    this.backoff = flags.backoff
  }

  /** Forgets every restart (a new incarnation of the supervisor). */
  reset(): void {
    // The schedule starts over with the next restart, which finds no restart in the period.
    this.times = []
    this.lastDelay = Duration.zero
  }

  /**
   * Counts a restart at `now`; `true` when it is one too many within the period. A restart exactly one period
   * ago still counts, as in OTP (`R >= Now - Period`).
   */
  record(now: number): boolean {
    this.times = this.times.filter((t) => now - t <= this.withinMillis)
    if (this.times.length === 0) this.step = undefined
    this.times.push(now)
    return this.times.length > this.maxRestarts
  }

  /** The delay before the restart just counted: the backoff schedule fed with the restarts in this period. */
  delay(now: number): Effect.Effect<Duration.Duration> {
    const backoff = this.backoff
    if (backoff === undefined) return Effect.succeed(Duration.zero)
    return Effect.gen({ self: this }, function* () {
      if (this.step === undefined) this.step = (yield* Schedule.toStep(backoff)) as unknown as Step
      const result = yield* Effect.result(this.step(now, this.times.length))
      // A finished schedule keeps its last delay rather than restarting without one.
      if (result._tag === "Success") this.lastDelay = result.success[1]
      return this.lastDelay
    })
  }
}
