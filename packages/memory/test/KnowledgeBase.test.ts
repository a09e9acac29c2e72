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

  it.effect("answers asOf queries at the exact moment a fact was superseded, and for facts still current", () =>
    withKb((kb) =>
      Effect.gen(function* () {
        yield* kb.assert({ subject: "api", predicate: "version", object: "1" })
        yield* TestClock.adjust(2 * day)
        yield* kb.assert({ subject: "api", predicate: "version", object: "2" })
        const at = (asOf: number) =>
          kb.query({ subject: "api", asOf }).pipe(Effect.map((fs) => fs.map((f) => f.object)))
        // Validity is [validFrom, validTo): at the switch only the new fact holds.
        assert.deepStrictEqual(yield* at(2 * day - 1), ["1"])
        assert.deepStrictEqual(yield* at(2 * day), ["2"])
        assert.deepStrictEqual(yield* at(5 * day), ["2"])
        assert.deepStrictEqual(yield* at(0), ["1"])
        // A time that is not a number asks about now.
        assert.deepStrictEqual(yield* at(Number.NaN), ["2"])
      })
    )
  )

  it.effect("closes a superseded fact at a backdated fact's own start, not at now", () =>
    withKb((kb) =>
      Effect.gen(function* () {
        yield* kb.assert({ subject: "db", predicate: "primary", object: "eu-west", validFrom: 0 })
        yield* TestClock.adjust(10 * day)
        // Learned today that the failover happened three days ago.
        const failover = yield* kb.assert({
          subject: "db",
          predicate: "primary",
          object: "eu-north",
          validFrom: 7 * day
        })
        assert.strictEqual(failover.fact.validFrom, 7 * day)
        assert.strictEqual(failover.fact.recordedAt, 10 * day)
        assert.deepStrictEqual(
          failover.superseded.map((f) => [f.object, f.validTo]),
          [["eu-west", 7 * day]]
        )
        const history = yield* kb.query({ subject: "db", history: true })
        assert.deepStrictEqual(
          history.map((f) => [f.object, f.validFrom, f.validTo]),
          [
            ["eu-west", 0, 7 * day],
            ["eu-north", 7 * day, null]
          ]
        )
        const [before] = yield* kb.query({ subject: "db", asOf: 6 * day })
        assert.strictEqual(before!.object, "eu-west")
      })
    )
  )

  it.effect("matches terms ignoring case and runs of whitespace, and supersedes only the same predicate", () =>
    withKb((kb) =>
      Effect.gen(function* () {
        const first = yield* kb.assert({ subject: "web app", predicate: "default branch", object: "Main" })
        const same = yield* kb.assert({ subject: "Web   App", predicate: " default\tbranch", object: "main " })
        assert.isFalse(same.created)
        assert.strictEqual(same.fact.id, first.fact.id)
        yield* kb.assert({ subject: "web app", predicate: "owner", object: "alice" })
        const [byObject] = yield* kb.query({ object: "  ALICE " })
        assert.strictEqual(byObject!.predicate, "owner")
        assert.deepStrictEqual(
          (yield* kb.query({ subject: "WEB  APP" })).map((f) => f.object),
          ["Main", "alice"]
        )
      })
    )
  )

  it.effect("fills in defaults, clamps confidence, orders results and honours a limit", () =>
    withKb((kb) =>
      Effect.gen(function* () {
        const plain = yield* kb.assert({ subject: "svc", predicate: "tier", object: "gold" })
        assert.deepStrictEqual([plain.fact.source, plain.fact.confidence], ["", 1])
        const high = yield* kb.assert({ subject: "svc", predicate: "region", object: "eu", confidence: 1.7 })
        const low = yield* kb.assert({ subject: "svc", predicate: "owner", object: "ops", confidence: -0.3 })
        assert.deepStrictEqual([high.fact.confidence, low.fact.confidence], [1, 0])
        // By start, then (same start) by the order of recording, whatever order they were recorded in.
        yield* TestClock.adjust(10)
        yield* kb.assert({ subject: "svc", predicate: "alias", object: "b", validFrom: 5, exclusive: false })
        yield* TestClock.adjust(1)
        yield* kb.assert({ subject: "svc", predicate: "alias", object: "a", validFrom: 5, exclusive: false })
        yield* TestClock.adjust(1)
        yield* kb.assert({ subject: "svc", predicate: "alias", object: "c", validFrom: 3, exclusive: false })
        const all = yield* kb.query({ subject: "svc" })
        assert.deepStrictEqual(
          all.map((f) => [f.predicate, f.object]),
          [
            ["alias", "c"],
            ["alias", "b"],
            ["alias", "a"],
            ["owner", "ops"],
            ["region", "eu"],
            ["tier", "gold"]
          ]
        )
        assert.deepStrictEqual(
          (yield* kb.query({ subject: "svc", limit: 2 })).map((f) => f.object),
          ["c", "b"]
        )
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
        confidence: 0.876,
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
      "api · deployed_version · 1.5.0 [p=0.88; since 2026-11-20; src ci]\napi · owner · team-a [2026-01-01..2026-06-01]"
    )
  })
})
