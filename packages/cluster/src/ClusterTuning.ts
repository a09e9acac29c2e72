/**
 * The sharding settings every Troupe runner and client shares, tuned so that the shards of a runner that dies move
 * to the others within seconds.
 *
 * effect/cluster's defaults suit long-lived services: a shard lock expires after 35 s, storage is polled for new
 * messages every 10 s and runners are health-checked every minute, so a killed runner's tasks would wait the better
 * part of a minute. An agent task is worth moving sooner. With PostgreSQL the advisory locks of a killed process go
 * when its connections close, so what bounds a takeover is how soon the others stop counting the dead runner (its
 * heartbeat older than `shardLockExpiration`, or failed pings) and how often the new owner polls storage. Every value
 * is explicit, so no environment variable (`SHARDS_PER_GROUP`, `PORT`, ...) changes a runner behind its back.
 */

import * as RunnerAddress from "effect/cluster/RunnerAddress"
import * as ShardingConfig from "effect/cluster/ShardingConfig"
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"

/** The shared settings, without an address. */
export const shared: ShardingConfig.ShardingConfig["Service"] = {
  ...ShardingConfig.defaults,
  // A runner that stopped heartbeating for this long is no longer counted; locks refresh at a third of it.
  shardLockExpiration: Duration.seconds(6),
  shardLockRefreshInterval: Duration.seconds(2),
  refreshAssignmentsInterval: Duration.seconds(1),
  runnerHealthCheckInterval: Duration.seconds(2),
  // How soon a new owner finds the persisted requests of the shards it took over.
  entityMessagePollInterval: Duration.millis(500),
  entityReplyPollInterval: Duration.millis(200),
  // A finished task's entity holds nothing worth keeping.
  entityMaxIdleTime: Duration.seconds(30),
  entityTerminationTimeout: Duration.seconds(10),
  runnerAddress: Option.none(),
  runnerListenAddress: Option.none()
}

/** The settings of a runner reachable by the others at `host:port`. */
export const runner = (host: string, port: number): ShardingConfig.ShardingConfig["Service"] => ({
  ...shared,
  runnerAddress: Option.some(RunnerAddress.make(host, port))
})

/** The settings of a client: it sends tasks and reads replies, and holds no shards. */
export const client: ShardingConfig.ShardingConfig["Service"] = shared
