import { execFileSync } from "node:child_process"
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { ChildProcessSpawner } from "effect/process/ChildProcessSpawner"
import * as GitTools from "../src/GitTools.ts"
import * as Workspace from "../src/Workspace.ts"
import { caller, nodeServices, read, tempDir, write } from "./support.ts"

const git = (cwd: string, ...args: Array<string>) =>
  execFileSync("git", args, { cwd, encoding: "utf8", env: { PATH: process.env.PATH, HOME: cwd } })

// A workspace that is a git repository with an identity, and a bare repository as its origin.
const repository = Effect.gen(function* () {
  const base = yield* tempDir
  const root = Path.join(base, "work")
  const remote = Path.join(base, "remote.git")
  yield* Effect.promise(() => Fs.mkdir(root))
  git(base, "init", "--bare", "-q", "-b", "main", remote)
  git(root, "init", "-q", "-b", "main")
  git(root, "config", "user.name", "Test")
  git(root, "config", "user.email", "test@example.com")
  git(root, "remote", "add", "origin", remote)
  return { base, root, remote }
})

const withGit = <A, E>(
  options: GitTools.Options,
  root: string,
  f: (tool: ReturnType<typeof caller>) => Effect.Effect<A, E>
) =>
  Effect.gen(function* () {
    const workspace = yield* Workspace.make(root).pipe(Effect.orDie)
    const spawner = yield* ChildProcessSpawner
    return yield* f(caller(GitTools.toolkit, GitTools.toolkit.toLayer(GitTools.handlers(workspace, spawner, options))))
  }).pipe(Effect.provide(nodeServices))

describe("GitTools", () => {
  it.live("status, commit, log and diff on a real repository", () =>
    Effect.gen(function* () {
      const { root } = yield* repository
      yield* withGit({}, root, (tool) =>
        Effect.gen(function* () {
          yield* write(root, "a.txt", "one\n")
          const status = yield* tool("git_status", {})
          assert.include(status.result.output, "?? a.txt")
          const empty = yield* tool("git_commit", { message: "  " })
          assert.deepInclude(empty.result, { _tag: "InvalidArgument", argument: "message" })
          const first = yield* tool("git_commit", { message: "first; $(touch pwned)" })
          assert.isFalse(first.isFailure, JSON.stringify(first.result))
          assert.match(first.result.commit, /^[0-9a-f]{40}$/u)
          assert.strictEqual(git(root, "log", "-1", "--format=%s").trim(), "first; $(touch pwned)")
          assert.isUndefined(yield* read(root, "pwned"))
          const log = yield* tool("git_log", { limit: 5 })
          assert.include(log.result.output, "first; $(touch pwned)")
          yield* write(root, "a.txt", "two\n")
          const diff = yield* tool("git_diff", {})
          assert.include(diff.result.output, "+two")
          const nothing = yield* tool("git_diff", { staged: true })
          assert.strictEqual(nothing.result.output, "")
          const noChange = yield* tool("git_commit", { message: "again" })
          assert.isFalse(noChange.isFailure)
          const clean = yield* tool("git_commit", { message: "nothing left" })
          assert.deepInclude(clean.result, { _tag: "GitFailed", command: "git commit" })
        })
      )
    }).pipe(Effect.scoped)
  )

  it.live("commits only the paths it is given, read literally and confined to the workspace", () =>
    Effect.gen(function* () {
      const { root } = yield* repository
      yield* withGit({}, root, (tool) =>
        Effect.gen(function* () {
          yield* write(root, "src/a.ts", "a\n")
          yield* write(root, "docs/b.md", "b\n")
          yield* write(root, "notes.txt", "n\n")
          const first = yield* tool("git_commit", { message: "Add the source", paths: ["src"] })
          assert.isFalse(first.isFailure, JSON.stringify(first.result))
          assert.deepStrictEqual(git(root, "show", "--name-only", "--format=", "HEAD").trim().split("\n"), ["src/a.ts"])
          // Pathspec magic and globs are plain names: ":(top)" and "*.md" match no file, so nothing is committed.
          const magic = yield* tool("git_commit", { message: "magic", paths: [":(top)", "*.md"] })
          assert.deepInclude(magic.result, { _tag: "GitFailed" })
          assert.strictEqual(git(root, "rev-list", "--count", "HEAD").trim(), "1")
          for (const path of ["../outside", "/etc/passwd", ".git/config"]) {
            const refused = yield* tool("git_commit", { message: "escape", paths: [path] })
            assert.deepInclude(refused.result, { _tag: "PathRefused" }, path)
          }
          const empty = yield* tool("git_commit", { message: "none", paths: [] })
          assert.deepInclude(empty.result, { _tag: "InvalidArgument", argument: "paths" })
          const second = yield* tool("git_commit", { message: "Add the docs", paths: ["docs/b.md"] })
          assert.isFalse(second.isFailure, JSON.stringify(second.result))
          assert.include(git(root, "status", "--short"), "?? notes.txt")
        })
      )
    }).pipe(Effect.scoped)
  )

  it.live("runs no hook planted in the workspace", () =>
    Effect.gen(function* () {
      const { root, base } = yield* repository
      const marker = Path.join(base, "hook-ran")
      const hook = `#!/bin/sh\ntouch ${marker}\n`
      yield* write(root, ".git/hooks/pre-commit", hook)
      yield* write(root, "planted/post-commit", hook)
      yield* Effect.promise(async () => {
        await Fs.chmod(Path.join(root, ".git/hooks/pre-commit"), 0o755)
        await Fs.chmod(Path.join(root, "planted/post-commit"), 0o755)
      })
      git(root, "config", "core.hooksPath", "planted")
      yield* withGit({}, root, (tool) =>
        Effect.gen(function* () {
          yield* write(root, "a.txt", "x")
          const commit = yield* tool("git_commit", { message: "with hooks around" })
          assert.isFalse(commit.isFailure, JSON.stringify(commit.result))
        })
      )
      const ran = yield* Effect.promise(() =>
        Fs.access(marker).then(
          () => true,
          () => false
        )
      )
      assert.isFalse(ran, "a hook ran")
    }).pipe(Effect.scoped)
  )

  it.live("pushes allowed branches to the bare remote and refuses the others", () =>
    Effect.gen(function* () {
      const { root, remote } = yield* repository
      yield* withGit({ push: { remote: "origin", branches: ["main", "feature/*"] } }, root, (tool) =>
        Effect.gen(function* () {
          yield* write(root, "a.txt", "x")
          yield* tool("git_commit", { message: "first" })
          const pushed = yield* tool("git_push", {})
          assert.isFalse(pushed.isFailure, JSON.stringify(pushed.result))
          assert.deepInclude(pushed.result, { remote: "origin", branch: "main" })
          const head = git(root, "rev-parse", "HEAD").trim()
          assert.strictEqual(git(remote, "rev-parse", "refs/heads/main").trim(), head)
          git(root, "branch", "release")
          git(root, "branch", "feature/x")
          const refused = yield* tool("git_push", { branch: "release" })
          assert.deepStrictEqual(refused.result, {
            _tag: "BranchNotAllowed",
            branch: "release",
            allowed: ["main", "feature/*"]
          })
          assert.notInclude(git(remote, "branch", "--list"), "release")
          assert.isFalse((yield* tool("git_push", { branch: "feature/x" })).isFailure)
          for (const branch of ["-f", "main:release", "--force", "main~1", "a..b"]) {
            const bad = yield* tool("git_push", { branch })
            assert.deepInclude(bad.result, { _tag: "InvalidArgument", argument: "branch" }, branch)
          }
          const deep = yield* tool("git_push", { branch: "feature/x/y" })
          assert.strictEqual(deep.result._tag, "BranchNotAllowed")
        })
      )
    }).pipe(Effect.scoped)
  )

  it.live("never reaches a repository above the workspace", () =>
    Effect.gen(function* () {
      const base = yield* tempDir
      git(base, "init", "-q", "-b", "main")
      const root = Path.join(base, "inner")
      yield* Effect.promise(() => Fs.mkdir(root))
      yield* withGit({}, root, (tool) =>
        Effect.gen(function* () {
          const status = yield* tool("git_status", {})
          assert.deepInclude(status.result, { _tag: "GitFailed", command: "git status" })
          assert.include(status.result.output, "not a git repository")
        })
      )
    }).pipe(Effect.scoped)
  )

  it("masks credentials in URLs and keeps git from being redirected", () => {
    assert.strictEqual(
      GitTools.maskCredentials("fatal: https://x-access-token:ghp_123@github.com/o/r.git failed"),
      "fatal: https://***@github.com/o/r.git failed"
    )
    const env = GitTools.gitEnvironment(
      { root: "/w/repo" },
      { PATH: "/bin", GIT_DIR: "/elsewhere", GIT_AUTHOR_NAME: "A", GITHUB_TOKEN: "t" }
    )
    assert.deepStrictEqual(env, {
      PATH: "/bin",
      GIT_AUTHOR_NAME: "A",
      GIT_TERMINAL_PROMPT: "0",
      GIT_PAGER: "cat",
      GIT_EDITOR: "true",
      GIT_LITERAL_PATHSPECS: "1",
      GIT_CEILING_DIRECTORIES: "/w"
    })
  })
})
