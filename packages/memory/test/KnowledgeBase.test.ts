import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/testing/TestClock"
import * as KnowledgeBase from "../src/KnowledgeBase.ts"
import { tempDir } from "./support.ts"

const day = 24 * 60 * 60 * 1000

const withKb = <A, E>(f: (kb: KnowledgeBase.Service, dir: string) => Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const dir = yield* tempDir
    return yield* Effect.gen(function* () {
      return yield* f(yield* KnowledgeBase.KnowledgeBase, dir)
    }).pipe(Effect.provide(KnowledgeBase.layerTest(dir)))
  })

describe("KnowledgeBase", () => {
  it.effect("supersedes a contradicting fact and keeps the history", () =>
    withKb((kb) =>
      Effect.gen(function* () {
        const first = yield* kb.assert({ subject: "api", predicate: "deployed_version", object: "1.4.1", source: "ci" })
        assert.isTrue(first.created)
        yield* TestClock.adjust(day)
        const again = yield* kb.assert({ subject: "API", predicate: "Deployed_Version ", object: "1.4.1" })
        assert.isFalse(again.created)
        assert.strictEqual(again.fact.id, first.fact.id)
        yield* TestClock.adjust(day)
        const second = yield* kb.assert({
          subject: "api",
          predicate: "deployed_version",
          object: "1.5.0",
          source: "ci"
        })
        assert.isTrue(second.created)
        assert.deepStrictEqual(
          second.superseded.map((f) => [f.id, f.validTo]),
          [[first.fact.id, 2 * day]]
        )

        const current = yield* kb.query({ subject: "api" })
        assert.deepStrictEqual(
          current.map((f) => f.object),
          ["1.5.0"]
        )
        const history = yield* kb.query({ subject: "api", history: true })
        assert.deepStrictEqual(
          history.map((f) => [f.object, f.validFrom, f.validTo]),
          [
            ["1.4.1", 0, 2 * day],
            ["1.5.0", 2 * day, null]
          ]
        )
        const then = yield* kb.query({ predicate: "deployed_version", asOf: day })
        assert.deepStrictEqual(
          then.map((f) => f.object),
          ["1.4.1"]
        )
        const before = yield* kb.query({ subject: "api", asOf: -1 })
        assert.strictEqual(before.length, 0)
      })
    )
  )

  it.effect("keeps many objects for a non-exclusive predicate and queries by object", () =>
    withKb((kb) =>
      Effect.gen(function* () {
        yield* kb.assert({ subject: "web", predicate: "depends_on", object: "api", exclusive: false })
        yield* kb.assert({ subject: "web", predicate: "depends_on", object: "auth", exclusive: false })
        yield* kb.assert({ subject: "worker", predicate: "depends_on", object: "api", exclusive: false })
        const deps = yield* kb.query({ subject: "web", predicate: "depends_on" })
        assert.deepStrictEqual(deps.map((f) => f.object).sort(), ["api", "auth"])
        const users = yield* kb.query({ object: "api" })
        assert.deepStrictEqual(
          users.map((f) => f.subject),
          ["web", "worker"]
        )
        assert.strictEqual((yield* kb.query()).length, 3)
      })
    )
  )

  it.effect("retracts current facts into the history", () =>
    withKb((kb) =>
      Effect.gen(function* () {
        yield* kb.assert({ subject: "db", predicate: "owner", object: "alice" })
        yield* TestClock.adjust(day)
        assert.strictEqual(yield* kb.retract({}), 0)
        assert.strictEqual(yield* kb.retract({ subject: "db", predicate: "owner" }), 1)
        assert.strictEqual((yield* kb.query({ subject: "db" })).length, 0)
        const [old] = yield* kb.query({ subject: "db", history: true })
        assert.strictEqual(old!.validTo, day)
      })
    )
  )

  it.effect("persists facts across reopening", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* Effect.gen(function* () {
        const kb = yield* KnowledgeBase.KnowledgeBase
        yield* kb.assert({ subject: "repo", predicate: "default_branch", object: "main" })
        yield* kb.assert({ subject: "repo", predicate: "default_branch", object: "trunk" })
      }).pipe(Effect.provide(KnowledgeBase.layerTest(dir)))
      const history = yield* Effect.gen(function* () {
        return yield* (yield* KnowledgeBase.KnowledgeBase).query({ subject: "repo", history: true })
      }).pipe(Effect.provide(KnowledgeBase.layerTest(dir)))
      assert.deepStrictEqual(
        history.map((f) => [f.object, f.validTo === null]),
        [
          ["main", false],
          ["trunk", true]
        ]
      )
    })
  )

  it("renders facts compactly for a prompt", () => {
    const text = KnowledgeBase.render([
      {
        id: "f1",
        subject: "api",
        predicate: "deployed_version",
        object: "1.5.0",
        source: "ci",
        confidence: 0.9,
        validFrom: Date.UTC(2026, 10, 20),
        validTo: null,
        recordedAt: 0
      },
      {
        id: "f2",
        subject: "api",
        predicate: "owner",
        object: "team-a",
        source: "",
        confidence: 1,
        validFrom: Date.UTC(2026, 0, 1),
        validTo: Date.UTC(2026, 5, 1),
        recordedAt: 0
      }
    ])
    assert.strictEqual(
      text,
      "api · deployed_version · 1.5.0 [p=0.9; since 2026-11-20; src ci]\napi · owner · team-a [2026-01-01..2026-06-01]"
    )
  })
})
