import { assert, describe, it } from "@effect/vitest"
import * as AiError from "effect/ai/AiError"
import * as LanguageModel from "effect/ai/LanguageModel"
import * as Tool from "effect/ai/Tool"
import * as Toolkit from "effect/ai/Toolkit"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/testing/TestClock"
import * as Mixture from "../../src/mixture/Mixture.ts"
import * as ProviderPool from "../../src/mixture/ProviderPool.ts"
import * as Scripted from "../../src/testing/ScriptedLanguageModel.ts"
import { interrupted, member, settle, withClock } from "./support.ts"

const good = "Paris is the capital of France. It has been the seat of government for centuries."

const Capital = Schema.Struct({ country: Schema.String, capital: Schema.String })

const GetWeather = Tool.make("get_weather", {
  parameters: Schema.Struct({ city: Schema.String }),
  success: Schema.String
})
const WeatherKit = Toolkit.make(GetWeather)

describe("Mixture", () => {
  describe("weighted-score", () => {
    it.effect("returns the best scored answer and excludes failures", () =>
      Effect.gen(function* () {
        const a = yield* Scripted.make([Scripted.text(good)])
        const b = yield* Scripted.make([
          Scripted.text("Paris Paris Paris Paris Paris Paris Paris Paris Paris Paris", { finishReason: "length" })
        ])
        const c = yield* Scripted.make([Scripted.fail(new AiError.InternalProviderError({ description: "boom" }))])
        const model = yield* Mixture.make({
          members: [member("b", b), member("a", a), member("c", c)],
          strategy: Mixture.weightedScore()
        })
        const response = yield* model.generateText({ prompt: "What is the capital of France?" })
        assert.strictEqual(response.text, good)
        const decision = Mixture.decisionOf(response)
        assert.strictEqual(decision?.provider, "a")
        assert.strictEqual(decision?.strategy, "weighted-score")
        assert.strictEqual(decision?.scores.length, 2)
        const pool = yield* ProviderPool.ProviderPool
        const [event] = yield* pool.recent(1)
        assert.deepStrictEqual(
          event?.attempts.map((x) => [x.provider, x.outcome]),
          [
            ["b", "answered"],
            ["a", "won"],
            ["c", "failed"]
          ]
        )
        assert.strictEqual(event?.attempts[2]?.reason, "InternalProviderError")
        assert.isAbove(event?.attempts[1]?.score ?? 0, event?.attempts[0]?.score ?? 1)
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("a provider's weight can outweigh a better answer", () =>
      Effect.gen(function* () {
        const a = yield* Scripted.make([Scripted.text(good)])
        const b = yield* Scripted.make([Scripted.text("Paris.")])
        const model = yield* Mixture.make({
          members: [member("a", a), member("b", b, { weight: 3 })],
          strategy: Mixture.weightedScore()
        })
        const response = yield* model.generateText({ prompt: "capital?" })
        assert.strictEqual(Mixture.decisionOf(response)?.provider, "b")
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("rejects answers that do not match the requested schema", () =>
      Effect.gen(function* () {
        const wrong = yield* Scripted.make([Scripted.text('{"country":"France"}')])
        const right = yield* Scripted.make([Scripted.text('{"country":"France","capital":"Paris"}')])
        const model = yield* Mixture.make({
          members: [member("wrong", wrong, { weight: 5 }), member("right", right)],
          strategy: Mixture.weightedScore()
        })
        const response = yield* model.generateObject({ prompt: "capital of France", schema: Capital })
        assert.deepStrictEqual(response.value, { country: "France", capital: "Paris" })
        const requests = yield* right.requests
        assert.strictEqual(requests[0]?.responseFormat.type, "json")
        const pool = yield* ProviderPool.ProviderPool
        const [event] = yield* pool.recent(1)
        assert.strictEqual(event?.attempts[0]?.outcome, "failed")
        assert.strictEqual(event?.winner?.provider, "right")
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("rejects tool calls that do not match the toolkit and runs the winner's tool once", () =>
      Effect.gen(function* () {
        const bad = yield* Scripted.make([Scripted.toolCalls([{ name: "get_weather", params: { town: "Paris" } }])])
        const unknown = yield* Scripted.make([Scripted.toolCalls([{ name: "send_mail", params: {} }])])
        const ok = yield* Scripted.make([Scripted.toolCalls([{ name: "get_weather", params: { city: "Paris" } }])])
        const model = yield* Mixture.make({
          members: [member("bad", bad, { weight: 5 }), member("unknown", unknown, { weight: 5 }), member("ok", ok)],
          strategy: Mixture.weightedScore()
        })
        let handled = 0
        const toolkit = yield* WeatherKit.pipe(
          Effect.provide(
            WeatherKit.toLayer({
              get_weather: ({ city }) => Effect.sync(() => `sunny in ${city} (${++handled})`)
            })
          )
        )
        const response = yield* model.generateText({ prompt: "weather in Paris?", toolkit })
        assert.strictEqual(handled, 1)
        assert.strictEqual(response.toolResults[0]?.result, "sunny in Paris (1)")
        const pool = yield* ProviderPool.ProviderPool
        const [event] = yield* pool.recent(1)
        assert.deepStrictEqual(
          event?.attempts.map((x) => [x.outcome, x.reason ?? ""]),
          [
            ["rejected", "Rejected:tools"],
            ["rejected", "Rejected:tools"],
            ["won", ""]
          ]
        )
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("a judge model's scores take part", () =>
      Effect.gen(function* () {
        const a = yield* Scripted.make([Scripted.text(good)])
        const b = yield* Scripted.make([
          Scripted.text("Lyon is the capital of France, a large city in the south east.")
        ])
        const judge = yield* Scripted.make([Scripted.text('{"scores":[0,10]}')])
        const model = yield* Mixture.make({
          members: [member("a", a), member("b", b)],
          strategy: Mixture.weightedScore({ judge: judge.languageModel })
        })
        const response = yield* model.generateText({ prompt: "capital of France?" })
        assert.strictEqual(Mixture.decisionOf(response)?.provider, "b")
        const [judgeRequest] = yield* judge.prompts
        assert.include(Scripted.promptText(judgeRequest!), "Lyon is the capital")
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )
    it.effect("a judge that does not answer within its timeout scores neutrally", () =>
      Effect.gen(function* () {
        const a = yield* Scripted.make([Scripted.text(good)])
        const b = yield* Scripted.make([Scripted.text("Paris.")])
        const judge = yield* Scripted.make([Scripted.hang])
        const model = yield* Mixture.make({
          members: [member("a", a), member("b", b)],
          strategy: Mixture.weightedScore({ judge: judge.languageModel, judgeTimeout: "2 seconds" })
        })
        let answered = false
        const fiber = yield* Effect.forkChild(
          model
            .generateText({ prompt: "capital of France?" })
            .pipe(Effect.tap(() => Effect.sync(() => (answered = true))))
        )
        yield* TestClock.adjust(1999)
        assert.isFalse(answered)
        yield* TestClock.adjust(1)
        const response = yield* Fiber.join(fiber)
        assert.strictEqual(Mixture.decisionOf(response)?.provider, "a")
        assert.strictEqual(yield* judge.interruptions, 1)
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )
  })

  describe("first-valid", () => {
    it.effect("returns the first valid answer and interrupts the others", () =>
      Effect.gen(function* () {
        const fast = yield* Scripted.make([Scripted.delayed("20 millis", Scripted.text("fast answer."))])
        const slow = yield* Scripted.make([Scripted.delayed("500 millis", Scripted.text("slow answer."))])
        const model = yield* Mixture.make({
          members: [member("slow", slow), member("fast", fast)],
          strategy: Mixture.firstValid
        })
        const response = yield* withClock(model.generateText({ prompt: "quick" }), 20)
        assert.strictEqual(response.text, "fast answer.")
        assert.strictEqual(yield* interrupted(slow), 1)
        assert.strictEqual(yield* slow.completed, 0)
        const pool = yield* ProviderPool.ProviderPool
        const [event] = yield* pool.recent(1)
        assert.deepStrictEqual(
          event?.attempts.map((x) => x.outcome),
          ["cancelled", "won"]
        )
        assert.strictEqual(event?.durationMs, 20)
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("skips refusals and empty answers", () =>
      Effect.gen(function* () {
        const refuses = yield* Scripted.make([Scripted.delayed("1 millis", Scripted.refusal())])
        const empty = yield* Scripted.make([Scripted.delayed("2 millis", Scripted.text(""))])
        const answers = yield* Scripted.make([Scripted.delayed("10 millis", Scripted.text("here it is."))])
        const model = yield* Mixture.make({
          members: [member("refuses", refuses), member("empty", empty), member("answers", answers)],
          strategy: Mixture.firstValid
        })
        const response = yield* withClock(model.generateText({ prompt: "q" }), 10)
        assert.strictEqual(response.text, "here it is.")
        const pool = yield* ProviderPool.ProviderPool
        const [event] = yield* pool.recent(1)
        assert.deepStrictEqual(
          event?.attempts.map((x) => x.reason ?? x.outcome),
          ["Rejected:refusal", "Rejected:empty", "won"]
        )
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("each provider has its own timeout", () =>
      Effect.gen(function* () {
        const hangs = yield* Scripted.make([Scripted.hang])
        const answers = yield* Scripted.make([Scripted.delayed("3 seconds", Scripted.text("done."))])
        const model = yield* Mixture.make({
          members: [
            member("hangs", hangs, { timeout: "1 second" }),
            member("answers", answers, { timeout: "5 seconds" })
          ],
          strategy: Mixture.firstValid
        })
        const response = yield* withClock(model.generateText({ prompt: "q" }), 3000)
        assert.strictEqual(response.text, "done.")
        const pool = yield* ProviderPool.ProviderPool
        const [event] = yield* pool.recent(1)
        assert.strictEqual(event?.attempts[0]?.outcome, "timeout")
        assert.strictEqual(event?.attempts[0]?.latencyMs, 1000)
        assert.strictEqual(yield* interrupted(hangs), 1)
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("streams the first provider to produce content and interrupts the others", () =>
      Effect.gen(function* () {
        const fast = yield* Scripted.make(
          [Scripted.delayed("10 millis", Scripted.text("streamed from the fast one"))],
          {
            chunkSize: 8
          }
        )
        const slow = yield* Scripted.make([Scripted.delayed("200 millis", Scripted.text("slow"))])
        const model = yield* Mixture.make({
          members: [member("slow", slow), member("fast", fast)],
          strategy: Mixture.firstValid
        })
        const parts = yield* withClock(Stream.runCollect(model.streamText({ prompt: "go" })), 10)
        const text = parts.flatMap((p) => (p.type === "text-delta" ? [p.delta] : [])).join("")
        assert.strictEqual(text, "streamed from the fast one")
        assert.strictEqual(yield* interrupted(slow), 1)
        const meta = parts.find((p) => p.type === "response-metadata")
        assert.isDefined(meta)
        const pool = yield* ProviderPool.ProviderPool
        const [event] = yield* pool.recent(1)
        assert.strictEqual(event?.winner?.provider, "fast")
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )
  })

  describe("launch order", () => {
    it.effect("starts the slowest provider first when every answer is awaited, the fastest when the first wins", () =>
      Effect.gen(function* () {
        const starts: Array<string> = []
        const scripted = (name: string, millis: number) =>
          Scripted.make(
            [
              Scripted.dynamic(() => {
                starts.push(name)
                return Scripted.delayed(millis, Scripted.text(`${name} answered.`))
              })
            ],
            { cycle: true }
          )
        const members = [member("fast", yield* scripted("fast", 10)), member("slow", yield* scripted("slow", 30))]
        const weighted = yield* Mixture.make({ members, strategy: Mixture.weightedScore() })
        yield* withClock(weighted.generateText({ prompt: "q" }), 30)
        yield* withClock(weighted.generateText({ prompt: "q" }), 30)
        const first = yield* Mixture.make({ members: [...members].reverse(), strategy: Mixture.firstValid })
        yield* withClock(first.generateText({ prompt: "q" }), 10)
        assert.deepStrictEqual(starts, ["fast", "slow", "slow", "fast", "fast", "slow"])
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("a quorum of k starts the k fastest providers first, the k-th of them first, then the others", () =>
      Effect.gen(function* () {
        const starts: Array<string> = []
        const scripted = (name: string, millis: number) =>
          Scripted.make(
            [
              Scripted.dynamic(() => {
                starts.push(name)
                return Scripted.delayed(millis, Scripted.text("The answer is 42."))
              })
            ],
            { cycle: true }
          )
        const members = [
          member("slow", yield* scripted("slow", 40)),
          member("fast", yield* scripted("fast", 10)),
          member("slower", yield* scripted("slower", 50)),
          member("mid", yield* scripted("mid", 20))
        ]
        // The first fan-out waits for every answer, so that the pool learns each provider's latency.
        const learn = yield* Mixture.make({ members, strategy: Mixture.weightedScore() })
        yield* withClock(learn.generateText({ prompt: "q" }), 50)
        starts.length = 0
        const quorum = yield* Mixture.make({ members, strategy: Mixture.quorum(2) })
        const response = yield* withClock(quorum.generateText({ prompt: "q" }), 20)
        assert.strictEqual(response.text, "The answer is 42.")
        assert.deepStrictEqual(starts, ["mid", "fast", "slow", "slower"])
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )
  })

  describe("streaming", () => {
    it.effect("a member's timeout bounds its wait for the first content, not the whole stream", () =>
      Effect.gen(function* () {
        const text = "Paris is the capital of France, on the Seine."
        const steady = yield* Scripted.make([Scripted.text(text)], { chunkSize: 8, chunkDelay: "100 millis" })
        const model = yield* Mixture.make({
          members: [member("steady", steady, { timeout: "300 millis" })],
          strategy: Mixture.firstValid
        })
        const arrivals: Array<number> = []
        const parts = yield* withClock(
          Stream.runCollect(
            model
              .streamText({ prompt: "capital?" })
              .pipe(
                Stream.tap((p) =>
                  p.type === "text-delta"
                    ? Effect.map(Clock.currentTimeMillis, (t) => void arrivals.push(t))
                    : Effect.void
                )
              )
          ),
          700
        )
        assert.strictEqual(parts.flatMap((p) => (p.type === "text-delta" ? [p.delta] : [])).join(""), text)
        // Six chunks, one every 100 ms: the answer streamed on past the 300 ms limit, and before its end.
        assert.strictEqual(arrivals.at(-1), 600)
        assert.isBelow(arrivals[0]!, 600)
        const pool = yield* ProviderPool.ProviderPool
        const [event] = yield* pool.recent(1)
        assert.strictEqual(event?.attempts[0]?.outcome, "won")
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("a streaming member with no content within its timeout times out", () =>
      Effect.gen(function* () {
        const silent = yield* Scripted.make([Scripted.hang])
        const late = yield* Scripted.make([Scripted.delayed("500 millis", Scripted.text("late but fine."))])
        const model = yield* Mixture.make({
          members: [member("silent", silent, { timeout: "300 millis" }), member("late", late)],
          strategy: Mixture.firstValid
        })
        const parts = yield* withClock(Stream.runCollect(model.streamText({ prompt: "q" })), 500)
        assert.strictEqual(parts.flatMap((p) => (p.type === "text-delta" ? [p.delta] : [])).join(""), "late but fine.")
        const pool = yield* ProviderPool.ProviderPool
        const [event] = yield* pool.recent(1)
        assert.deepStrictEqual(
          event?.attempts.map((x) => [x.outcome, x.latencyMs]),
          [
            ["timeout", 300],
            ["won", 500]
          ]
        )
        assert.strictEqual(yield* silent.interruptions, 1)
        const [usage] = yield* pool.usage
        assert.strictEqual(usage?.failures, 1)
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("a streaming member held back by its rate limit fails at once with RateLimited", () =>
      Effect.gen(function* () {
        const limited = yield* Scripted.make([Scripted.text("the first answer, streamed."), Scripted.text("second.")])
        const model = yield* Mixture.make({
          members: [member("limited", limited, { timeout: "30 seconds" })],
          strategy: Mixture.firstValid
        })
        yield* Stream.runCollect(model.streamText({ prompt: "q" }))
        // The clock does not move: a stream that waited for its turn (60 s) or for its timeout (30 s) would hang here.
        const error = yield* Effect.flip(Stream.runCollect(model.streamText({ prompt: "q" })))
        assert.deepStrictEqual(
          Mixture.failureOf(error)?.failures.map((f) => [f.provider, f.reason]),
          [["limited", "RateLimited"]]
        )
        assert.strictEqual((yield* limited.requests).length, 1)
      }).pipe(Effect.provide(ProviderPool.layer({ limits: { limited: { requestsPerMinute: 1 } } })))
    )

    it.effect("a streamed timeout names its provider once", () =>
      Effect.gen(function* () {
        const silent = yield* Scripted.make([Scripted.hang])
        const model = yield* Mixture.make({
          members: [member("a", silent, { timeout: "300 millis" })],
          strategy: Mixture.firstValid
        })
        const error = yield* withClock(Effect.flip(Stream.runCollect(model.streamText({ prompt: "q" }))), 300)
        const failed = Mixture.failureOf(error)!
        assert.deepStrictEqual(failed.failures[0], {
          provider: "a",
          model: "a-model",
          reason: "ProviderTimeout",
          message: "no answer within 300 ms",
          retryable: true
        })
        assert.include(failed.message, "a: no answer within 300 ms")
        assert.notInclude(failed.message, "a: a:")
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("streamed first-valid skips a provider whose opening is a refusal", () =>
      Effect.gen(function* () {
        const refuses = yield* Scripted.make([Scripted.delayed("1 millis", Scripted.refusal())])
        const answers = yield* Scripted.make([Scripted.delayed("10 millis", Scripted.text("Here it is, streamed."))])
        const model = yield* Mixture.make({
          members: [member("refuses", refuses), member("answers", answers)],
          strategy: Mixture.firstValid
        })
        const parts = yield* withClock(Stream.runCollect(model.streamText({ prompt: "q" })), 10)
        assert.strictEqual(
          parts.flatMap((p) => (p.type === "text-delta" ? [p.delta] : [])).join(""),
          "Here it is, streamed."
        )
        assert.strictEqual(yield* refuses.interruptions, 1)
        const pool = yield* ProviderPool.ProviderPool
        const [event] = yield* pool.recent(1)
        assert.deepStrictEqual(
          event?.attempts.map((x) => x.reason ?? x.outcome),
          ["Rejected:refusal", "won"]
        )
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("streamed first-valid with tools decides first: an invalid tool call does not win", () =>
      Effect.gen(function* () {
        const bad = yield* Scripted.make([Scripted.toolCalls([{ name: "get_weather", params: { town: "Paris" } }])])
        const ok = yield* Scripted.make([
          Scripted.delayed("50 millis", Scripted.toolCalls([{ name: "get_weather", params: { city: "Paris" } }]))
        ])
        const model = yield* Mixture.make({
          members: [member("bad", bad), member("ok", ok)],
          strategy: Mixture.firstValid
        })
        let handled = 0
        const toolkit = yield* WeatherKit.pipe(
          Effect.provide(
            WeatherKit.toLayer({ get_weather: ({ city }) => Effect.sync(() => `sunny in ${city} (${++handled})`) })
          )
        )
        const fiber = yield* Effect.forkChild(Stream.runCollect(model.streamText({ prompt: "weather?", toolkit })))
        // The toolkit's setup runs before the providers are called: the clock moves in steps so that the slower
        // provider's wait has begun before it has passed.
        for (let step = 0; step < 10; step++) yield* TestClock.adjust(10)
        const parts = yield* Fiber.join(fiber)
        const result = parts.find((p) => p.type === "tool-result")
        assert.strictEqual(result?.type === "tool-result" ? result.result : undefined, "sunny in Paris (1)")
        assert.strictEqual(handled, 1)
        assert.strictEqual(Mixture.decisionOf({ content: parts })?.provider, "ok")
        const pool = yield* ProviderPool.ProviderPool
        const [event] = yield* pool.recent(1)
        assert.deepStrictEqual(
          event?.attempts.map((x) => x.reason ?? x.outcome),
          ["Rejected:tools", "won"]
        )
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("scoring strategies decide first, then stream the winner", () =>
      Effect.gen(function* () {
        const a = yield* Scripted.make([Scripted.delayed("10 millis", Scripted.text("Paris."))])
        const b = yield* Scripted.make([Scripted.delayed("30 millis", Scripted.text(good))])
        const model = yield* Mixture.make({
          members: [member("a", a), member("b", b)],
          strategy: Mixture.weightedScore()
        })
        const parts = yield* withClock(Stream.runCollect(model.streamText({ prompt: "capital?" })), 30)
        const text = parts.flatMap((p) => (p.type === "text-delta" ? [p.delta] : [])).join("")
        assert.strictEqual(text, good)
        assert.strictEqual(parts.at(-1)?.type, "finish")
        assert.strictEqual(yield* a.interruptions, 0)
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )
  })

  describe("quorum", () => {
    it.effect("returns the answer k providers agree on and interrupts the rest", () =>
      Effect.gen(function* () {
        const a = yield* Scripted.make([Scripted.delayed("10 millis", Scripted.text("The answer is 42."))])
        const b = yield* Scripted.make([Scripted.delayed("20 millis", Scripted.text("The answer is 41."))])
        const c = yield* Scripted.make([Scripted.delayed("30 millis", Scripted.text("the answer is 42"))])
        const d = yield* Scripted.make([Scripted.delayed("1 second", Scripted.text("The answer is 42."))])
        const model = yield* Mixture.make({
          members: [member("a", a), member("b", b), member("c", c), member("d", d)],
          strategy: Mixture.quorum(2, { threshold: 1 })
        })
        const response = yield* withClock(model.generateText({ prompt: "6 x 7?" }), 30)
        assert.include(response.text.toLowerCase(), "42")
        assert.strictEqual(yield* interrupted(d), 1)
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    // a and c agree (the same words); b says something else, better written than either.
    const group = (options: { readonly a: string; readonly c: string; readonly weightC?: number }) =>
      Effect.gen(function* () {
        const a = yield* Scripted.make([Scripted.delayed("10 millis", Scripted.text(options.a))])
        const b = yield* Scripted.make([
          Scripted.delayed("20 millis", Scripted.text("The answer is definitely 41, as everyone knows."))
        ])
        const c = yield* Scripted.make([Scripted.delayed("30 millis", Scripted.text(options.c))])
        const model = yield* Mixture.make({
          members: [
            member("a", a),
            member("b", b),
            member("c", c, options.weightC === undefined ? {} : { weight: options.weightC })
          ],
          strategy: Mixture.quorum(2)
        })
        const response = yield* withClock(model.generateText({ prompt: "6 x 7?" }), 30)
        return { winner: Mixture.decisionOf(response)?.provider, text: response.text }
      })

    it.effect("the agreeing group is answered by its best member, even when it arrived last", () =>
      Effect.gen(function* () {
        const { winner, text } = yield* group({ a: "the answer is 42", c: "The answer is 42." })
        assert.strictEqual(winner, "c")
        assert.strictEqual(text, "The answer is 42.")
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("equal answers in the group go to the first to arrive; an answer outside it never wins", () =>
      Effect.gen(function* () {
        const { winner, text } = yield* group({ a: "The answer is 42.", c: "The answer is 42." })
        assert.strictEqual(winner, "a")
        assert.strictEqual(text, "The answer is 42.")
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("a member's weight counts in choosing the group's answer", () =>
      Effect.gen(function* () {
        const { winner } = yield* group({ a: "the answer is 42", c: "The answer is 42.", weightC: 0.5 })
        assert.strictEqual(winner, "a")
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("a group is compared through its first answer, so it cannot drift answer by answer", () =>
      Effect.gen(function* () {
        // b is close to a, c is close to b but not to a: with k = 3 no group forms.
        const a = yield* Scripted.make([Scripted.delayed("10 millis", Scripted.text("alpha beta gamma delta"))])
        const b = yield* Scripted.make([Scripted.delayed("20 millis", Scripted.text("alpha beta gamma epsilon"))])
        const c = yield* Scripted.make([Scripted.delayed("30 millis", Scripted.text("beta gamma epsilon zeta"))])
        const model = yield* Mixture.make({
          members: [member("a", a), member("b", b), member("c", c)],
          strategy: Mixture.quorum(3, { threshold: 0.5 })
        })
        const error = yield* withClock(Effect.flip(model.generateText({ prompt: "q" })), 30)
        assert.strictEqual(Mixture.failureOf(error)?.detail, "no 3 answers agreed")
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("without any answer there is no disagreement to report", () =>
      Effect.gen(function* () {
        const a = yield* Scripted.make([Scripted.fail(new AiError.InternalProviderError({ description: "down" }))])
        const b = yield* Scripted.make([Scripted.fail(new AiError.InternalProviderError({ description: "down" }))])
        const model = yield* Mixture.make({ members: [member("a", a), member("b", b)], strategy: Mixture.quorum(2) })
        const failed = Mixture.failureOf(yield* Effect.flip(model.generateText({ prompt: "q" })))!
        assert.strictEqual(failed.detail, undefined)
        assert.notInclude(failed.message, "agreed")
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("ignores hedging: every provider starts at once", () =>
      Effect.gen(function* () {
        const a = yield* Scripted.make([Scripted.delayed("10 millis", Scripted.text("The answer is 42."))])
        const b = yield* Scripted.make([Scripted.delayed("20 millis", Scripted.text("The answer is 42."))])
        const model = yield* Mixture.make({
          members: [member("a", a), member("b", b)],
          strategy: Mixture.quorum(2),
          hedge: { after: "1 second" }
        })
        const fiber = yield* Effect.forkChild(model.generateText({ prompt: "q" }))
        yield* settle
        assert.strictEqual((yield* b.requests).length, 1)
        yield* TestClock.adjust(20)
        assert.strictEqual((yield* Fiber.join(fiber)).text, "The answer is 42.")
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("fails with every answer listed when no k agree", () =>
      Effect.gen(function* () {
        const a = yield* Scripted.make([Scripted.text("red")])
        const b = yield* Scripted.make([Scripted.text("blue")])
        const c = yield* Scripted.make([Scripted.fail(new AiError.InternalProviderError({ description: "down" }))])
        const model = yield* Mixture.make({
          members: [member("a", a), member("b", b), member("c", c)],
          strategy: Mixture.quorum(2)
        })
        const error = Mixture.failureOf(yield* Effect.flip(model.generateText({ prompt: "colour?" })))!
        assert.strictEqual(error._tag, "MixtureFailed")
        assert.strictEqual(error.detail, "no 2 answers agreed")
        assert.deepStrictEqual(
          error.failures.map((f) => f.reason),
          ["Disagreed", "Disagreed", "InternalProviderError"]
        )
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )
  })

  describe("fallback", () => {
    it.effect("retries retryable failures, then moves to the next provider in order", () =>
      Effect.gen(function* () {
        const flaky = yield* Scripted.make([
          Scripted.fail(new AiError.InternalProviderError({ description: "502" })),
          Scripted.fail(new AiError.InternalProviderError({ description: "503" }))
        ])
        const second = yield* Scripted.make([Scripted.text("from the second.")])
        const third = yield* Scripted.make([Scripted.text("never asked.")])
        const model = yield* Mixture.make({
          members: [member("flaky", flaky), member("second", second), member("third", third)],
          strategy: Mixture.fallback({ retries: 1, backoff: "100 millis" })
        })
        const response = yield* withClock(model.generateText({ prompt: "q" }), 100)
        assert.strictEqual(response.text, "from the second.")
        assert.strictEqual((yield* flaky.requests).length, 2)
        assert.strictEqual((yield* third.requests).length, 0)
        const pool = yield* ProviderPool.ProviderPool
        const [event] = yield* pool.recent(1)
        assert.deepStrictEqual(
          event?.attempts.map((x) => x.outcome),
          ["failed", "won", "skipped"]
        )
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("does not retry failures that are not retryable", () =>
      Effect.gen(function* () {
        const denied = yield* Scripted.make([Scripted.fail(new AiError.AuthenticationError({ kind: "InvalidKey" }))])
        const second = yield* Scripted.make([Scripted.text("ok.")])
        const model = yield* Mixture.make({
          members: [member("denied", denied), member("second", second)],
          strategy: Mixture.fallback({ retries: 3 })
        })
        const response = yield* model.generateText({ prompt: "q" })
        assert.strictEqual(response.text, "ok.")
        assert.strictEqual((yield* denied.requests).length, 1)
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )
  })

  describe("fallback retries", () => {
    const down = (description: string) => Scripted.fail(new AiError.InternalProviderError({ description }))
    const countsAt = (handle: Scripted.Handle) => Effect.map(handle.requests, (r) => r.length)

    it.effect("retries a provider with exponential backoff from `backoff`, `retries` times, then moves on", () =>
      Effect.gen(function* () {
        const flaky = yield* Scripted.make([down("1"), down("2"), down("3"), Scripted.text("never reached.")])
        const second = yield* Scripted.make([Scripted.text("from the second.")])
        const model = yield* Mixture.make({
          members: [member("flaky", flaky), member("second", second)],
          strategy: Mixture.fallback({ retries: 2, backoff: "100 millis" })
        })
        const fiber = yield* Effect.forkChild(model.generateText({ prompt: "q" }))
        const seen: Array<[number, number]> = []
        for (const step of [99, 1, 199, 1]) {
          yield* settle
          seen.push([yield* countsAt(flaky), yield* countsAt(second)])
          yield* TestClock.adjust(step)
        }
        yield* settle
        seen.push([yield* countsAt(flaky), yield* countsAt(second)])
        // At 0, 99, 100, 299 and 300 ms: retried at 100 (the backoff) and 300 (twice the backoff later).
        assert.deepStrictEqual(seen, [
          [1, 0],
          [1, 0],
          [2, 0],
          [2, 0],
          [3, 1]
        ])
        assert.strictEqual((yield* Fiber.join(fiber)).text, "from the second.")
        const [event] = yield* (yield* ProviderPool.ProviderPool).recent(1)
        assert.strictEqual(event?.attempts[0]?.latencyMs, 300)
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("stops retrying a provider at its first failure that is not retryable", () =>
      Effect.gen(function* () {
        const flaky = yield* Scripted.make([
          down("503"),
          Scripted.fail(new AiError.AuthenticationError({ kind: "InvalidKey" })),
          Scripted.text("never reached.")
        ])
        const second = yield* Scripted.make([Scripted.text("from the second.")])
        const model = yield* Mixture.make({
          members: [member("flaky", flaky), member("second", second)],
          strategy: Mixture.fallback({ retries: 3, backoff: "100 millis" })
        })
        const response = yield* withClock(model.generateText({ prompt: "q" }), 100)
        assert.strictEqual(response.text, "from the second.")
        assert.strictEqual(yield* countsAt(flaky), 2)
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("with no retries a failing provider is asked once", () =>
      Effect.gen(function* () {
        const flaky = yield* Scripted.make([down("503"), Scripted.text("never reached.")])
        const second = yield* Scripted.make([Scripted.text("from the second.")])
        const model = yield* Mixture.make({
          members: [member("flaky", flaky), member("second", second)],
          strategy: Mixture.fallback({ retries: 0 })
        })
        assert.strictEqual((yield* model.generateText({ prompt: "q" })).text, "from the second.")
        assert.strictEqual(yield* countsAt(flaky), 1)
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("a provider that timed out is retried", () =>
      Effect.gen(function* () {
        const slow = yield* Scripted.make([Scripted.hang, Scripted.text("second time lucky.")])
        const second = yield* Scripted.make([Scripted.text("from the second.")])
        const model = yield* Mixture.make({
          members: [member("slow", slow, { timeout: "1 second" }), member("second", second)],
          strategy: Mixture.fallback({ retries: 1, backoff: "100 millis" })
        })
        const response = yield* withClock(model.generateText({ prompt: "q" }), 1100)
        assert.strictEqual(response.text, "second time lucky.")
        assert.strictEqual(yield* countsAt(second), 0)
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("asks in the configured order even when the pool knows a later provider is faster", () =>
      Effect.gen(function* () {
        const slow = yield* Scripted.make([Scripted.delayed("30 millis", Scripted.text("slow answered."))], {
          cycle: true
        })
        const fast = yield* Scripted.make([Scripted.delayed("10 millis", Scripted.text("fast answered."))], {
          cycle: true
        })
        const members = [member("slow", slow), member("fast", fast)]
        // Teaches the pool both latencies.
        const scored = yield* Mixture.make({ members, strategy: Mixture.weightedScore() })
        yield* withClock(scored.generateText({ prompt: "q" }), 30)
        const model = yield* Mixture.make({ members, strategy: Mixture.fallback() })
        const response = yield* withClock(model.generateText({ prompt: "q" }), 30)
        assert.strictEqual(response.text, "slow answered.")
        assert.strictEqual(yield* countsAt(fast), 1)
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )
  })

  describe("hedging", () => {
    it.effect("starts the next provider when the first is slow, and the earliest answer wins", () =>
      Effect.gen(function* () {
        const slow = yield* Scripted.make([Scripted.delayed("1 second", Scripted.text("slow."))])
        const backup = yield* Scripted.make([Scripted.delayed("50 millis", Scripted.text("hedged."))])
        const spare = yield* Scripted.make([Scripted.text("spare.")])
        const model = yield* Mixture.make({
          members: [member("slow", slow), member("backup", backup), member("spare", spare)],
          strategy: Mixture.firstValid,
          hedge: { after: "100 millis" }
        })
        const fiber = yield* Effect.forkChild(model.generateText({ prompt: "q" }))
        yield* TestClock.adjust(99)
        assert.strictEqual((yield* backup.requests).length, 0)
        yield* TestClock.adjust(1)
        assert.strictEqual((yield* backup.requests).length, 1)
        yield* TestClock.adjust(50)
        const response = yield* Fiber.join(fiber)
        assert.strictEqual(response.text, "hedged.")
        assert.strictEqual(yield* interrupted(slow), 1)
        // The third provider's hedge timer had not fired yet when the second answered.
        assert.strictEqual((yield* spare.requests).length, 0)
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("a failure starts the next provider at once", () =>
      Effect.gen(function* () {
        const broken = yield* Scripted.make([Scripted.fail(new AiError.InternalProviderError({ description: "503" }))])
        const backup = yield* Scripted.make([Scripted.text("backup.")])
        const model = yield* Mixture.make({
          members: [member("broken", broken), member("backup", backup)],
          strategy: Mixture.firstValid,
          hedge: { after: "10 seconds" }
        })
        const response = yield* model.generateText({ prompt: "q" })
        assert.strictEqual(response.text, "backup.")
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )
  })

  describe("failure", () => {
    it.effect("MixtureFailed carries every provider's reason", () =>
      Effect.gen(function* () {
        const a = yield* Scripted.make([Scripted.fail(new AiError.AuthenticationError({ kind: "InvalidKey" }))])
        const b = yield* Scripted.make([Scripted.fail(new AiError.RateLimitError({}))])
        const c = yield* Scripted.make([Scripted.hang])
        const model = yield* Mixture.make({
          members: [member("a", a), member("b", b), member("c", c, { timeout: "1 second" })],
          strategy: Mixture.weightedScore()
        })
        const error = yield* withClock(Effect.flip(model.generateText({ prompt: "q" })), 1000)
        assert.strictEqual(error.module, "Mixture")
        assert.strictEqual(error.reason._tag, "UnknownError")
        const failed = Mixture.failureOf(error)
        assert.deepStrictEqual(
          failed?.failures.map((f) => [f.provider, f.reason, f.retryable]),
          [
            ["a", "AuthenticationError", false],
            ["b", "RateLimitError", true],
            ["c", "ProviderTimeout", true]
          ]
        )
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("when every provider fails alike, the common reason is kept", () =>
      Effect.gen(function* () {
        const a = yield* Scripted.make([Scripted.fail(new AiError.AuthenticationError({ kind: "InvalidKey" }))])
        const b = yield* Scripted.make([Scripted.fail(new AiError.AuthenticationError({ kind: "ExpiredKey" }))])
        const model = yield* Mixture.make({
          members: [member("a", a), member("b", b)],
          strategy: Mixture.firstValid
        })
        const error = yield* Effect.flip(model.generateText({ prompt: "q" }))
        assert.strictEqual(error.reason._tag, "AuthenticationError")
        assert.isFalse(error.isRetryable)
        assert.strictEqual(Mixture.failureOf(error)?.failures.length, 2)
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("a defect in one provider's call is reported as a defect, in answers and in streams alike", () =>
      Effect.gen(function* () {
        const broken = yield* LanguageModel.make({
          generateText: () => Effect.die(new Error("adapter bug")),
          streamText: () => Stream.die(new Error("adapter bug"))
        })
        const a = yield* Scripted.make([Scripted.fail(new AiError.InternalProviderError({ description: "503" }))])
        const b = yield* Scripted.make([Scripted.fail(new AiError.InternalProviderError({ description: "503" }))])
        const members = (handle: Scripted.Handle): ReadonlyArray<Mixture.Member> => [
          member("a", handle),
          { provider: "broken", model: "m", languageModel: broken }
        ]
        const model = yield* Mixture.make({ members: members(a), strategy: Mixture.weightedScore() })
        const error = yield* Effect.flip(model.generateText({ prompt: "q" }))
        assert.deepStrictEqual(
          Mixture.failureOf(error)?.failures.map((f) => [f.provider, f.reason, f.retryable]),
          [
            ["a", "InternalProviderError", true],
            ["broken", "Defect", false]
          ]
        )
        const streaming = yield* Mixture.make({ members: members(b), strategy: Mixture.firstValid })
        const streamError = yield* Effect.flip(Stream.runCollect(streaming.streamText({ prompt: "q" })))
        assert.deepStrictEqual(
          Mixture.failureOf(streamError)?.failures.map((f) => f.reason),
          ["InternalProviderError", "Defect"]
        )
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("streaming fails with every reason when no provider produces content", () =>
      Effect.gen(function* () {
        const a = yield* Scripted.make([Scripted.fail(new AiError.InternalProviderError({ description: "503" }))])
        const b = yield* Scripted.make([Scripted.fail(new AiError.ContentPolicyError({ description: "no" }))])
        const model = yield* Mixture.make({ members: [member("a", a), member("b", b)], strategy: Mixture.firstValid })
        const error = yield* Effect.flip(Stream.runCollect(model.streamText({ prompt: "q" })))
        assert.deepStrictEqual(
          Mixture.failureOf(error)?.failures.map((f) => f.reason),
          ["InternalProviderError", "ContentPolicyError"]
        )
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )
  })

  describe("accounting", () => {
    it.effect("counts tokens and cost per provider and publishes every fan-out", () =>
      Effect.gen(function* () {
        const a = yield* Scripted.make(
          [Scripted.text("answer a.", { usage: { inputTokens: 1000, outputTokens: 500 } })],
          {
            cycle: true
          }
        )
        const b = yield* Scripted.make(
          [Scripted.text("answer b.", { usage: { inputTokens: 2000, outputTokens: 100 } })],
          {
            cycle: true
          }
        )
        const pool = yield* ProviderPool.ProviderPool
        const events = yield* Stream.take(pool.events, 2).pipe(Stream.runCollect, Effect.forkChild)
        yield* Effect.yieldNow
        const model = yield* Mixture.make({
          members: [member("openai", a, { model: "gpt-4o-mini" }), member("local", b, { model: "unpriced-model" })],
          strategy: Mixture.weightedScore()
        })
        yield* model.generateText({ prompt: "one" })
        yield* model.generateText({ prompt: "two" })
        const usage = yield* pool.usage
        const openai = usage.find((u) => u.provider === "openai")!
        assert.strictEqual(openai.requests, 2)
        assert.strictEqual(openai.inputTokens, 2000)
        assert.strictEqual(openai.outputTokens, 1000)
        // gpt-4o-mini: $0.15 per million input tokens and $0.60 per million output tokens.
        assert.closeTo(openai.costUsd, (2000 * 0.15 + 1000 * 0.6) / 1e6, 1e-12)
        const local = usage.find((u) => u.provider === "local")!
        assert.strictEqual(local.unpricedCalls, 2)
        assert.strictEqual(local.costUsd, 0)
        const published = yield* Fiber.join(events)
        assert.deepStrictEqual(
          published.map((e) => e.id),
          [1, 2]
        )
        const first = published[0]!.attempts.find((x) => x.provider === "openai")!
        assert.strictEqual(first.inputTokens, 1000)
        assert.closeTo(first.costUsd ?? 0, (1000 * 0.15 + 500 * 0.6) / 1e6, 1e-12)
        assert.strictEqual((yield* pool.recent(10)).length, 2)
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )
  })

  describe("judge accounting", () => {
    it.effect("a judge named by provider and model goes through the pool and is billed in the answer's charges", () =>
      Effect.gen(function* () {
        const a = yield* Scripted.make([Scripted.text(good, { usage: { inputTokens: 100, outputTokens: 50 } })])
        const b = yield* Scripted.make([Scripted.text("Paris.", { usage: { inputTokens: 100, outputTokens: 5 } })])
        const judge = yield* Scripted.make([
          Scripted.text('{"scores":[9,4]}', { usage: { inputTokens: 1000, outputTokens: 20 } })
        ])
        const pool = yield* ProviderPool.ProviderPool
        const model = yield* Mixture.make({
          members: [member("a", a, { model: "gpt-4o-mini" }), member("b", b, { model: "gpt-4o-mini" })],
          strategy: Mixture.weightedScore({
            judge: { provider: "referee", model: "gpt-4o-mini", languageModel: judge.languageModel }
          })
        })
        const response = yield* model.generateText({ prompt: "capital of France?" })
        const charges = Mixture.decisionOf(response)!.charges!
        assert.deepStrictEqual(
          charges.map((c) => [c.provider, c.inputTokens, c.outputTokens, c.estimated]),
          [
            ["a", 100, 50, false],
            ["b", 100, 5, false],
            ["referee", 1000, 20, false]
          ]
        )
        // gpt-4o-mini: $0.15 per million input tokens and $0.60 per million output tokens.
        assert.closeTo(charges[2]!.costUsd!, (1000 * 0.15 + 20 * 0.6) / 1e6, 1e-12)
        const referee = (yield* pool.usage).find((u) => u.provider === "referee")!
        assert.strictEqual(referee.requests, 1)
        assert.strictEqual(referee.inputTokens, 1000)
        const [event] = yield* pool.recent(1)
        assert.deepStrictEqual(
          event!.scoring!.map((x) => [x.provider, x.outcome]),
          [["referee", "answered"]]
        )
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("a bare judge is billed as `judge`, unpriced; a judge that fails is billed as an estimate", () =>
      Effect.gen(function* () {
        const a = yield* Scripted.make([Scripted.text(good)], { cycle: true })
        const b = yield* Scripted.make([Scripted.text("Paris.")], { cycle: true })
        const judge = yield* Scripted.make([
          Scripted.text('{"scores":[9,4]}', { usage: { inputTokens: 700, outputTokens: 9 } }),
          Scripted.fail(new AiError.InternalProviderError({ description: "judge down" }))
        ])
        const model = yield* Mixture.make({
          members: [member("a", a), member("b", b)],
          strategy: Mixture.weightedScore({ judge: judge.languageModel })
        })
        const first = Mixture.decisionOf(yield* model.generateText({ prompt: "capital of France?" }))!
        assert.deepStrictEqual(first.charges!.at(-1), {
          provider: "judge",
          model: "judge",
          inputTokens: 700,
          outputTokens: 9,
          estimated: false
        })
        const second = Mixture.decisionOf(yield* model.generateText({ prompt: "capital of France?" }))!
        const failed = second.charges!.at(-1)!
        assert.strictEqual(failed.provider, "judge")
        assert.isTrue(failed.estimated)
        assert.strictEqual(second.provider, "a")
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )
  })

  it.effect("works as the program's LanguageModel layer", () =>
    Effect.gen(function* () {
      const response = yield* LanguageModel.generateText({ prompt: "q" })
      assert.strictEqual(response.text, "layered.")
    }).pipe(
      Effect.provide(
        Mixture.layer({
          members: [
            {
              provider: "x",
              model: "m",
              languageModel: Effect.runSync(Scripted.make([Scripted.text("layered.")])).languageModel
            }
          ],
          strategy: Mixture.firstValid
        })
      ),
      Effect.provide(ProviderPool.layerTest)
    )
  )
})
