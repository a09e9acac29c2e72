/**
 * Approvals on disk, so that a person can decide from another shell (`troupe approvals approve ID`) and a pending
 * request outlives the process that made it: each request is `<dir>/<approvalId>.json`, and a decision is written
 * beside it as `<approvalId>.decision.json` (atomically: to a temporary name, then renamed).
 *
 * `gate` is an approval gate whose waiting requests are stored here and that takes decisions both from the process
 * (`resolve`, a terminal prompt) and from the directory (polled), whichever comes first. A decision already recorded
 * for a request is taken at once, whatever `approveAsk` says: a run resumed after its approval was decided from
 * another shell goes on by that decision.
 *
 * @example
 * ```ts
 * const store = yield* ApprovalStore.make(".troupe/approvals")
 * const pending = yield* store.list // in another process
 * yield* store.decide(pending[0].request.approvalId, { approved: true, by: "ana" })
 * ```
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Approvals from "./Approvals.ts"

/** Reading or writing the approvals directory failed. */
export class ApprovalStoreError extends Schema.TaggedError<ApprovalStoreError>()("ApprovalStoreError", {
  operation: Schema.String,
  path: Schema.String,
  description: Schema.String
}) {
  override get message(): string {
    return `approvals: cannot ${this.operation} ${this.path}: ${this.description}`
  }
}

/** A stored request and its decision, once there is one. */
export const Stored = Schema.Struct({
  request: Approvals.Request,
  requestedAt: Schema.Finite,
  decision: Schema.optionalKey(Approvals.Decision)
})

/** A stored request and its decision. */
export type Stored = typeof Stored.Type

/** The approvals of one `TROUPE_HOME`. */
export interface Store {
  readonly directory: string
  /** Every stored request, oldest first, with its decision when there is one. */
  readonly list: Effect.Effect<ReadonlyArray<Stored>, ApprovalStoreError>
  /** Writes a decision; `false` when no such request is stored or it is already decided. */
  readonly decide: (approvalId: string, decision: Approvals.Decision) => Effect.Effect<boolean, ApprovalStoreError>
  /** The gate of a run: see the module docs. `pollEvery` (default 250 ms) is how often decisions are looked for. */
  readonly gate: (options?: { readonly approveAsk?: boolean; readonly pollEvery?: Duration.Input }) => Approvals.Gate
}

/** The approvals of one `TROUPE_HOME` on disk: a `Store`, and one request's decision read by itself. */
export interface FileStore extends Store {
  /**
   * The decision recorded for `approvalId`, if any: one small file read, not the whole directory. A resumed run
   * publishes again the requests its journal has no decision for; one decided here since goes on by this decision.
   */
  readonly recorded: (approvalId: string) => Effect.Effect<Approvals.Decision | undefined, ApprovalStoreError>
  /**
   * The gate of a run, as `Store.gate`; `onWait` is told of each request that waits for a person (an `ask` call the
   * gate does not approve by itself, with no recorded decision), once it is stored and can be decided from another
   * shell. A process that cannot ask stops on exactly those, not on a policy's denial or an automatic approval.
   */
  readonly gate: (options?: {
    readonly approveAsk?: boolean
    readonly pollEvery?: Duration.Input
    readonly onWait?: (request: Approvals.Request) => Effect.Effect<void>
  }) => Approvals.Gate
}

const idPattern = /^[A-Za-z0-9_-]{1,128}$/

// A decision is a few hundred bytes: what is read of a file is bounded, and anything past it does not decode.
const maxDecisionBytes = 64 * 1024

const readBounded = (path: string): string | undefined => {
  if (!NodeFs.existsSync(path)) return undefined
  const fd = NodeFs.openSync(path, "r")
  const buffer = Buffer.alloc(maxDecisionBytes)
  const read = NodeFs.readSync(fd, buffer, 0, maxDecisionBytes, 0)
  NodeFs.closeSync(fd)
  return buffer.subarray(0, read).toString("utf8")
}

const io = <A>(operation: string, path: string, f: () => A): Effect.Effect<A, ApprovalStoreError> =>
  Effect.try({
    try: f,
    catch: (error) =>
      new ApprovalStoreError({
        operation,
        path,
        description: (error as NodeJS.ErrnoException).code ?? String(error)
      })
  })

const decodeStored = Schema.decodeUnknownResult(Schema.fromJsonString(Stored))

/** The store in `directory` (created if missing). */
export const make = (directory: string): Effect.Effect<FileStore, ApprovalStoreError> =>
  Effect.gen(function* () {
    yield* io("create", directory, () => NodeFs.mkdirSync(directory, { recursive: true, mode: 0o700 }))
    const requestPath = (id: string) => NodePath.join(directory, `${id}.json`)
    const decisionPath = (id: string) => NodePath.join(directory, `${id}.decision.json`)
    const writeAtomically = (path: string, value: unknown) =>
      io("write", path, () => {
        const temporary = `${path}.${process.pid}.tmp`
        NodeFs.writeFileSync(temporary, `${JSON.stringify(value)}\n`, { mode: 0o600 })
        NodeFs.renameSync(temporary, path)
      })
    const readDecision = (id: string) =>
      io("read", decisionPath(id), () => readBounded(decisionPath(id))).pipe(
        Effect.map((text) => {
          if (text === undefined) return undefined
          const decoded = Schema.decodeUnknownResult(Schema.fromJsonString(Approvals.Decision))(text)
          return decoded._tag === "Success" ? decoded.success : undefined
        })
      )

    const list = Effect.gen(function* () {
      const names = yield* io("list", directory, () => NodeFs.readdirSync(directory))
      const stored: Array<Stored> = []
      for (const name of names) {
        if (!name.endsWith(".json") || name.endsWith(".decision.json")) continue
        const text = yield* io("read", NodePath.join(directory, name), () =>
          NodeFs.readFileSync(NodePath.join(directory, name), "utf8")
        )
        const decoded = decodeStored(text)
        if (decoded._tag !== "Success") continue
        const decision = yield* readDecision(decoded.success.request.approvalId)
        stored.push(decision === undefined ? decoded.success : { ...decoded.success, decision })
      }
      return stored.sort((a, b) => a.requestedAt - b.requestedAt)
    })

    const decide = (approvalId: string, decision: Approvals.Decision) =>
      Effect.gen(function* () {
        if (!idPattern.test(approvalId)) return false
        if (!NodeFs.existsSync(requestPath(approvalId))) return false
        if ((yield* readDecision(approvalId)) !== undefined) return false
        yield* writeAtomically(decisionPath(approvalId), decision)
        return true
      })

    const gate: FileStore["gate"] = (options = {}) => {
      const inProcess = Approvals.makeGate({ approveAsk: options.approveAsk ?? false })
      const waiting = new Map<string, Deferred.Deferred<Approvals.Decision>>()
      const pollEvery = Duration.fromInputUnsafe(options.pollEvery ?? "250 millis")
      const fromDisk = (id: string): Effect.Effect<Approvals.Decision> =>
        Effect.gen(function* () {
          while (true) {
            const decision = yield* readDecision(id).pipe(Effect.orElseSucceed(() => undefined))
            if (decision !== undefined) return decision
            yield* Effect.sleep(pollEvery)
          }
        })
      const self: Approvals.Gate = {
        decide: (request) =>
          Effect.gen(function* () {
            // A decision already recorded (from another shell while the run was stopped) stands, whatever --yes says.
            if (request.policy === "ask" && idPattern.test(request.approvalId)) {
              const recorded = yield* readDecision(request.approvalId).pipe(Effect.orElseSucceed(() => undefined))
              if (recorded !== undefined) return recorded
            }
            if (request.policy !== "ask" || options.approveAsk === true) return yield* inProcess.decide(request)
            const stored: Stored = { request, requestedAt: yield* Clock.currentTimeMillis }
            // Waiting here before it is on disk: whoever reads it there can decide it in this process too.
            const local = Deferred.makeUnsafe<Approvals.Decision>()
            waiting.set(request.approvalId, local)
            const decision = yield* Effect.andThen(
              writeAtomically(requestPath(request.approvalId), stored).pipe(
                Effect.orDie,
                Effect.andThen(options.onWait === undefined ? Effect.void : options.onWait(request))
              ),
              Effect.raceFirst(Deferred.await(local), fromDisk(request.approvalId))
            ).pipe(Effect.ensuring(Effect.sync(() => waiting.delete(request.approvalId))))
            // The decision is kept on disk beside its request, as the record of who decided.
            yield* decide(request.approvalId, decision).pipe(Effect.ignore)
            return decision
          }),
        pending: Effect.map(list.pipe(Effect.orElseSucceed(() => [])), (stored) =>
          stored.filter((s) => s.decision === undefined && waiting.has(s.request.approvalId)).map((s) => s.request)
        ),
        resolve: (approvalId, decision) =>
          Effect.suspend(() => {
            const local = waiting.get(approvalId)
            return local === undefined ? Effect.succeed(false) : Deferred.succeed(local, decision)
          })
      }
      return self
    }
    const recorded = (approvalId: string) =>
      idPattern.test(approvalId) ? readDecision(approvalId) : Effect.succeed(undefined)
    return { directory, list, decide, gate, recorded }
  })
