import { assert, describe, it } from "@effect/vitest"
import * as ClusterMemberRuns from "../src/ClusterMemberRuns.ts"

// What `runTask` accepts as a task id (and the audit log as a run id).
const taskIdPattern = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/

describe("ClusterMemberRuns.taskIdOf", () => {
  it("names an attempt by orchestration, subtask and number: the same attempt asked again is the same task", () => {
    const orchestration = "orch-20261130T110512-k3f9c2"
    assert.strictEqual(ClusterMemberRuns.taskIdOf(orchestration, "write", 1), `${orchestration}.write.1`)
    assert.strictEqual(
      ClusterMemberRuns.taskIdOf(orchestration, "write", 2),
      ClusterMemberRuns.taskIdOf(orchestration, "write", 2)
    )
    assert.notStrictEqual(
      ClusterMemberRuns.taskIdOf(orchestration, "write", 1),
      ClusterMemberRuns.taskIdOf(orchestration, "write", 2)
    )
  })

  it("a subtask id the manager made up is cut to what a task id may hold, and two never share one", () => {
    const orchestration = "orch-20261130T110512-k3f9c2"
    const hostile = ["../../etc/passwd", "a b", "a/b", "é", "", "x".repeat(500), "a.b", "a-b"]
    const ids = hostile.map((id) => ClusterMemberRuns.taskIdOf(orchestration, id, 3))
    for (const id of ids) assert.match(id, taskIdPattern)
    assert.strictEqual(new Set(ids).size, ids.length)
    assert.notInclude(ids[0]!, "/")
  })
})
