import { closeSync, openSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Scope from "effect/Scope"
import * as AuditEntry from "../../src/AuditEntry.ts"
import * as Chain from "../../src/internal/auditChain.ts"
import * as Json from "../../src/internal/auditJson.ts"
import { readLines, tempHome } from "./support.ts"

const prepared = (i: number): Chain.Prepared => {
  const data = { i }
  return { agent: "tester", type: "Step", data, canonical: Json.canonical(data)! }
}

const withChain = <A, E>(durability: Chain.Durability, f: (chain: Chain.Chain, path: string) => Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const path = join(yield* tempHome, "audit.jsonl")
    const fd = openSync(path, "a")
    const scope = yield* Scope.make()
    yield* Scope.addFinalizer(
      scope,
      Effect.sync(() => closeSync(fd))
    )
    const chain = Chain.make({
      path,
      runId: "run",
      fd,
      head: { seq: -1, hash: AuditEntry.zeroHash },
      lastTime: undefined,
      durability,
      scope
    })
    return yield* f(chain, path)
  })

describe("audit chain (group commit)", () => {
  it.effect("sequential durable appends each wait for their own fdatasync", () =>
    withChain("durable", (chain) =>
      Effect.gen(function* () {
        for (let i = 0; i < 5; i++) yield* chain.append(prepared(i))
        assert.strictEqual(chain.rounds(), 5)
      })
    )
  )

  it.effect("concurrent durable appends share fdatasyncs", () =>
    withChain("durable", (chain, path) =>
      Effect.gen(function* () {
        const entries = yield* Effect.all(
          Array.from({ length: 10 }, (_, i) => chain.append(prepared(i))),
          { concurrency: "unbounded" }
        )
        assert.deepStrictEqual(
          entries.map((e) => e.seq),
          Array.from({ length: 10 }, (_, i) => i)
        )
        // The first append's fdatasync is in flight while the nine others write; one more covers them all.
        assert.strictEqual(chain.rounds(), 2)
        assert.strictEqual(readLines(path).length, 10)
      })
    )
  )

  it.effect("written appends do not sync; sync syncs once, and not again with nothing new", () =>
    withChain("written", (chain, path) =>
      Effect.gen(function* () {
        for (let i = 0; i < 5; i++) yield* chain.append(prepared(i))
        assert.strictEqual(readLines(path).length, 5)
        assert.strictEqual(chain.rounds(), 0)
        yield* chain.sync
        yield* chain.sync
        assert.strictEqual(chain.rounds(), 1)
        yield* chain.close
        const closed = yield* Effect.flip(chain.append(prepared(6)))
        assert.strictEqual(closed._tag, "AuditLogClosed")
      })
    )
  )
})
