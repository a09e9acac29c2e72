import { assert, describe, it } from "@effect/vitest"
import * as Capabilities from "../src/Capabilities.ts"
import * as Subtask from "../src/Subtask.ts"
import { spec, subtask } from "./support.ts"

const members = [
  spec({ name: "backend", tools: ["fs_read", { fs_write: { paths: ["src/**"] } }] }),
  spec({ name: "git", tools: ["git_commit", "git_status"] })
]
const capable = (s: Subtask.Subtask) => Capabilities.candidates(members, s.capabilities, s.agent).length > 0

describe("Subtask", () => {
  it("a decomposition runs when its ids are unique, its dependencies known and acyclic, each subtask doable", () => {
    const good = {
      subtasks: [
        subtask("commit", { dependsOn: ["code"], capabilities: ["git_commit"] }),
        subtask("code", { capabilities: ["fs_write"] })
      ]
    }
    assert.deepStrictEqual(Subtask.problems(good, capable), [])
    assert.deepStrictEqual(Subtask.order(good), ["code", "commit"])
  })

  it("every problem is named, without echoing more than an id", () => {
    const bad = {
      subtasks: [
        subtask("a", { dependsOn: ["ghost"] }),
        subtask("a"),
        subtask("Bad Id"),
        subtask("deploy", { capabilities: ["kubectl"] })
      ]
    }
    assert.deepStrictEqual(Subtask.problems(bad, capable), [
      'subtask id "a" is used twice',
      'subtask id "Bad Id" is not lowercase letters, digits, dashes',
      'subtask "a" depends on "ghost", which is not a subtask',
      'no member of the team can do subtask "deploy" (it needs "kubectl")'
    ])
    const cycle = { subtasks: [subtask("x", { dependsOn: ["y"] }), subtask("y", { dependsOn: ["x"] })] }
    assert.deepStrictEqual(Subtask.problems(cycle, capable), ["the subtasks' dependencies form a cycle"])
    assert.deepStrictEqual(Subtask.problems({ subtasks: [] }, capable), ["no subtasks: the goal needs at least one"])
    const huge = { subtasks: [subtask("big", { task: "x".repeat(Subtask.maxTaskLength + 1) })] }
    assert.deepStrictEqual(Subtask.problems(huge, capable), [
      'subtask "big" is too long (task at most 32000 characters, title 500)'
    ])
    const many = { subtasks: Array.from({ length: 51 }, (_, i) => subtask(`s${i}`)) }
    assert.deepStrictEqual(Subtask.problems(many, capable), ["51 subtasks: at most 50"])
  })

  it("capabilities are a member's name and tools; the member a subtask names comes first", () => {
    assert.deepStrictEqual([...Capabilities.of(members[0]!)], ["backend", "fs_read", "fs_write"])
    assert.deepStrictEqual(
      Capabilities.candidates(members, [], "git").map((m) => m.name),
      ["git", "backend"]
    )
    assert.deepStrictEqual(
      Capabilities.candidates(members, ["git_commit"], "backend").map((m) => m.name),
      ["git"]
    )
  })
})
