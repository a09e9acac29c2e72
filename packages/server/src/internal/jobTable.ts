/**
 * The jobs a server remembers, by id, and the bounds that keep them in memory: every running job, the last ended ones,
 * and at most so many events across all of them (the trails stay on disk).
 */
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as PubSub from "effect/PubSub"
import { type Job, type JobEvent, NotFound } from "../ServerApi.ts"
import type * as JobEntry from "./jobEntry.ts"

/** The jobs remembered. */
export interface Table {
  /** Events kept per job for readers that come late. */
  readonly maxKept: number
  /** A new running job, remembered (which may forget the oldest ended ones). */
  readonly add: (id: string, kind: Job["kind"], name: string, goal: string, by: string) => Effect.Effect<JobEntry.Entry>
  readonly find: (id: string) => Effect.Effect<JobEntry.Entry, NotFound>
  /** Oldest first. */
  readonly entries: Effect.Effect<ReadonlyArray<JobEntry.Entry>>
}

/** An empty table within the bounds (`Jobs.Options`' defaults where they are not given). */
export const make = (bounds: {
  readonly maxEventsPerJob?: number | undefined
  readonly maxEndedJobs?: number | undefined
  readonly maxEventsTotal?: number | undefined
}): Table => {
  const maxKept = Math.max(1, Math.floor(bounds.maxEventsPerJob ?? 10_000))
  const maxEnded = Math.max(1, Math.floor(bounds.maxEndedJobs ?? 1_000))
  const maxEventsTotal = Math.max(maxKept, Math.floor(bounds.maxEventsTotal ?? 200_000))
  const jobs = new Map<string, JobEntry.Entry>()

  // Ended jobs beyond `maxEnded`, or while the events kept for all jobs exceed `maxEventsTotal`, are forgotten,
  // oldest first: memory stays bounded however many jobs a server sees.
  const forget = Effect.sync(() => {
    const ended = [...jobs.values()].filter((j) => j.endedAt !== undefined)
    let kept = 0
    for (const entry of jobs.values()) kept += entry.kept.length
    for (const [index, entry] of ended.entries()) {
      if (ended.length - index <= maxEnded && kept <= maxEventsTotal) break
      jobs.delete(entry.id)
      kept -= entry.kept.length
    }
  })

  return {
    maxKept,
    add: (id, kind, name, goal, by) =>
      Effect.gen(function* () {
        const entry: JobEntry.Entry = {
          id,
          kind,
          name,
          goal,
          submittedBy: by,
          startedAt: yield* Clock.currentTimeMillis,
          state: "running",
          endedAt: undefined,
          answer: undefined,
          error: undefined,
          spend: { steps: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 },
          pending: new Set(),
          runIds: new Set(),
          kept: [],
          seq: 0,
          live: yield* PubSub.unbounded<JobEvent>(),
          ended: Deferred.makeUnsafe<void>(),
          cancel: Effect.void
        }
        jobs.set(id, entry)
        yield* forget
        return entry
      }),
    find: (id) =>
      Effect.suspend(() => {
        const entry = jobs.get(id)
        return entry === undefined ? Effect.fail(new NotFound({ message: "no such job" })) : Effect.succeed(entry)
      }),
    entries: Effect.sync(() => [...jobs.values()])
  }
}
