/**
 * The git tools: `git_status`, `git_diff`, `git_log`, `git_commit {message}` and `git_push {branch?}`, each one
 * run of the real `git` in the workspace, through the same runner as `shell_run` (argv only, scrubbed
 * environment, timeout, capped output).
 *
 * Hardening: nothing the workspace holds gets to run code. Hooks are off (`-c core.hooksPath=/dev/null`, and
 * `--no-verify`), as are the fsmonitor, pagers, external diff and text conversion drivers; git never prompts
 * (`GIT_TERMINAL_PROMPT=0`); variables that would point git at another repository (`GIT_DIR`, `GIT_WORK_TREE`,
 * `GIT_INDEX_FILE`, ...) are not passed on, and `GIT_CEILING_DIRECTORIES` stops git from finding a repository
 * above the workspace. The file tools refuse `.git/**`, so a model cannot plant config there either. URLs with
 * credentials in git's output are masked (`https://***@host/...`).
 *
 * `git_commit` stages everything (`git add -A`) and commits, or, given `paths`, stages and commits those alone (so
 * that related changes go in one commit and the rest in others); each path is confined to the workspace as the
 * file tools' are, `.git` refused, and read as a literal path, never as a git pathspec (`:(top)`, globs). An empty
 * message is refused; without a configured identity it commits as `Troupe <troupe@localhost>`. `git_push` pushes one branch (the current one by default)
 * to the spec's `remote`, never forced, and refuses a branch that the spec's `branches` patterns do not match.
 * A git command that exits non-zero is a `GitFailed` failure with git's own words.
 */

import * as Path from "node:path"
import type { ToolSpec } from "@troupe/agent-spec"
import * as Tool from "effect/ai/Tool"
import * as Toolkit from "effect/ai/Toolkit"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { ChildProcessSpawner } from "effect/process/ChildProcessSpawner"
import * as Schema from "effect/Schema"
import * as Globs from "./internal/globs.ts"
import * as RunProcess from "./internal/runProcess.ts"
import * as ProcessEnv from "./ProcessEnv.ts"
import * as ShellTool from "./ShellTool.ts"
import {
  BranchNotAllowed,
  FileNotFound,
  GitFailed,
  InvalidArgument,
  IoFailed,
  PathRefused,
  TimedOut
} from "./ToolError.ts"
import * as Workspace from "./Workspace.ts"

const Output = Schema.Struct({ output: Schema.String, truncated: Schema.Boolean })

const GitFailure = Schema.Union([GitFailed, TimedOut, IoFailed])

/** Shows the working tree status. */
export const GitStatus = Tool.make("git_status", {
  description: "Show the working tree status (git status --short --branch).",
  success: Output,
  failure: GitFailure,
  failureMode: "return"
})

/** Shows changes. */
export const GitDiff = Tool.make("git_diff", {
  description: "Show unstaged changes, or staged ones with staged: true.",
  parameters: Schema.Struct({ staged: Schema.optionalKey(Schema.Boolean) }),
  success: Output,
  failure: GitFailure,
  failureMode: "return"
})

/** Shows commit history. */
export const GitLog = Tool.make("git_log", {
  description: "Show the latest commits: hash, date, author and subject.",
  parameters: Schema.Struct({
    limit: Schema.optionalKey(
      Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 200 })).annotate({
        description: "How many commits (1 to 200, default 20)"
      })
    )
  }),
  success: Output,
  failure: GitFailure,
  failureMode: "return"
})

/** Stages every change, or the changes of some paths, and commits them. */
export const GitCommit = Tool.make("git_commit", {
  description:
    "Commit with a message: every change of the workspace (git add -A), or only the changes of `paths` (files or directories, added, changed or deleted).",
  parameters: Schema.Struct({
    message: Schema.String,
    paths: Schema.optionalKey(
      Schema.Array(Schema.String)
        .check(Schema.isMaxLength(200))
        .annotate({ description: "Commit only these workspace paths (default: every change)" })
    )
  }),
  success: Schema.Struct({ commit: Schema.String, output: Schema.String }),
  failure: Schema.Union([GitFailed, TimedOut, IoFailed, InvalidArgument, PathRefused, FileNotFound]),
  failureMode: "return"
})

/** Pushes a branch to the configured remote. */
export const GitPush = Tool.make("git_push", {
  description: "Push a branch (the current one by default) to the configured remote. Never forced.",
  parameters: Schema.Struct({ branch: Schema.optionalKey(Schema.String) }),
  success: Schema.Struct({ remote: Schema.String, branch: Schema.String, output: Schema.String }),
  failure: Schema.Union([GitFailed, TimedOut, IoFailed, InvalidArgument, BranchNotAllowed]),
  failureMode: "return"
})

/** The five git tools. */
export const toolkit = Toolkit.make(GitStatus, GitDiff, GitLog, GitCommit, GitPush)

/** The options of the git tools: `git_push`'s from the spec, and the bounds of every git run. */
export interface Options {
  readonly push?: Partial<ToolSpec.ToolOptions["git_push"]>
  /** How long one git command may run (default 60 s). */
  readonly timeout?: Duration.Duration
  /** Bytes kept of git's output (default 262,144). */
  readonly maxOutputBytes?: number
}

const hardening = [
  "-c",
  "core.hooksPath=/dev/null",
  "-c",
  "core.fsmonitor=false",
  "-c",
  "core.pager=cat",
  "-c",
  "diff.external=",
  "-c",
  "color.ui=false",
  "-c",
  "credential.interactive=false",
  "--no-pager"
]

const keptGitVariables = new Set(["GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"])

/** The environment of git: the scrubbed one, without variables that redirect git, never prompting. */
export const gitEnvironment = (
  workspace: Workspace.Service,
  parent: Readonly<Record<string, string | undefined>>
): Record<string, string> => {
  const env = ProcessEnv.forChild({}, parent)
  for (const name of Object.keys(env)) {
    if (name.startsWith("GIT_") && !keptGitVariables.has(name)) delete env[name]
  }
  return {
    ...env,
    GIT_TERMINAL_PROMPT: "0",
    GIT_PAGER: "cat",
    GIT_EDITOR: "true",
    // Paths a model names are paths, never pathspec magic (`:(top)`, `:!x`) or globs.
    GIT_LITERAL_PATHSPECS: "1",
    GIT_CEILING_DIRECTORIES: Path.dirname(workspace.root)
  }
}

const credentialsInUrl = /([a-z][a-z0-9+.-]*:\/\/)[^/\s@]+@/giu

/** `text` with user and password of URLs masked. */
export const maskCredentials = (text: string): string => text.replace(credentialsInUrl, "$1***@")

// Branch names a person could push, and no option (`-f`), refspec (`a:b`) or revision syntax (`@{`, `~`, `^`).
const branchName = /^(?!-)(?!.*\.\.)(?!.*@\{)(?!.*\/\/)(?!.*\.lock$)(?!\/)(?!.*\/$)[A-Za-z0-9._\-/]+$/u

/** The handlers of the git tools, over one workspace and spawner. */
export const handlers = (
  workspace: Workspace.Service,
  spawner: ChildProcessSpawner["Service"],
  options: Options = {},
  parentEnv: Readonly<Record<string, string | undefined>> = process.env
) => {
  const env = gitEnvironment(workspace, parentEnv)
  const timeout = options.timeout ?? Duration.seconds(60)
  const maxOutputBytes = options.maxOutputBytes ?? 262_144
  const remote = options.push?.remote ?? "origin"
  const branches = options.push?.branches ?? ["*"]
  const branchAllowed = Globs.names(branches)

  const git = (args: ReadonlyArray<string>) =>
    RunProcess.run({
      command: "git",
      args: [...hardening, ...args],
      cwd: workspace.root,
      env,
      timeout,
      maxOutputBytes
    }).pipe(
      Effect.provideService(ChildProcessSpawner, spawner),
      Effect.mapError(ShellTool.spawnFailure),
      Effect.flatMap((run) =>
        run.timedOut
          ? Effect.fail(new TimedOut({ operation: `git ${args[0]}`, timeoutMillis: Duration.toMillis(timeout) }))
          : Effect.succeed(run)
      )
    )

  // Runs git and fails with GitFailed on a non-zero exit.
  const gitOk = (args: ReadonlyArray<string>) =>
    git(args).pipe(
      Effect.flatMap((run) =>
        run.exitCode === 0
          ? Effect.succeed({ output: maskCredentials(run.stdout), truncated: run.truncated })
          : Effect.fail(
              new GitFailed({
                command: `git ${args[0]}`,
                exitCode: run.exitCode,
                output: maskCredentials(`${run.stderr}${run.stdout}`.trim())
              })
            )
      )
    )

  const identity = git(["config", "user.email"]).pipe(
    Effect.map((run) =>
      run.exitCode === 0 && run.stdout.trim() !== ""
        ? []
        : ["-c", "user.name=Troupe", "-c", "user.email=troupe@localhost"]
    )
  )

  return toolkit.of({
    git_status: () => gitOk(["status", "--short", "--branch", "--untracked-files=all"]),
    git_diff: ({ staged }) =>
      gitOk(["diff", "--no-ext-diff", "--no-textconv", "--no-color", ...(staged === true ? ["--cached"] : [])]),
    git_log: ({ limit }) =>
      gitOk(["log", `--max-count=${limit ?? 20}`, "--no-color", "--date=iso", "--format=%h %ad %an%n    %s"]).pipe(
        Effect.catchIf(
          (e) => e._tag === "GitFailed" && e.output.includes("does not have any commits"),
          () => Effect.succeed({ output: "(no commits yet)", truncated: false })
        )
      ),
    git_commit: ({ message, paths }) =>
      Effect.gen(function* () {
        if (message.trim() === "") return yield* new InvalidArgument({ argument: "message", reason: "is empty" })
        if (paths !== undefined && paths.length === 0)
          return yield* new InvalidArgument({
            argument: "paths",
            reason: "is empty: leave it out to commit everything"
          })
        const only =
          paths === undefined
            ? []
            : [
                "--",
                ...(yield* Effect.forEach(paths, (path) =>
                  Effect.map(Workspace.resolve(workspace, path, ["**"], { directory: true }), (resolved) =>
                    resolved.relative === "" ? "." : resolved.relative
                  )
                ))
              ]
        yield* gitOk(["add", "-A", ...only])
        const author = yield* identity
        const committed = yield* gitOk([...author, "commit", "--no-verify", "--no-gpg-sign", "-m", message, ...only])
        const head = yield* gitOk(["rev-parse", "HEAD"])
        return { commit: head.output.trim(), output: committed.output }
      }),
    git_push: ({ branch }) =>
      Effect.gen(function* () {
        const name = branch ?? (yield* gitOk(["symbolic-ref", "--short", "HEAD"])).output.trim()
        if (!branchName.test(name))
          return yield* new InvalidArgument({ argument: "branch", reason: "is not a branch name" })
        if (!branchAllowed(name)) return yield* new BranchNotAllowed({ branch: name, allowed: branches })
        const pushed = yield* gitOk(["push", "--porcelain", "--", remote, `refs/heads/${name}:refs/heads/${name}`])
        return { remote, branch: name, output: pushed.output }
      })
  })
}

/** The handlers of the git tools, over the `Workspace` and `ChildProcessSpawner` in context. */
export const layer = (options: Options = {}) =>
  toolkit.toLayer(
    Effect.gen(function* () {
      return handlers(yield* Workspace.Workspace, yield* ChildProcessSpawner, options)
    })
  )
