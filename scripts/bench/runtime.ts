/**
 * `pnpm bench runtime [--json]`: the actor runtime against the floor Effect itself sets (a bare Queue and a
 * fiber loop, for tells, batches and asks) and against xstate v5 actors, measured in the same run.
 */

import { Actor, ActorSystem, Next, ReplyTo, Supervisor } from "@troupe/runtime"
import { Deferred, Effect, Exit, Queue, Schema } from "effect"
import { createActor, emit, setup } from "xstate"
import { quantile, report } from "./_report.ts"

const MESSAGES = 1_000_000
const BATCH = 1_000
const WARMUP_BATCHES = 100
const ASKS = 50_000
const SPAWNS = 100_000
const IDLE = 20_000
const RESTARTS = 2_000

const gc = (): void => (globalThis as { gc?: () => void }).gc?.()
const nowNs = () => process.hrtime.bigint()
const micros = (ns: bigint) => Number(ns) / 1000
const heapAfterGc = () => {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

// ---- Troupe -----------------------------------------------------------------------------------------------

const Inc = Schema.TaggedStruct("Inc", {})
const Get = Schema.TaggedStruct("Get", { replyTo: ReplyTo.schema<number>() })
const GetByEffect = Schema.TaggedStruct("GetByEffect", { replyTo: ReplyTo.schema<number>() })
const Crash = Schema.TaggedStruct("Crash", {})
type Msg = typeof Inc.Type | typeof Get.Type | typeof GetByEffect.Type | typeof Crash.Type
const inc: Msg = { _tag: "Inc" }

let crashedAt = 0n
const restartSamples: Array<number> = []

const counter = Actor.make({
  protocol: Schema.Union([Inc, Get, GetByEffect, Crash]),
  init: () => Effect.succeed(0),
  receive: (n, message): Effect.Effect<Next.Next<number>, string> => {
    switch (message._tag) {
      case "Inc":
        return Effect.succeed(Next.continueWith(n + 1))
      case "Get":
        if (crashedAt !== 0n) {
          restartSamples.push(micros(nowNs() - crashedAt))
          crashedAt = 0n
        }
        // The answer as data: no effect to run for it.
        return Effect.succeed(Next.reply(message.replyTo, n, n))
      case "GetByEffect":
        return Effect.as(ReplyTo.succeed(message.replyTo, n), Next.continueWith(n))
      case "Crash":
        crashedAt = nowNs()
        return Effect.fail("crash on purpose")
    }
  }
})

const get = (ref: { ask: (f: (r: ReplyTo.ReplyTo<number>) => Msg) => Effect.Effect<number, unknown> }) =>
  ref.ask((replyTo) => ({ _tag: "Get", replyTo }))

const temporary = (id: string) => Supervisor.actor(id, counter, { restart: "temporary" })

const troupe = Effect.gen(function* () {
  const system = yield* ActorSystem.ActorSystem
  const ref = yield* system.startChild(temporary("counter"))

  // throughput
  yield* Effect.forEach([1, 2], () => Effect.forEach(Array.from({ length: 10_000 }), () => ref.tell(inc)))
  let start = nowNs()
  for (let i = 0; i < MESSAGES; i++) yield* ref.tell(inc)
  const total = yield* get(ref)
  const tellSeconds = Number(nowNs() - start) / 1e9
  if (total !== MESSAGES + 20_000) throw new Error(`lost messages: ${total}`)

  // batches
  const batch = Array.from({ length: BATCH }, () => inc)
  for (let i = 0; i < WARMUP_BATCHES; i++) yield* ref.tellAll(batch)
  start = nowNs()
  for (let i = 0; i < MESSAGES / BATCH; i++) yield* ref.tellAll(batch)
  const batchTotal = yield* get(ref)
  const batchSeconds = Number(nowNs() - start) / 1e9
  if (batchTotal !== 2 * MESSAGES + 20_000 + WARMUP_BATCHES * BATCH)
    throw new Error(`lost batched messages: ${batchTotal}`)

  // ask latency: answered with `Next.reply`, and with an effect (`ReplyTo.succeed`)
  const asks = (ask: Effect.Effect<number, unknown>) =>
    Effect.gen(function* () {
      for (let i = 0; i < ASKS / 10; i++) yield* ask
      const samples: Array<number> = []
      for (let i = 0; i < ASKS; i++) {
        const t = nowNs()
        yield* ask
        samples.push(micros(nowNs() - t))
      }
      return samples.sort((a, b) => a - b)
    })
  const samples = yield* asks(get(ref))
  const effectSamples = yield* asks(ref.ask<number>((replyTo) => ({ _tag: "GetByEffect", replyTo })))

  // spawn and stop
  start = nowNs()
  for (let i = 0; i < SPAWNS; i++) yield* system.startChild(temporary(`s${i}`))
  for (let i = 0; i < SPAWNS; i++) yield* system.stopChild(`s${i}`)
  const spawnSeconds = Number(nowNs() - start) / 1e9

  // idle actors
  const before = heapAfterGc()
  for (let i = 0; i < IDLE; i++) yield* system.startChild(temporary(`idle${i}`))
  yield* Effect.promise(() => new Promise((r) => setTimeout(r, 50)))
  const bytesPerActor = (heapAfterGc() - before) / IDLE
  for (let i = 0; i < IDLE; i++) yield* system.stopChild(`idle${i}`)

  // restart latency: failure in the handler → the new incarnation handles its first message
  const Child = Supervisor.actor("child", counter)
  const sup = yield* system.startChild(
    Supervisor.supervisor(
      "sup",
      Supervisor.make({ intensity: { maxRestarts: RESTARTS * 10, within: "1 minute" }, children: [Child] })
    )
  )
  const child = yield* sup.ref(Child)
  for (let i = 0; i < RESTARTS; i++) {
    yield* child.tell({ _tag: "Crash" })
    yield* get(child)
  }
  const restarts = restartSamples.slice().sort((a, b) => a - b)

  return {
    tell_msgs_per_s: MESSAGES / tellSeconds,
    tell_batch_msgs_per_s: MESSAGES / batchSeconds,
    ask_p50_us: quantile(samples, 0.5),
    ask_p99_us: quantile(samples, 0.99),
    ask_effect_p50_us: quantile(effectSamples, 0.5),
    ask_effect_p99_us: quantile(effectSamples, 0.99),
    spawn_per_s: SPAWNS / spawnSeconds,
    bytes_per_actor: bytesPerActor,
    restart_us: quantile(restarts, 0.5)
  }
}).pipe(Effect.provide(ActorSystem.layer()))

// ---- the floor: a bare Queue and a fiber loop ---------------------------------------------------------------

const bareQueue = Effect.gen(function* () {
  const queue = yield* Queue.bounded<number>(1024)
  let count = 0
  let done = Promise.withResolvers<void>()
  let target = MESSAGES
  yield* Effect.forkChild(
    Effect.gen(function* () {
      while (true) {
        const taken = yield* Queue.takeAll(queue)
        count += taken.length
        if (count >= target) done.resolve()
      }
    })
  )
  let start = nowNs()
  for (let i = 0; i < MESSAGES; i++) yield* Queue.offer(queue, i)
  yield* Effect.promise(() => done.promise)
  const tell = MESSAGES / (Number(nowNs() - start) / 1e9)

  const batch = Array.from({ length: BATCH }, (_, i) => i)
  for (let i = 0; i < WARMUP_BATCHES; i++) yield* Queue.offerAll(queue, batch)
  done = Promise.withResolvers<void>()
  target = 2 * MESSAGES + WARMUP_BATCHES * BATCH
  start = nowNs()
  for (let i = 0; i < MESSAGES / BATCH; i++) yield* Queue.offerAll(queue, batch)
  yield* Effect.promise(() => done.promise)
  const tellBatch = MESSAGES / (Number(nowNs() - start) / 1e9)

  // ask: a request carrying a Deferred, answered by a fiber looping on `take`
  const requests = yield* Queue.bounded<Deferred.Deferred<number>>(1024)
  yield* Effect.forkChild(
    Effect.gen(function* () {
      while (true) Deferred.doneUnsafe(yield* Queue.take(requests), Exit.succeed(1))
    })
  )
  const samples: Array<number> = []
  for (let i = 0; i < ASKS; i++) {
    const t = nowNs()
    const reply = Deferred.makeUnsafe<number>()
    yield* Queue.offer(requests, reply)
    yield* Deferred.await(reply)
    samples.push(micros(nowNs() - t))
  }
  samples.sort((a, b) => a - b)
  return { tell_msgs_per_s: tell, tell_batch_msgs_per_s: tellBatch, ask_p50_us: quantile(samples, 0.5) }
})

// ---- xstate v5 ----------------------------------------------------------------------------------------------

const xstateMachine = setup({
  types: {
    context: {} as { n: number },
    events: {} as { type: "INC" } | { type: "GET" },
    emitted: {} as { type: "VALUE"; n: number }
  }
}).createMachine({
  context: { n: 0 },
  on: {
    INC: { actions: ({ context }) => void context.n++ },
    GET: { actions: emit(({ context }) => ({ type: "VALUE" as const, n: context.n })) }
  }
})

const xstate = async () => {
  const actor = createActor(xstateMachine).start()
  for (let i = 0; i < 20_000; i++) actor.send({ type: "INC" })
  let start = nowNs()
  for (let i = 0; i < MESSAGES; i++) actor.send({ type: "INC" })
  const tellSeconds = Number(nowNs() - start) / 1e9
  if (actor.getSnapshot().context.n !== MESSAGES + 20_000) throw new Error("xstate lost messages")

  // xstate has no ask: the nearest is sending GET and awaiting the emitted reply
  const samples: Array<number> = []
  for (let i = 0; i < ASKS; i++) {
    const t = nowNs()
    await new Promise<number>((resolve) => {
      const sub = actor.on("VALUE", (event) => {
        sub.unsubscribe()
        resolve(event.n)
      })
      actor.send({ type: "GET" })
    })
    samples.push(micros(nowNs() - t))
  }
  samples.sort((a, b) => a - b)

  start = nowNs()
  const spawned = []
  for (let i = 0; i < SPAWNS; i++) spawned.push(createActor(xstateMachine).start())
  for (const a of spawned) a.stop()
  const spawnSeconds = Number(nowNs() - start) / 1e9
  spawned.length = 0

  const before = heapAfterGc()
  const idle = []
  for (let i = 0; i < IDLE; i++) idle.push(createActor(xstateMachine).start())
  const bytesPerActor = (heapAfterGc() - before) / IDLE
  for (const a of idle) a.stop()

  return {
    tell_msgs_per_s: MESSAGES / tellSeconds,
    ask_p50_us: quantile(samples, 0.5),
    ask_p99_us: quantile(samples, 0.99),
    spawn_per_s: SPAWNS / spawnSeconds,
    bytes_per_actor: bytesPerActor
  }
}

// ---- run ----------------------------------------------------------------------------------------------------

const baseline = await Effect.runPromise(bareQueue)
const ours = await Effect.runPromise(troupe)
const peer = await xstate()

const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits })
const pct = (ratio: number) => `${fmt(ratio * 100, 1)}%`
const figures = {
  ...ours,
  baseline: baseline,
  baseline_queue_msgs_per_s: baseline.tell_msgs_per_s,
  tell_vs_baseline: ours.tell_msgs_per_s / baseline.tell_msgs_per_s,
  tell_batch_vs_baseline: ours.tell_batch_msgs_per_s / baseline.tell_batch_msgs_per_s,
  ask_p50_vs_baseline: ours.ask_p50_us / baseline.ask_p50_us,
  peers: { xstate: peer },
  tell_vs_xstate: ours.tell_msgs_per_s / peer.tell_msgs_per_s,
  spawn_vs_xstate: ours.spawn_per_s / peer.spawn_per_s,
  bytes_vs_xstate: ours.bytes_per_actor / peer.bytes_per_actor
}
report("runtime: Troupe actors vs a bare Queue loop vs xstate v5", figures, [
  [
    "tell msgs/s (1 actor, 1M)",
    `${fmt(ours.tell_msgs_per_s)}   bare queue ${fmt(baseline.tell_msgs_per_s)} (${pct(figures.tell_vs_baseline)})   xstate ${fmt(peer.tell_msgs_per_s)} (${fmt(figures.tell_vs_xstate, 2)}x)`
  ],
  [
    `tellAll msgs/s (batches of ${fmt(BATCH)})`,
    `${fmt(ours.tell_batch_msgs_per_s)}   bare offerAll/takeAll ${fmt(baseline.tell_batch_msgs_per_s)} (${pct(figures.tell_batch_vs_baseline)})`
  ],
  [
    "ask p50 / p99 µs (Next.reply)",
    `${fmt(ours.ask_p50_us, 2)} / ${fmt(ours.ask_p99_us, 2)}   bare queue p50 ${fmt(baseline.ask_p50_us, 2)} (${fmt(figures.ask_p50_vs_baseline, 2)}x)   xstate send+emit ${fmt(peer.ask_p50_us, 2)} / ${fmt(peer.ask_p99_us, 2)}`
  ],
  [
    "ask p50 / p99 µs (ReplyTo.succeed)",
    `${fmt(ours.ask_effect_p50_us, 2)} / ${fmt(ours.ask_effect_p99_us, 2)}   an effect in the handler to answer`
  ],
  [
    "spawn+stop per s (100k)",
    `${fmt(ours.spawn_per_s)}   xstate ${fmt(peer.spawn_per_s)} (${fmt(figures.spawn_vs_xstate, 2)}x)`
  ],
  [
    "bytes per idle actor",
    `${fmt(ours.bytes_per_actor)}   xstate ${fmt(peer.bytes_per_actor)} (${fmt(figures.bytes_vs_xstate, 2)}x)`
  ],
  ["restart µs (median)", `${fmt(ours.restart_us, 1)}   xstate: no supervision`]
])
