import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"
import { SpecDuration } from "../src/index.ts"

describe("SpecDuration", () => {
  it("parses every unit", () => {
    assert.strictEqual(Duration.toMillis(SpecDuration.parse("500ms")!), 500)
    assert.strictEqual(Duration.toMillis(SpecDuration.parse("30s")!), 30_000)
    assert.strictEqual(Duration.toMillis(SpecDuration.parse("2m")!), 120_000)
    assert.strictEqual(Duration.toMillis(SpecDuration.parse("1h")!), 3_600_000)
    assert.strictEqual(Duration.toMillis(SpecDuration.parse("1d")!), 86_400_000)
    assert.strictEqual(Duration.toMillis(SpecDuration.parse("1.5s")!), 1_500)
  })

  it("rejects other text", () => {
    for (const text of ["", "30", "30 s", "s", "-1s", "1w", "thirty seconds", "1h30m"]) {
      assert.isUndefined(SpecDuration.parse(text), text)
    }
  })

  it("formats in the largest exact unit", () => {
    assert.strictEqual(SpecDuration.format(Duration.millis(90_000)), "90s")
    assert.strictEqual(SpecDuration.format(Duration.minutes(2)), "2m")
    assert.strictEqual(SpecDuration.format(Duration.hours(48)), "2d")
    assert.strictEqual(SpecDuration.format(Duration.millis(1_500)), "1500ms")
  })

  it("round-trips through the schema", () => {
    const field = Schema.Struct({ t: SpecDuration.field("t") })
    const decoded = Schema.decodeUnknownSync(field)({ t: "2m" })
    assert.strictEqual(Duration.toMillis(decoded.t), 120_000)
    assert.deepStrictEqual(Schema.encodeSync(field)(decoded), { t: "2m" })
  })
})
