import { assert, describe, it } from "@effect/vitest"
import * as LanguageModel from "effect/ai/LanguageModel"
import * as Prompt from "effect/ai/Prompt"
import * as Response from "effect/ai/Response"
import * as Tool from "effect/ai/Tool"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/testing/TestClock"
import * as Scorer from "../../src/mixture/Scorer.ts"
import * as Scorers from "../../src/mixture/Scorers.ts"
import * as Scripted from "../../src/testing/ScriptedLanguageModel.ts"

const answer = (text: string, finish: Response.FinishReason = "stop") =>
  new LanguageModel.GenerateTextResponse<any, "deferred">([
    Response.makePart("text", { text }),
    Response.makePart("finish", {
      reason: finish,
      usage: new Response.Usage({ inputTokens: {}, outputTokens: {} }),
      response: undefined
    })
  ])

const call = (name: string, params: unknown) =>
  new LanguageModel.GenerateTextResponse<any, "deferred">([
    Response.makePart("tool-call", { id: "1", name, params, providerExecuted: false })
  ])

const candidate = (
  response: LanguageModel.GenerateTextResponse<any, "deferred">,
  provider = "p"
): Scorer.Candidate => ({
  provider,
  model: "m",
  weight: 1,
  response
})

const request = (overrides: Partial<LanguageModel.ProviderOptions> = {}): LanguageModel.ProviderOptions => ({
  prompt: Prompt.make("What is the capital of France?"),
  tools: [],
  toolChoice: "auto",
  responseFormat: { type: "text" },
  span: undefined as never,
  previousResponseId: undefined,
  incrementalPrompt: undefined,
  ...overrides
})

const Lookup = Tool.make("lookup", { parameters: Schema.Struct({ city: Schema.String }) })

describe("Scorers", () => {
  it("quality rewards complete, structured answers and penalises loops, truncation and refusals", () => {
    const complete = Scorers.quality(answer("The capital of France is Paris.\n\n- population: 2.1M\n- river: Seine"))
    const truncated = Scorers.quality(answer("The capital of France is", "length"))
    const looping = Scorers.quality(
      answer("Paris is nice. Paris is nice. Paris is nice. Paris is nice. Paris is nice.")
    )
    const refusal = Scorers.quality(answer("I'm sorry, but I can't help with that."))
    assert.isAbove(complete, truncated)
    assert.isAbove(complete, looping)
    assert.isAbove(complete, refusal)
    assert.strictEqual(Scorers.quality(answer("")), 0)
  })

  it("quality rewards valid JSON and balanced code fences", () => {
    assert.isAbove(Scorers.quality(answer('{"a": 1}')), Scorers.quality(answer('{"a": 1')))
    assert.isAbove(
      Scorers.quality(answer("Use this:\n```ts\nconst x = 1\n```\nDone.")),
      Scorers.quality(answer("Use this:\n```ts\nconst x = 1\nDone."))
    )
  })

  it("detects refusals by finish reason or opening words", () => {
    assert.isTrue(Scorers.isRefusal(answer("Sure thing", "content-filter")))
    assert.isTrue(Scorers.isRefusal(answer("I cannot help with that request.")))
    assert.isFalse(Scorers.isRefusal(answer("Paris. I can't say more without sources.")))
  })

  it.effect("schema validity gates answers against the requested schema", () =>
    Effect.gen(function* () {
      const schema = Schema.Struct({ capital: Schema.String })
      const scores = yield* Scorers.schemaValidity.score(
        [candidate(answer('{"capital":"Paris"}')), candidate(answer('{"capital":1}')), candidate(answer("Paris"))],
        request({ responseFormat: { type: "json", objectName: "o", schema } })
      )
      assert.deepStrictEqual(scores, [1, 0, 0])
    })
  )

  it.effect("tool-call validity checks names, parameters and a required tool choice", () =>
    Effect.gen(function* () {
      const scores = yield* Scorers.toolCallValidity.score(
        [
          candidate(call("lookup", { city: "Paris" })),
          candidate(call("lookup", { city: 3 })),
          candidate(call("other", {})),
          candidate(answer("no call"))
        ],
        request({ tools: [Lookup], toolChoice: "required" })
      )
      assert.deepStrictEqual(scores, [1, 0, 0, 0])
    })
  )

  it.effect("agreement is the mean similarity to the other answers", () =>
    Effect.gen(function* () {
      const scores = yield* Scorers.agreement.score(
        [
          candidate(answer("Paris is the capital")),
          candidate(answer("paris is the capital!")),
          candidate(answer("Lyon"))
        ],
        request()
      )
      assert.strictEqual(scores[0], scores[1])
      assert.isAbove(scores[0]!, scores[2]!)
      assert.strictEqual(Scorers.similarity(call("a", { x: 1, y: 2 }), call("a", { y: 2, x: 1 })), 1)
    })
  )

  it.effect("gates reject in scoreAll and weights multiply the mean", () =>
    Effect.gen(function* () {
      const scored = yield* Scorer.scoreAll(
        [Scorers.heuristic, Scorers.toolCallValidity],
        [{ ...candidate(call("lookup", { city: "Paris" })), weight: 2 }, candidate(call("lookup", {}))],
        request({ tools: [Lookup] })
      )
      assert.isUndefined(scored[0]?.rejectedBy)
      assert.strictEqual(scored[1]?.rejectedBy, "tools")
      assert.closeTo(scored[0]!.total, 2 * ((0.8 + 0.5 * 1) / 1.5), 1e-9)
    })
  )

  it.effect("the built-in scorers score alike at once and through their effects", () =>
    Effect.gen(function* () {
      const candidates = [
        candidate(answer("The capital of France is Paris.")),
        candidate(answer("Paris.", "length"), "q"),
        candidate(call("lookup", { city: "Paris" }), "r")
      ]
      const at = request({ tools: [Lookup] })
      const direct = yield* Scorer.scoreAll(Scorers.defaults, candidates, at)
      // A scorer without `scoreNow` sends every scorer through its effect.
      const throughEffects = yield* Scorer.scoreAll(
        [...Scorers.defaults, { name: "flat", weight: 0, score: (cs) => Effect.succeed(cs.map(() => 1)) }],
        candidates,
        at
      )
      assert.deepStrictEqual(
        direct.map((s) => [s.total, s.rejectedBy]),
        throughEffects.map((s) => [s.total, s.rejectedBy])
      )
      assert.deepStrictEqual(
        direct.map((s) => s.byScorer),
        throughEffects.map(({ byScorer: { flat: _, ...rest } }) => rest)
      )
    })
  )

  it.effect("a failing judge is neutral", () =>
    Effect.gen(function* () {
      const judge = yield* Scripted.make([Scripted.text("not json")])
      const scores = yield* Scorers.judge(judge.languageModel).score(
        [candidate(answer("a")), candidate(answer("b"))],
        request()
      )
      assert.deepStrictEqual(scores, [0.5, 0.5])
    })
  )

  it.effect("a judge that does not answer within 30 seconds is neutral", () =>
    Effect.gen(function* () {
      const judge = yield* Scripted.make([Scripted.hang])
      let scored = false
      const fiber = yield* Effect.forkChild(
        Scorers.judge(judge.languageModel)
          .score([candidate(answer("a")), candidate(answer("b"))], request())
          .pipe(Effect.tap(() => Effect.sync(() => (scored = true))))
      )
      yield* TestClock.adjust("29999 millis")
      assert.isFalse(scored)
      yield* TestClock.adjust(1)
      assert.deepStrictEqual(yield* Fiber.join(fiber), [0.5, 0.5])
      assert.strictEqual(yield* judge.interruptions, 1)
    })
  )
})
