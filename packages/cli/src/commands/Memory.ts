/**
 * The `troupe memory search|list|forget` commands' flags; opening the memory (`MemoryInspect.ts`, LanceDB) is loaded
 * only when one of them runs.
 */
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as MemoryInspect from "./MemoryInspect.ts"

const withStore = <A, E, R>(use: (store: typeof MemoryInspect) => Effect.Effect<A, E, R>) =>
  Effect.flatMap(
    Effect.promise(() => import("./MemoryInspect.ts")),
    use
  )

const namespace = Flag.String("namespace").pipe(
  Flag.withDescription("Only this namespace (an agent's name, or team)"),
  Flag.optional
)

const json = Flag.Boolean("json").pipe(
  Flag.withDescription("Print one JSON object as the last line"),
  Flag.withDefault(false)
)

const search = Command.make(
  "search",
  {
    query: Argument.String("query").pipe(Argument.withDescription("What to look for")),
    namespace,
    k: Flag.Int("k").pipe(Flag.withDescription("How many memories, 1 to 1000 (default 8)"), Flag.optional),
    json
  },
  (input) =>
    withStore((store) =>
      store.search({
        query: input.query,
        namespace: Option.getOrUndefined(input.namespace),
        k: Option.getOrUndefined(input.k),
        json: input.json
      })
    )
).pipe(Command.withDescription("The memories most relevant to a query, best first, with their scores"))

const list = Command.make(
  "list",
  {
    namespace,
    limit: Flag.Int("limit").pipe(Flag.withDescription("At most this many, 1 to 1000"), Flag.withDefault(20)),
    json
  },
  (input) =>
    withStore((store) =>
      store.list({ namespace: Option.getOrUndefined(input.namespace), limit: input.limit, json: input.json })
    )
).pipe(Command.withDescription("The stored memories, oldest first, and how many there are"))

const forget = Command.make(
  "forget",
  {
    ids: Argument.String("id").pipe(
      Argument.withDescription("Memory ids (troupe memory list shows them)"),
      Argument.variadic({ min: 1 })
    ),
    json
  },
  (input) => withStore((store) => store.forget(input))
).pipe(Command.withDescription("Delete memories by id (exit code 1 when one is not stored)"))

/** The `memory` command. */
export const command = Command.make("memory").pipe(
  Command.withDescription("The long-term memory of $TROUPE_HOME: search QUERY, list, forget ID..."),
  Command.withSubcommands([search, list, forget])
)
