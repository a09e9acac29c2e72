/**
 * One run of an agent towards a goal, as an explicit state machine:
 *
 * ```
 * recall → plan → ┌─ act (one model turn; the tools it calls run) ──→ awaiting approval ─┐
 *                 │   ↓ observe (episode remembered, loops watched)                      │
 *                 │   ↓ reflect (when due) → continue | retry | replan | done | give-up   │
 *                 └───────────────────────────────────────────────────────────────────────┘
 * ends: done | failed | budget exceeded | cancelled
 * ```
 *
 * The spec may leave states out: `planning.enabled: false` acts on the task at once (a reflection that asks to re-plan
 * still makes a plan), and `reflection.beforeAnswer: false` ends the run with an answer that no reflection is due for.
 *
 * Every state is a function of its own (`internal/recall`, `planning`, `acting`, `reflecting`) from the run's
 * context and state to the next state. The end is always explicit: a result, or a typed error carrying the
 * partial result and what was spent. Time spent waiting for a person (approvals) does not count against
 * `limits.timeout`; the model calls and tools do.
 *
 * A durable run (`context.durable`, see `RunJournal`) is the same machine replayed from its start: its model calls,
 * tool calls, approval decisions and memory steps are activities answered from the journal once they completed, so
 * it goes on where it stopped; the events it emits again are already in its trail and are not written twice.
 */
import { createHash } from "node:crypto"
import * as AgentSpec from "@troupe/agent-spec/AgentSpec"
import * as SensorWaits from "@troupe/tools/SensorWaits"
import * as LanguageModel from "effect/ai/LanguageModel"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schema from "effect/Schema"
import * as AgentError from "./AgentError.ts"
import type * as AgentEvent from "./AgentEvent.ts"
import * as Acting from "./internal/acting.ts"
import * as Budget from "./internal/budget.ts"
import * as History from "./internal/history.ts"
import * as Planning from "./internal/planning.ts"
import * as Recall from "./internal/recall.ts"
import * as Reflecting from "./internal/reflecting.ts"
import { initial, partialOf, type RunContext, type RunState, withUserMessage } from "./internal/runContext.ts"
import * as Plan from "./Plan.ts"
import * as Prompting from "./Prompting.ts"
import * as Spend from "./Spend.ts"

export type { RunContext } from "./internal/runContext.ts"

/** A run that reached its goal. */
export const RunResult = Schema.Struct({
  runId: Schema.String,
  answer: Schema.String,
  plan: Schema.optionalKey(Plan.Plan),
  spend: Spend.Spend,
  durationMs: Schema.Finite
})

/** A run that reached its goal. */
export type RunResult = typeof RunResult.Type

/** The errors a run itself can end with (`AgentBusy` and `RunCrashed` come from the agent around it). */
export type RunFailure =
  | AgentError.ModelFailed
  | AgentError.OutputUnparsable
  | AgentError.BudgetExceeded
  | AgentError.LoopDetected
  | AgentError.GaveUp
  | AgentError.RunCancelled

/** Where a run stands, as `Status` reports it. */
export interface Progress {
  readonly runId: string
  readonly step: number
  readonly plan: Plan.Plan | undefined
  readonly spend: Spend.Spend
}

/** A handle on a run in progress: where it stands, and its cancellation. */
export interface Control {
  /** Completed by `Cancel`: the step in progress is interrupted and the run ends as cancelled. */
  readonly cancel: Deferred.Deferred<void>
  /** Updated after every state. */
  readonly onState: (progress: Progress) => void
}

const statusOf = (error: RunFailure): AgentEvent.RunStatus => {
  switch (error._tag) {
    case "BudgetExceeded":
      return "budget-exceeded"
    case "RunCancelled":
      return "cancelled"
    default:
      return "failed"
  }
}

// Digests by spec: a decoded spec is never changed, and an agent starts every run from the same one.
const digests = new WeakMap<AgentSpec.AgentSpec, string>()

/** The SHA-256 of the spec, as the run's first event records it. */
export const digestOf = (spec: AgentSpec.AgentSpec): Effect.Effect<string> =>
  Effect.sync(() => {
    const known = digests.get(spec)
    if (known !== undefined) return known
    const digest = createHash("sha256")
      .update(JSON.stringify(Schema.encodeSync(AgentSpec.AgentSpec)(spec)))
      .digest("hex")
    digests.set(spec, digest)
    return digest
  })

/** Episodes older than this are consolidated into lessons when a run ends. */
export const consolidateAfter = Duration.days(7)

// Old episodes of the agent become lessons (the memory package's consolidation, with the agent's model), so that
// memory grows by what was learned rather than by every step. A failure only costs the consolidation.
const consolidate = (context: RunContext): Effect.Effect<void> => {
  const memory = context.memory
  if (memory === undefined || !context.spec.memory.enabled) return Effect.void
  return memory
    .consolidate({
      namespace: AgentSpec.memoryNamespace(context.spec),
      olderThan: consolidateAfter,
      agent: context.spec.name
    })
    .pipe(
      Effect.provideService(LanguageModel.LanguageModel, context.model),
      Effect.asVoid,
      Effect.catch((error) => Effect.logWarning(`memory: consolidation failed: ${error.message}`))
    )
}

// The same tool call, answered the same way, more often than the spec allows.
const repeatedIn = (context: RunContext, state: RunState): boolean =>
  [...state.calls.values()].some((n) => n > context.spec.limits.maxRepeats)

// No progress on the plan for as many steps as the spec allows.
const stalledIn = (context: RunContext, state: RunState): boolean =>
  state.plan !== undefined && state.step - state.progressStep >= context.spec.limits.maxStalledSteps

/** Runs the state machine to its end. */
export const execute = (context: RunContext, control: Control): Effect.Effect<RunResult, RunFailure> =>
  Effect.gen(function* () {
    const started = yield* Clock.currentTimeMillis
    const base = { runId: context.runId, agent: context.spec.name }
    yield* context.emit({
      _tag: "AgentRunStarted",
      ...base,
      at: started,
      goal: context.goal,
      specDigest: yield* digestOf(context.spec)
    })
    // The latest state, for the partial result of a run cut short from outside (a timeout, a cancellation).
    let latest: RunState = initial
    let paused = 0
    const waits = yield* SensorWaits.make
    const timeoutMillis = Duration.toMillis(context.spec.limits.timeout)
    const stepMillis = Duration.toMillis(context.spec.limits.stepTimeout)
    const publish = (state: RunState): RunState => {
      latest = state
      control.onState({ runId: context.runId, step: state.step, plan: state.plan, spend: state.spend })
      return state
    }
    // Working time left: the run's timeout, minus what was spent, not counting time spent waiting for a person or
    // on a sensor (whose waits the tools report through `SensorWaits.Waiting`).
    const bounded = <A, E>(
      effect: Effect.Effect<A, E>,
      stepLimit: boolean
    ): Effect.Effect<A, E | AgentError.BudgetExceeded> =>
      Effect.flatMap(Effect.zip(Clock.currentTimeMillis, waits.waited), ([now, waited]) => {
        const left = timeoutMillis - (now - started - paused - waited)
        const limit: AgentError.Limit = stepLimit && stepMillis < left ? "step-time" : "time"
        const millis = Math.max(0, limit === "step-time" ? stepMillis : left)
        return waits.timeoutOrElse(Effect.provideService(effect, SensorWaits.Waiting, waits.waiting), {
          duration: Duration.millis(millis),
          orElse: () =>
            Effect.fail(
              new AgentError.BudgetExceeded({
                limit,
                used: limit === "step-time" ? stepMillis : timeoutMillis,
                max: limit === "step-time" ? stepMillis : timeoutMillis,
                partial: partialOf(context.runId, latest)
              })
            )
        })
      })

    const episodes: Array<Fiber.Fiber<void>> = []
    const remember = (state: RunState) => {
      const memory = context.memory
      if (memory === undefined || !context.spec.memory.enabled) return Effect.void
      const text = `Run ${context.runId}, step ${state.step} towards "${context.goal}": ${state.answer ?? "(no text yet)"}`
      // Detached from the step that wrote them (a child fiber would be interrupted with it when the run ends);
      // the run waits for them before it ends, and stops them only if it is itself interrupted.
      const stored = memory
        .remember({
          agent: context.spec.name,
          namespace: AgentSpec.memoryNamespace(context.spec),
          kind: "episode",
          text: text.slice(0, 4000),
          metadata: { runId: context.runId, step: state.step }
        })
        .pipe(
          Effect.asVoid,
          Effect.catch((e) => Effect.logWarning(`memory: episode not stored: ${e.message}`))
        )
      return Effect.map(
        Effect.forkDetach(
          context.durable === undefined ? stored : context.durable.step(`episode/${state.step}`, stored)
        ),
        (fiber) => {
          episodes.push(fiber)
        }
      )
    }

    const work = Effect.gen(function* () {
      let state = publish(withUserMessage(initial, Prompting.task(context.goal)))
      if (Recall.enabled(context)) state = publish(yield* bounded(Recall.recall(context, state), false))
      if (context.spec.planning.enabled) state = publish(yield* bounded(Planning.plan(context, state), false))
      let loopWarned = false
      while (true) {
        state = publish(yield* Budget.check(context, state))
        state = publish({ ...state, step: state.step + 1, spend: Spend.step(state.spend) })
        yield* context.emit({ _tag: "AgentStepStarted", ...base, at: yield* Clock.currentTimeMillis, step: state.step })
        // Bounded only when it has a model call to make: the bound races the step against a timer.
        if (History.overBudget(context, state)) state = publish(yield* bounded(History.fit(context, state), true))
        const acted = yield* Effect.withSpan(bounded(Acting.act(context, state), true), "troupe.agent.step", {
          captureStackTrace: false,
          attributes: { "troupe.run.id": context.runId, "troupe.step": state.step }
        })
        state = publish(acted.state)
        const turn = acted.turn
        if (turn.approvals.length > 0) {
          const waitStart = yield* Clock.currentTimeMillis
          state = publish(yield* Acting.decide(context, state, turn.approvals))
          paused += (yield* Clock.currentTimeMillis) - waitStart
          continue
        }
        yield* remember(state)
        const repeated = repeatedIn(context, state)
        const looping = repeated || stalledIn(context, state)
        if (!looping && !Reflecting.due(context, state, turn)) {
          // An answer nobody reflects on (`reflection.beforeAnswer: false`) ends the run as the model gave it.
          if (turn.answered) return { answer: state.answer ?? "", state }
          continue
        }
        const reflected = yield* bounded(Reflecting.reflect(context, state, turn), false)
        state = publish(reflected.state)
        const { outcome, reasoning } = reflected.reflection
        if (outcome === "done") {
          return { answer: reflected.reflection.answer ?? state.answer ?? "", state }
        }
        if (outcome === "give-up") {
          return yield* new AgentError.GaveUp({ reasoning, partial: partialOf(context.runId, state) })
        }
        const stillLooping = repeatedIn(context, state) || stalledIn(context, state)
        if (looping && stillLooping && loopWarned) {
          return yield* new AgentError.LoopDetected({
            description: repeated
              ? `the same tool call was made more than ${context.spec.limits.maxRepeats} times`
              : `no progress on the plan in ${context.spec.limits.maxStalledSteps} steps`,
            partial: partialOf(context.runId, state)
          })
        }
        loopWarned = looping
        if (outcome === "replan") {
          state = publish(yield* bounded(Planning.plan(context, state, reasoning), false))
        } else if (turn.answered || outcome === "retry" || looping) {
          const note = looping
            ? `You seem to be repeating yourself without progress. ${reasoning} Change approach.`
            : Prompting.guidance(reasoning, outcome === "retry")
          state = publish(withUserMessage(state, note))
        }
      }
    })

    const cancelled = Effect.flatMap(Deferred.await(control.cancel), () =>
      Effect.fail(new AgentError.RunCancelled({ partial: partialOf(context.runId, latest) }))
    )
    const exit = yield* Effect.exit(Effect.raceFirst(work, cancelled)).pipe(
      Effect.onInterrupt(() => Effect.forEach(episodes, Fiber.interrupt, { discard: true }))
    )
    yield* Effect.forEach(episodes, Fiber.join, { discard: true })
    yield* consolidate(context)
    const ended = yield* Clock.currentTimeMillis
    const durationMs = ended - started
    if (exit._tag === "Success") {
      const { answer, state } = exit.value
      yield* context.emit({
        _tag: "AgentRunEnded",
        ...base,
        at: ended,
        status: "done",
        spend: state.spend,
        durationMs,
        answer
      })
      yield* context.barrier
      return {
        runId: context.runId,
        answer,
        spend: state.spend,
        durationMs,
        ...(state.plan === undefined ? {} : { plan: state.plan })
      }
    }
    const failure = Cause.findErrorOption(exit.cause)
    if (failure._tag === "None") return yield* Effect.failCause(exit.cause)
    const error = failure.value
    yield* context.emit({
      _tag: "AgentRunEnded",
      ...base,
      at: ended,
      status: statusOf(error),
      spend: latest.spend,
      durationMs,
      ...(latest.answer === undefined ? {} : { answer: latest.answer }),
      error: { tag: error._tag, message: error.message }
    })
    yield* context.barrier
    return yield* Effect.fail(error)
  }).pipe(
    Effect.withSpan(
      `invoke_agent ${context.spec.name}`,
      {
        attributes: {
          "gen_ai.operation.name": "invoke_agent",
          "gen_ai.agent.name": context.spec.name,
          "troupe.run.id": context.runId
        }
      },
      { captureStackTrace: false }
    )
  )
