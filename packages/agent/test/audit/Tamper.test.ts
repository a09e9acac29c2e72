import { truncateSync, writeFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as AuditEntry from "../../src/AuditEntry.ts"
import type * as AuditLog from "../../src/AuditLog.ts"
import { readLines, rehash, trailPath, withAudit, writeLines, writeTrail } from "./support.ts"

// A trail of a genesis and Step entries 1..6: line n holds seq n - 1.
const tampered = (
  edit: (lines: Array<string>, path: string) => void,
  check: (verification: AuditEntry.Verification, audit: AuditLog.Service, head: AuditEntry.Head) => Effect.Effect<void>
) =>
  withAudit((audit, home) =>
    Effect.gen(function* () {
      const path = yield* writeTrail(audit, home, "run", 6)
      const intact = yield* audit.verify("run")
      assert.strictEqual(intact._tag, "Intact")
      const head = intact._tag === "Intact" ? intact.head : { seq: 0, hash: "" }
      edit(readLines(path), path)
      yield* check(yield* audit.verify("run"), audit, head)
    })
  )

const parse = (line: string) => JSON.parse(line) as Record<string, unknown>

const brokenAt = (verification: AuditEntry.Verification, line: number, seq: number | undefined, reason: string) => {
  assert.strictEqual(verification._tag, "Broken", AuditEntry.message(verification))
  if (verification._tag !== "Broken") return
  assert.deepStrictEqual([verification.line, verification.seq, verification.reason], [line, seq, reason])
}

describe("AuditLog tampering", () => {
  it.effect("an edited entry breaks at itself: hash mismatch", () =>
    tampered(
      (lines, path) => {
        lines[3] = lines[3]!.replace('"note":"step 3"', '"note":"step 3, approved by nobody"')
        writeLines(path, lines)
      },
      (verification) =>
        Effect.sync(() => {
          brokenAt(verification, 4, 3, "hash-mismatch")
          assert.match(
            AuditEntry.message(verification),
            /^broken at line 4 \(seq 3\): hash mismatch: the entry was edited/
          )
          assert.strictEqual(verification._tag === "Broken" && verification.verified, 3)
        })
    )
  )

  it.effect("an edited entry with its own hash recomputed breaks at the next: prevHash mismatch", () =>
    tampered(
      (lines, path) => {
        lines[3] = JSON.stringify(rehash({ ...parse(lines[3]!), data: { i: 3, note: "forged" } }))
        writeLines(path, lines)
      },
      (verification) => Effect.sync(() => brokenAt(verification, 5, 4, "prev-hash-mismatch"))
    )
  )

  it.effect("a deleted line breaks at the next entry: seq gap", () =>
    tampered(
      (lines, path) => writeLines(path, [...lines.slice(0, 3), ...lines.slice(4)]),
      (verification) =>
        Effect.sync(() => {
          brokenAt(verification, 4, 4, "seq-gap")
          assert.match(AuditEntry.message(verification), /entries were removed \(seq 4 follows seq 2\)/)
        })
    )
  )

  it.effect("a forged line with a correct hash of its own breaks the chain at the next entry", () =>
    tampered(
      (lines, path) => {
        const previous = parse(lines[3]!)
        const forged = rehash({
          ...previous,
          seq: 4,
          type: "AgentApprovalDecided",
          data: { approvalId: "a1", approved: true, by: "admin" },
          prevHash: previous.hash
        })
        writeLines(path, [...lines.slice(0, 4), JSON.stringify(forged), ...lines.slice(4)])
      },
      (verification) =>
        Effect.sync(() => {
          brokenAt(verification, 6, 4, "seq-out-of-order")
          assert.match(AuditEntry.message(verification), /inserted or entries were reordered \(seq 4 follows seq 4\)/)
        })
    )
  )

  it.effect("two swapped lines break at the first moved one: out of order, pointing at the other", () =>
    tampered(
      (lines, path) => writeLines(path, [...lines.slice(0, 3), lines[4]!, lines[3]!, ...lines.slice(5)]),
      (verification) =>
        Effect.sync(() => {
          brokenAt(verification, 4, 4, "seq-out-of-order")
          assert.include(AuditEntry.message(verification), "seq 4 where 3 was expected; seq 3 is at line 5")
        })
    )
  )

  it.effect("a removed first line breaks at line 1: not a genesis", () =>
    tampered(
      (lines, path) => writeLines(path, lines.slice(1)),
      (verification) => Effect.sync(() => brokenAt(verification, 1, 1, "bad-genesis"))
    )
  )

  it.effect("a line that is not JSON, or not an entry, is named", () =>
    Effect.gen(function* () {
      yield* tampered(
        (lines, path) => writeLines(path, [...lines.slice(0, 2), "garbage", ...lines.slice(2)]),
        (verification) => Effect.sync(() => brokenAt(verification, 3, undefined, "unparsable"))
      )
      yield* tampered(
        (lines, path) => writeLines(path, [...lines.slice(0, 2), JSON.stringify({ seq: 2, note: "hi" })]),
        (verification) => Effect.sync(() => brokenAt(verification, 3, 2, "malformed"))
      )
    })
  )

  it.effect("a key added to an entry, or the same entry spelled differently, is an edit", () =>
    Effect.gen(function* () {
      yield* tampered(
        (lines, path) => {
          lines[2] = lines[2]!.replace(/}$/, ',"approvedBy":"admin"}')
          writeLines(path, lines)
        },
        (verification) => Effect.sync(() => brokenAt(verification, 3, 2, "malformed"))
      )
      yield* tampered(
        (lines, path) => {
          lines[2] = JSON.stringify(parse(lines[2]!), null, 1).replaceAll("\n", "")
          writeLines(path, lines)
        },
        (verification) =>
          Effect.sync(() => {
            brokenAt(verification, 3, 2, "malformed")
            assert.include(AuditEntry.message(verification), "the line is not as the trail writes it")
          })
      )
    })
  )

  it.effect("nesting deep enough to overflow a recursive reader is cut on write and rejected on read", () =>
    withAudit((audit, home) =>
      Effect.gen(function* () {
        let deep: unknown = "bottom"
        for (let i = 0; i < 100_000; i++) deep = [deep]
        const log = yield* audit.open("run", "backend")
        const entry = yield* log.append("Deep", deep)
        let depth = 0
        for (let d: unknown = entry.data; Array.isArray(d); d = d[0]) depth += 1
        assert.strictEqual(depth, 256)
        yield* log.close
        assert.strictEqual((yield* audit.verify("run"))._tag, "Intact")
        const path = trailPath(home, "run")
        const lines = readLines(path)
        const hostile = lines[1]!.replace(
          /"data":.*,"prevHash"/,
          `"data":${"[".repeat(100_000)}${"]".repeat(100_000)},"prevHash"`
        )
        writeLines(path, [lines[0]!, hostile])
        const verification = yield* audit.verify("run")
        brokenAt(verification, 2, 1, "malformed")
        assert.include(AuditEntry.message(verification), "nested deeper than 256 levels")
      })
    )
  )

  it.effect("a trail copied from another run is rejected: run mismatch", () =>
    withAudit((audit, home) =>
      Effect.gen(function* () {
        const path = yield* writeTrail(audit, home, "other", 2)
        yield* writeTrail(audit, home, "run", 1)
        writeLines(trailPath(home, "run"), readLines(path))
        brokenAt(yield* audit.verify("run"), 1, 0, "run-mismatch")
      })
    )
  )

  it.effect("truncation at a line boundary is invisible without an anchor and named with one", () =>
    tampered(
      (lines, path) => writeLines(path, lines.slice(0, 5)),
      (verification, audit, head) =>
        Effect.gen(function* () {
          assert.strictEqual(verification._tag, "Intact")
          const anchored = yield* Effect.orDie(audit.verify("run", { anchor: head }))
          brokenAt(anchored, 6, undefined, "truncated")
          assert.include(AuditEntry.message(anchored), "last entry seq 4, anchor seq 6")
        })
    )
  )

  it.effect("truncation mid-line reads as a crash without an anchor, and as truncation with one", () =>
    tampered(
      (lines, path) => truncateSync(path, lines.slice(0, 5).join("\n").length + 1 + 20),
      (verification, audit, head) =>
        Effect.gen(function* () {
          assert.deepStrictEqual(verification._tag === "Intact" && verification.incompleteLastEntry, {
            line: 6,
            bytes: 20
          })
          brokenAt(yield* Effect.orDie(audit.verify("run", { anchor: head })), 6, undefined, "truncated")
        })
    )
  )

  it.effect("an empty file has no genesis", () =>
    tampered(
      (_lines, path) => writeFileSync(path, ""),
      (verification) => Effect.sync(() => brokenAt(verification, 1, undefined, "empty"))
    )
  )

  it.effect("a full rewrite from genesis verifies alone; the stored head exposes it", () =>
    tampered(
      (lines, path) => {
        let prevHash = AuditEntry.zeroHash
        const rewritten = lines.map((line) => {
          const entry = parse(line)
          const data = entry.type === "Step" ? { ...(entry.data as object), note: "rewritten" } : entry.data
          const forged = rehash({ ...entry, data, prevHash })
          prevHash = forged.hash as string
          return JSON.stringify(forged)
        })
        writeLines(path, rewritten)
      },
      (verification, audit, head) =>
        Effect.gen(function* () {
          assert.strictEqual(verification._tag, "Intact")
          const anchored = yield* Effect.orDie(audit.verify("run", { anchor: head }))
          brokenAt(anchored, 7, 6, "anchor-mismatch")
        })
    )
  )
})
