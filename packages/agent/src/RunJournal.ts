/**
 * A durable `WorkflowEngine` for one machine: each execution's journal is a JSONL file,
 * `<directory>/<executionId>/journal.jsonl` (with `troupe run`, beside the run's audit trail in
 * `$TROUPE_HOME/runs/<runId>/`). The first line holds the workflow and its payload; every activity that ends with a
 * value or a typed failure appends one line with its encoded result, and so does every `DurableDeferred` completed.
 * Executing the workflow again (after a crash, or to resume it) replays it from the start, answering every journalled
 * activity from the journal: only work that had not completed runs again.
 *
 * - **Durability.** A line is written at once (a killed process loses nothing that was acknowledged) and fdatasynced
 *   by `sync`, which the run calls at its barriers: before a tool that changes something runs (not before a read),
 *   and before the run answers. A power cut can lose lines written since the last barrier; those activities run
 *   again. A new journal's directory entries are fsynced by its first `sync`, at the same time as its lines.
 * - **In flight.** An activity that was running at the crash has no line and runs again on resume: tools whose
 *   effect cannot be undone get an idempotency key (see `Run` and `CurrentIdempotencyKey`).
 * - **Crashes mid-write.** A partial last line is cut off when the journal is opened again.
 * - **Scope.** No child workflows and no compaction: a journal grows with its run (one line per model call, tool call
 *   and approval). `DurableClock` sleeps are kept in memory (a restarted process sleeps again from the start).
 *
 * Measured with `pnpm bench agent` (`troupe_durable`): see BENCHMARKS.md.
 *
 * @example
 * ```ts
 * import { Agent, RunJournal } from "@troupe/agent"
 * import * as Effect from "effect/Effect"
 *
 * // Every run of agents made in this program survives a crash; `agent.run(goal, { runId })` resumes one.
 * const durable = Effect.provide(program, RunJournal.layer({ directory: ".troupe/runs" }))
 * ```
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as Idempotency from "@troupe/tools/Idempotency"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberMap from "effect/FiberMap"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type * as Activity from "effect/workflow/Activity"
import * as Workflow from "effect/workflow/Workflow"
import * as WorkflowEngine from "effect/workflow/WorkflowEngine"

/** Reading or writing a journal failed. */
export class RunJournalError extends Schema.TaggedError<RunJournalError>()("RunJournalError", {
  operation: Schema.String,
  path: Schema.String,
  description: Schema.String
}) {
  override get message(): string {
    return `run journal: cannot ${this.operation} ${this.path}: ${this.description}`
  }
}

/** The first line of a journal: which workflow, with what payload. */
export interface Header {
  readonly workflow: string
  readonly executionId: string
  readonly payload: unknown
}

/** The journal's own operations, beside the `WorkflowEngine` the same layer provides. */
export interface Service {
  readonly directory: string
  /** Returns once every line written so far for `executionId` is fdatasynced. */
  readonly sync: (executionId: string) => Effect.Effect<void>
  /** Whether the activity `name` of `executionId` has a result in its journal. */
  readonly completed: (executionId: string, name: string) => boolean
  /**
   * Runs `effect` as the activity `name` of the execution `executionId` in progress, straight on the journal: the
   * same lines and the same replay as an `Activity` of this engine, without its per-call machinery (schemas built,
   * fibers forked and scopes opened for every call: about 140 µs of CPU each, measured, against about 10 µs here).
   * A typed failure is journalled encoded with `error` (JSON); without `error`, failures are not journalled.
   * Outside an execution of this engine, `effect` runs as it is.
   */
  readonly activity: <A, E>(
    executionId: string,
    name: string,
    effect: Effect.Effect<A, E>,
    options?: ActivityOptions<A>
  ) => Effect.Effect<A, E>
  /** The journal's first line, when `executionId` has a journal. */
  readonly header: (executionId: string) => Effect.Effect<Option.Option<Header>, RunJournalError>
}

/** How an activity's result is journalled. */
export interface ActivityOptions<A> {
  /** The schema of its typed failures; without one, failures are not journalled (the activity runs again). */
  readonly error?: Schema.Top | undefined
  /** The value as the journal keeps it (JSON), and back; the identity by default. */
  readonly encode?: ((value: A) => unknown) | undefined
  readonly decode?: ((encoded: unknown) => A) | undefined
}

/** The run journal of the `WorkflowEngine` in context (see `layer`). */
export class RunJournal extends Context.Service<RunJournal, Service>()("@troupe/agent/RunJournal") {}

/**
 * The idempotency key of the tool call in progress in a durable run: the same for every attempt at that call, so a
 * tool that runs again after a crash can tell it already acted. Tools of the application read it; `undefined`
 * outside a durable run. The same reference as `@troupe/tools`' `Idempotency.CurrentKey`, which the built-in tools
 * pass on.
 */
export const CurrentIdempotencyKey = Idempotency.CurrentKey

/** Options of `make` and `layer`. */
export interface Options {
  /** Where journals go: `<directory>/<executionId>/journal.jsonl`. */
  readonly directory: string
}

const executionIdPattern = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/

const Line = Schema.Union([
  Schema.Struct({ t: Schema.Literal("run"), workflow: Schema.String, executionId: Schema.String, payload: Schema.Any }),
  Schema.Struct({
    t: Schema.Literals(["activity", "deferred"]),
    name: Schema.String,
    ok: Schema.Boolean,
    value: Schema.Any
  })
])
const decodeLine = Schema.decodeUnknownOption(Schema.fromJsonString(Line))

interface Journal {
  readonly path: string
  readonly fd: number
  readonly header: Header
  readonly activities: Map<string, Exit.Exit<unknown, unknown>>
  readonly deferreds: Map<string, Exit.Exit<unknown, unknown>>
  dirty: boolean
  /** The fdatasync in flight, if any: it covers every line written when it started. */
  syncing: Promise<NodeJS.ErrnoException | null> | undefined
  /** Set once an fdatasync failed: what it was to keep may be lost, so every later barrier fails too. */
  failed: NodeJS.ErrnoException | undefined
  /** Paths whose directory entry is new (the journal, its run's directory): fsynced with the first fdatasync. */
  newEntries: ReadonlyArray<string>
}

const io = <A>(operation: string, path: string, f: () => A): Effect.Effect<A, RunJournalError> =>
  Effect.try({
    try: f,
    catch: (error) =>
      new RunJournalError({ operation, path, description: (error as NodeJS.ErrnoException).code ?? String(error) })
  })

// An encoded exit as a journal line stores it: a value, or a typed failure (defects and interrupts are not stored:
// that work runs again).
const stored = (exit: Exit.Exit<unknown, unknown>): { readonly ok: boolean; readonly value: unknown } | undefined => {
  if (Exit.isSuccess(exit)) return { ok: true, value: exit.value ?? null }
  const failure = Cause.findErrorOption(exit.cause)
  return Option.isSome(failure) && !Cause.hasDies(exit.cause) ? { ok: false, value: failure.value } : undefined
}

const exitOf = (line: { readonly ok: boolean; readonly value: unknown }): Exit.Exit<unknown, unknown> =>
  line.ok ? Exit.succeed(line.value) : Exit.fail(line.value)

// The JSON codec of an error schema, built once per schema.
const codecs = new WeakMap<
  Schema.Top,
  { readonly encode: (u: unknown) => unknown; readonly decode: (u: unknown) => unknown }
>()
const codecOf = (schema: Schema.Top) => {
  let codec = codecs.get(schema)
  if (codec === undefined) {
    const json = Schema.toCodecJson(schema as Schema.Codec<unknown, unknown>)
    codec = { encode: Schema.encodeUnknownSync(json), decode: Schema.decodeUnknownSync(json) }
    codecs.set(schema, codec)
  }
  return codec
}

// Reads a journal's lines; a partial last line (a crash mid-write) is cut off so that appends start on a new line.
const load = (path: string, repair: boolean) =>
  io("read", path, () => {
    if (!NodeFs.existsSync(path)) return undefined
    const text = NodeFs.readFileSync(path, "utf8")
    const end = text.lastIndexOf("\n") + 1
    if (repair && end < text.length) NodeFs.truncateSync(path, Buffer.byteLength(text.slice(0, end)))
    return text
      .slice(0, end)
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => Option.getOrUndefined(decodeLine(l)))
  })

// Makes a new file's directory entry durable: fsyncs the directory holding `path`. Best effort, as some platforms
// cannot fsync a directory (the file's own data is synced either way). Opening and closing the directory do no I/O:
// they run here rather than as two more trips through libuv's thread pool.
const syncDirectory = (path: string): Promise<void> =>
  new Promise((resolve) => {
    const fd = Result.try(() => NodeFs.openSync(NodePath.dirname(path), "r"))
    if (Result.isFailure(fd)) return resolve()
    NodeFs.fsync(fd.success, () => {
      Result.try(() => NodeFs.closeSync(fd.success))
      resolve()
    })
  })

/** Builds the engine and its journal; journals still open when the scope closes are synced and closed. */
export const make = Effect.fnUntraced(function* (options: Options) {
  const scope = yield* Effect.scope
  const workflows = new Map<
    string,
    (payload: object, executionId: string) => Effect.Effect<unknown, unknown, WorkflowEngine.WorkflowInstance>
  >()
  const journals = new Map<string, Journal>()
  const clocks = yield* FiberMap.make<string>()
  const pathOf = (executionId: string) => NodePath.join(options.directory, executionId, "journal.jsonl")

  const append = (journal: Journal, line: object) =>
    io("write", journal.path, () => {
      NodeFs.writeSync(journal.fd, `${JSON.stringify(line)}\n`)
      journal.dirty = true
    })

  const open = (executionId: string, workflow: string, payload: object) =>
    Effect.gen(function* () {
      const existing = journals.get(executionId)
      if (existing !== undefined) return existing
      if (!executionIdPattern.test(executionId)) {
        return yield* new RunJournalError({ operation: "open", path: executionId, description: "invalid id" })
      }
      const path = pathOf(executionId)
      const lines = yield* load(path, true)
      yield* io("create", path, () => NodeFs.mkdirSync(NodePath.dirname(path), { recursive: true, mode: 0o700 }))
      const fd = yield* io("open", path, () => NodeFs.openSync(path, "a", 0o600))
      const first = lines?.[0]
      const header: Header =
        first !== undefined && first.t === "run"
          ? { workflow: first.workflow, executionId: first.executionId, payload: first.payload }
          : { workflow, executionId, payload }
      const journal: Journal = {
        path,
        fd,
        header,
        activities: new Map(),
        deferreds: new Map(),
        dirty: false,
        syncing: undefined,
        failed: undefined,
        newEntries: lines === undefined ? [path, NodePath.dirname(path)] : []
      }
      for (const line of lines ?? []) {
        if (line === undefined || line.t === "run") continue
        ;(line.t === "activity" ? journal.activities : journal.deferreds).set(line.name, exitOf(line))
      }
      // Made durable at the run's first barrier, like every other line.
      if (first === undefined) yield* append(journal, { t: "run", workflow, executionId, payload })
      journals.set(executionId, journal)
      return journal
    })

  // fdatasync off the main thread, so that it overlaps with the audit trail's own (and a new journal's directory
  // entries with both). Returns what to wait for: the fdatasync started, or the one in flight when nothing was
  // written since it started. Started at the barrier, not as soon as a model call's answer is journalled: that
  // measured 0.9 – 1.8 ms a step slower on ext4 (the trail's appends then wait for the journal's commit).
  // An fdatasync that failed may have dropped what it was to keep: every later barrier fails with it.
  const flush = (journal: Journal): Promise<NodeJS.ErrnoException | null> | undefined => {
    if (!journal.dirty) return journal.syncing
    journal.dirty = false
    const entries = journal.newEntries
    journal.newEntries = []
    const flushed = new Promise<NodeJS.ErrnoException | null>((resolve) => NodeFs.fdatasync(journal.fd, resolve))
    const done = (entries.length === 0 ? flushed : Promise.all([flushed, ...entries.map(syncDirectory)])).then(
      () => flushed
    )
    journal.syncing = done
    void done.then((error) => {
      if (error !== null) journal.failed = error
      if (journal.syncing === done) journal.syncing = undefined
    })
    return done
  }

  // The run cannot go on (a defect).
  const failedSync = (journal: Journal, error: NodeJS.ErrnoException) =>
    Effect.die(new RunJournalError({ operation: "fdatasync", path: journal.path, description: error.code ?? "" }))

  const sync = (journal: Journal): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (journal.failed !== undefined) return failedSync(journal, journal.failed)
      const done = flush(journal)
      if (done === undefined) return Effect.void
      return Effect.flatMap(
        Effect.promise(() => done),
        (error) => (error === null ? Effect.void : failedSync(journal, error))
      )
    })

  const close = (journal: Journal) =>
    Effect.andThen(
      sync(journal),
      Effect.sync(() => NodeFs.closeSync(journal.fd))
    )

  yield* Effect.addFinalizer(() => Effect.forEach(journals.values(), close, { discard: true }))

  const journalOf = (instance: WorkflowEngine.WorkflowInstance["Service"]) => journals.get(instance.executionId)

  const engine: WorkflowEngine.WorkflowEngine["Service"] = WorkflowEngine.makeUnsafe({
    register: (workflow, execute) =>
      Effect.andThen(
        Effect.sync(() => workflows.set(workflow._tag, execute as never)),
        Effect.addFinalizer(() => Effect.sync(() => workflows.delete(workflow._tag)))
      ),
    execute: (workflow, request) =>
      Effect.gen(function* () {
        const execute = workflows.get(workflow._tag)
        if (execute === undefined) return yield* Effect.die(`workflow ${workflow._tag} is not registered`)
        yield* open(request.executionId, workflow._tag, request.payload).pipe(Effect.orDie)
        const instance = WorkflowEngine.WorkflowInstance.initial(workflow, request.executionId)
        const run = execute(request.payload, request.executionId).pipe(
          Workflow.intoResult,
          Effect.provideService(WorkflowEngine.WorkflowEngine, engine),
          Effect.provideService(WorkflowEngine.WorkflowInstance, instance)
        )
        // An execution that ended, however it ended, lets go of its journal (a resumed one opens it again).
        const finished = Effect.ensuring(
          run,
          Effect.suspend(() => {
            const journal = journals.get(request.executionId)
            if (journal === undefined) return Effect.void
            journals.delete(request.executionId)
            return close(journal)
          })
        )
        if (request.discard) {
          yield* Effect.forkIn(finished, scope)
          return undefined
        }
        return yield* finished
      }) as never,
    poll: () => Effect.succeedNone,
    interrupt: () => Effect.void,
    interruptUnsafe: () => Effect.void,
    resume: () => Effect.void,
    activityExecute: (activity: Activity.Any, _attempt: number) =>
      Effect.gen(function* () {
        const instance = yield* WorkflowEngine.WorkflowInstance
        const journal = journalOf(instance)
        const done = journal?.activities.get(activity.name)
        if (done !== undefined) return new Workflow.Complete({ exit: done })
        const activityInstance = WorkflowEngine.WorkflowInstance.initial(instance.workflow, instance.executionId)
        const result = yield* activity.executeEncoded.pipe(
          Workflow.intoResult,
          Effect.provideService(WorkflowEngine.WorkflowInstance, activityInstance)
        )
        if (result._tag === "Complete" && journal !== undefined) {
          const line = stored(result.exit)
          if (line !== undefined) {
            yield* append(journal, { t: "activity", name: activity.name, ...line }).pipe(Effect.orDie)
            journal.activities.set(activity.name, exitOf(line))
          }
        }
        return result
      }),
    deferredResult: (deferred) =>
      Effect.gen(function* () {
        const instance = yield* WorkflowEngine.WorkflowInstance
        return Option.fromNullishOr(journalOf(instance)?.deferreds.get(deferred.name))
      }),
    deferredDone: (request) =>
      Effect.suspend(() => {
        const journal = journals.get(request.executionId)
        const line = stored(request.exit)
        if (journal === undefined || line === undefined || journal.deferreds.has(request.deferredName)) {
          return Effect.void
        }
        journal.deferreds.set(request.deferredName, exitOf(line))
        return Effect.andThen(
          append(journal, { t: "deferred", name: request.deferredName, ...line }).pipe(Effect.orDie),
          sync(journal)
        )
      }),
    scheduleClock: (workflow, request) =>
      engine
        .deferredDone(request.clock.deferred, {
          workflowName: workflow._tag,
          executionId: request.executionId,
          deferredName: request.clock.deferred.name,
          exit: Exit.void
        })
        .pipe(
          Effect.delay(request.clock.duration),
          FiberMap.run(clocks, `${request.executionId}/${request.clock.name}`, { onlyIfMissing: true }),
          Effect.asVoid
        )
  })

  const journal: Service = {
    directory: options.directory,
    sync: (executionId) => {
      const found = journals.get(executionId)
      return found === undefined ? Effect.void : sync(found)
    },
    completed: (executionId, name) => journals.get(executionId)?.activities.has(name) ?? false,
    activity: <A, E>(executionId: string, name: string, effect: Effect.Effect<A, E>, options?: ActivityOptions<A>) =>
      Effect.suspend((): Effect.Effect<A, E> => {
        const journal = journals.get(executionId)
        if (journal === undefined) return effect
        const error = options?.error
        const done = journal.activities.get(name)
        if (done !== undefined) {
          if (Exit.isSuccess(done)) {
            return Effect.succeed(options?.decode === undefined ? (done.value as A) : options.decode(done.value))
          }
          // Failures are kept encoded, as the journal has them.
          const failure = Cause.findErrorOption(done.cause)
          return error === undefined || failure._tag === "None"
            ? effect
            : Effect.fail(codecOf(error).decode(failure.value) as E)
        }
        return Effect.flatMap(Effect.exit(effect), (exit) => {
          let line: { readonly ok: boolean; readonly value: unknown } | undefined
          if (Exit.isSuccess(exit)) {
            line = {
              ok: true,
              value: (options?.encode === undefined ? exit.value : options.encode(exit.value)) ?? null
            }
          } else if (error !== undefined && !Cause.hasDies(exit.cause) && !Cause.hasInterrupts(exit.cause)) {
            const failure = Cause.findErrorOption(exit.cause)
            if (failure._tag === "Some") line = { ok: false, value: codecOf(error).encode(failure.value) }
          }
          if (line === undefined || journal.activities.has(name)) return exit
          journal.activities.set(name, exitOf(line))
          return Effect.andThen(append(journal, { t: "activity", name, ...line }).pipe(Effect.orDie), exit)
        })
      }),
    header: (executionId) =>
      Effect.gen(function* () {
        if (!executionIdPattern.test(executionId)) return Option.none()
        const open = journals.get(executionId)
        if (open !== undefined) return Option.some(open.header)
        const lines = yield* load(pathOf(executionId), false)
        const first = lines?.[0]
        return first !== undefined && first.t === "run"
          ? Option.some({ workflow: first.workflow, executionId: first.executionId, payload: first.payload })
          : Option.none()
      })
  }
  return { engine, journal }
})

/** The journal engine as the `WorkflowEngine`, with its `RunJournal`. */
export const layer = (options: Options): Layer.Layer<WorkflowEngine.WorkflowEngine | RunJournal> =>
  Layer.effectContext(
    Effect.map(make(options), ({ engine, journal }) =>
      Context.make(WorkflowEngine.WorkflowEngine, engine).pipe(Context.add(RunJournal, journal))
    )
  )
