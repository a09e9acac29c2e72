/** How a job's events are read: those kept, then the live ones until its end, each once. */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as PubSub from "effect/PubSub"
import * as Stream from "effect/Stream"
import type { JobEvent } from "../ServerApi.ts"
import type * as JobEntry from "./jobEntry.ts"

/** The job's events from its first, live until it ends (the last is `JobEnded`). */
export const read = (entry: JobEntry.Entry): Stream.Stream<JobEvent> =>
  Stream.unwrap(
    Effect.gen(function* () {
      // Subscribed before the kept events are copied: an event published in between is in both, and skipped live.
      const subscription = yield* PubSub.subscribe(entry.live)
      const kept = entry.kept.slice()
      const last = kept.at(-1)?.seq ?? -1
      if (Deferred.isDoneUnsafe(entry.ended)) return Stream.fromIterable(kept)
      return Stream.concat(
        Stream.fromIterable(kept),
        Stream.fromSubscription(subscription).pipe(
          Stream.filter((event) => event.seq > last),
          Stream.takeUntil((event) => event.type === "JobEnded")
        )
      )
    })
  )
