import { assert, describe, it } from "@effect/vitest"
import * as ShardingConfig from "effect/cluster/ShardingConfig"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as ClusterTuning from "../src/ClusterTuning.ts"

// What NodeClusterSocket does with the settings: the environment's values, overlaid by ours.
const effective = (settings: ShardingConfig.ShardingConfig["Service"]) =>
  Effect.provide(Effect.service(ShardingConfig.ShardingConfig), ShardingConfig.layerFromEnv(settings))

describe("ClusterTuning", () => {
  it.effect("a runner's settings: its address, and failover in seconds rather than the defaults' 35 s", () =>
    Effect.gen(function* () {
      const config = yield* effective(ClusterTuning.runner("10.0.0.7", 4000))
      assert.deepStrictEqual(
        Option.map(config.runnerAddress, (a) => `${a.host}:${a.port}`),
        Option.some("10.0.0.7:4000")
      )
      assert.isTrue(Duration.toMillis(Duration.fromInputUnsafe(config.shardLockExpiration)) <= 6_000)
      assert.isTrue(
        Duration.toMillis(Duration.fromInputUnsafe(config.shardLockRefreshInterval)) * 3 <=
          Duration.toMillis(Duration.fromInputUnsafe(config.shardLockExpiration))
      )
      assert.isTrue(Duration.toMillis(Duration.fromInputUnsafe(config.entityMessagePollInterval)) <= 1_000)
      assert.isTrue(Option.isNone((yield* effective(ClusterTuning.client)).runnerAddress))
    })
  )

  it.effect("no environment variable changes them", () =>
    Effect.gen(function* () {
      const saved = { SHARDS_PER_GROUP: process.env.SHARDS_PER_GROUP, PORT: process.env.PORT }
      process.env.SHARDS_PER_GROUP = "7"
      process.env.PORT = "1"
      const config = yield* effective(ClusterTuning.runner("127.0.0.1", 4000)).pipe(
        Effect.ensuring(
          Effect.sync(() => {
            for (const [key, value] of Object.entries(saved)) {
              if (value === undefined) delete process.env[key]
              else process.env[key] = value
            }
          })
        )
      )
      assert.strictEqual(config.shardsPerGroup, ShardingConfig.defaults.shardsPerGroup)
      assert.deepStrictEqual(
        Option.map(config.runnerAddress, (a) => a.port),
        Option.some(4000)
      )
    })
  )
})
