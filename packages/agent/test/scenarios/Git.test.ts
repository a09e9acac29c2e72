/**
 * The `git` agent (`agents/git.yaml`): commits in a real repository with a message written from the diff, a branch
 * made on request, and `git_push` to a bare repository only once a person approved it.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { call, calls, runIn, type Seen, say, scenario, slow, tempDir, toolResults } from "./support.ts"

const git = (cwd: string, ...args: ReadonlyArray<string>): string => {
  const ran = runIn(cwd, "git", args)
  assert.strictEqual(ran.status, 0, `git ${args.join(" ")}: ${ran.stderr}`)
  return ran.stdout.trim()
}

/** A repository with one commit on main, a bare `origin`, and an uncommitted change to src/greet.js. */
const repository = Effect.gen(function* () {
  const dir = yield* tempDir("git")
  const origin = yield* tempDir("origin")
  git(origin, "init", "--bare", "-q", "-b", "main")
  git(dir, "init", "-q", "-b", "main")
  git(dir, "config", "user.name", "Ana Lyst")
  git(dir, "config", "user.email", "ana@example.com")
  git(dir, "remote", "add", "origin", origin)
  mkdirSync(join(dir, "src"))
  writeFileSync(join(dir, "src/greet.js"), 'export const hello = (name) => "Hello, " + name\n')
  git(dir, "add", "-A")
  git(dir, "commit", "-q", "-m", "Add hello")
  git(dir, "push", "-q", "origin", "main")
  writeFileSync(
    join(dir, "src/greet.js"),
    'export const hello = (name) => "Hello, " + name\nexport const farewell = (name) => "Goodbye, " + name\n'
  )
  return { dir, origin }
})

/** A commit message made from what `git_diff` showed: the file and the names it adds. */
const messageFromDiff = (seen: Seen) => {
  const diff: string = seen.result("git_diff")!.result.output
  const file = /^\+\+\+ b\/(.+)$/mu.exec(diff)![1]!
  const added = [...diff.matchAll(/^\+export const (\w+)/gmu)].map((m) => m[1]!)
  return `Add ${added.join(", ")} to ${file}\n\nThe greeting module could say hello but not goodbye.`
}

describe("git agent", slow, () => {
  it.live("branches on request, commits with a message written from the diff, and pushes once approved", () =>
    Effect.gen(function* () {
      const { dir, origin } = yield* repository
      const remoteAtApproval: Array<string> = []
      let message = ""
      yield* scenario(
        "git",
        [
          calls(["git_status", {}], ["git_diff", {}]),
          (seen) => {
            message = messageFromDiff(seen)
            return call("shell_run", { command: "git", args: ["switch", "-c", "feature/farewell"] })
          },
          () => call("git_commit", { message }),
          call("git_push", { branch: "feature/farewell" }),
          say("Committed the farewell greeting on feature/farewell and pushed it.")
        ],
        {
          dir,
          decide: (request) => {
            if (request.tool === "git_push") remoteAtApproval.push(git(origin, "branch", "--list", "feature/*"))
            return { approved: true }
          }
        },
        ({ agent, decided }) =>
          Effect.gen(function* () {
            yield* agent.run("Commit the greeting change on a branch feature/farewell and push it")
            // Branching runs git itself, so it waits for a person; so does the push. Committing does not.
            assert.deepStrictEqual(
              decided.map((d) => d.request.tool),
              ["shell_run", "git_push"]
            )
            assert.strictEqual(git(dir, "symbolic-ref", "--short", "HEAD"), "feature/farewell")
            assert.strictEqual(
              git(dir, "log", "-1", "--format=%B"),
              "Add farewell to src/greet.js\n\nThe greeting module could say hello but not goodbye."
            )
            assert.deepStrictEqual(git(dir, "show", "--name-only", "--format=", "HEAD").split("\n"), ["src/greet.js"])
            assert.strictEqual(git(dir, "status", "--porcelain"), "")
            // Nothing had reached the remote while the push waited; after it, the remote has the commit.
            assert.deepStrictEqual(remoteAtApproval, [""])
            assert.strictEqual(git(origin, "rev-parse", "feature/farewell"), git(dir, "rev-parse", "HEAD"))
            assert.strictEqual(git(origin, "rev-parse", "main"), git(dir, "rev-parse", "main"))
          })
      )
    })
  )

  it.live("main is never pushed, even approved; a denied push reaches nothing", () =>
    Effect.gen(function* () {
      const { dir, origin } = yield* repository
      git(dir, "switch", "-q", "-c", "feature/wip")
      const before = git(origin, "rev-parse", "main")
      yield* scenario(
        "git",
        [
          call("git_diff", {}),
          (seen) => call("git_commit", { message: messageFromDiff(seen) }),
          call("git_push", { branch: "main" }),
          call("git_push", {}),
          say("The push was not approved; the commit stays local.")
        ],
        {
          dir,
          decide: (request) =>
            request.params !== null && typeof request.params === "object" && "branch" in request.params
              ? { approved: true }
              : { approved: false, reason: "not today" }
        },
        ({ agent, decided, events }) =>
          Effect.gen(function* () {
            yield* agent.run("Commit the change and push it")
            assert.strictEqual(git(dir, "log", "-1", "--format=%s"), "Add farewell to src/greet.js")
            assert.deepStrictEqual(
              decided.map((d) => [d.request.tool, d.approved]),
              [
                ["git_push", true],
                ["git_push", false]
              ]
            )
            // The approved push of main was refused by the tool itself; the denied one never ran.
            assert.deepStrictEqual(
              toolResults(events).map((r) => [r.tool, r.isFailure, r.result?._tag]),
              [
                ["git_diff", false, undefined],
                ["git_commit", false, undefined],
                ["git_push", true, "BranchNotAllowed"]
              ]
            )
            assert.strictEqual(git(origin, "rev-parse", "main"), before)
            assert.strictEqual(git(origin, "branch", "--list"), "* main")
          })
      )
    })
  )
})
