/**
 * Durable task runs: each task's agent run is a workflow of the cluster's `ClusterWorkflowEngine`, its model calls,
 * tool calls and approvals activities journalled in PostgreSQL, so a task taken over by another runner replays what
 * was done instead of doing it again.
 *
 * An agent registers its run workflow (`troupe/agent/NAME`) when it is made, with a body that finds the run in that
 * agent's own table; the cluster keeps the first registration of a workflow for the life of the process. So each task
 * sees an engine of its own (the shared one, but for `register`): the body it registers is kept by task id (the run's
 * execution id), and the workflow is registered with the shared engine once per name, for as long as the runner
 * lives, with a body that runs the registered body of the execution at hand. A task and its run workflow have the same
 * id, hence the same shard and the same runner; after a takeover the workflow may resume before the task has made its
 * agent again, so the body waits for it (bounded).
 */
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Scope from "effect/Scope"
import * as WorkflowEngine from "effect/workflow/WorkflowEngine"

type Body = (payload: any, executionId: string) => Effect.Effect<any, any, any>

/** The runner's table of run bodies, by execution id, and the workflows registered with the shared engine. */
export interface Registry {
  readonly shared: WorkflowEngine.WorkflowEngine["Service"]
  readonly scope: Scope.Scope
  readonly registered: Set<string>
  readonly bodies: Map<string, Deferred.Deferred<Body>>
}

// How long a resumed run waits for its task to make the agent again.
const bodyWait = Duration.minutes(5)

/** The registry of a runner, over the engine in context, for as long as the scope (the runner's) lasts. */
export const makeRegistry: Effect.Effect<Registry, never, WorkflowEngine.WorkflowEngine | Scope.Scope> = Effect.gen(
  function* () {
    return {
      shared: yield* WorkflowEngine.WorkflowEngine,
      scope: yield* Effect.scope,
      registered: new Set<string>(),
      bodies: new Map()
    }
  }
)

const bodyOf = (registry: Registry, executionId: string): Deferred.Deferred<Body> => {
  let body = registry.bodies.get(executionId)
  if (body === undefined) {
    body = Deferred.makeUnsafe<Body>()
    registry.bodies.set(executionId, body)
  }
  return body
}

/**
 * The engine a task's agent is made with: the shared one, whose `register` keeps the task's body aside and whose
 * `execute` (the agent starting its run, its body ready) hands it to the workflow waiting for it.
 */
export const engineFor = (registry: Registry, taskId: string): WorkflowEngine.WorkflowEngine["Service"] => {
  let registeredBody: Body | undefined
  return WorkflowEngine.WorkflowEngine.of({
    ...registry.shared,
    register: (workflow, execute) =>
      Effect.gen(function* () {
        registeredBody = execute as Body
        yield* Effect.addFinalizer(() => Effect.sync(() => registry.bodies.delete(taskId)))
        if (registry.registered.has(workflow._tag)) return
        registry.registered.add(workflow._tag)
        yield* registry.shared
          .register(workflow, (payload, executionId) =>
            Deferred.await(bodyOf(registry, executionId)).pipe(
              Effect.timeoutOrElse({
                duration: bodyWait,
                orElse: () => {
                  registry.bodies.delete(executionId)
                  return Effect.die(`run ${executionId} has no task on this runner`)
                }
              }),
              Effect.flatMap((run) => run(payload, executionId))
            )
          )
          .pipe(Scope.provide(registry.scope))
      }) as never,
    execute: (workflow, options) =>
      Effect.suspend(() => {
        if (registeredBody !== undefined) Deferred.doneUnsafe(bodyOf(registry, taskId), Effect.succeed(registeredBody))
        return registry.shared.execute(workflow, options)
      })
  })
}
