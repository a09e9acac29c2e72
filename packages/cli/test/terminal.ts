/**
 * A pseudo-terminal for the tests of what the command does at a terminal: `tmux` with a server of its own, keys typed
 * into it and the screen read back. `hasTmux` is false where `tmux` is not installed (Debian: `apt-get install tmux`).
 */
import { spawnSync } from "node:child_process"
import { rmSync } from "node:fs"
import { join } from "node:path"
import * as Effect from "effect/Effect"

/** Whether `tmux` can be run here. */
export const hasTmux = spawnSync("tmux", ["-V"], { stdio: "ignore" }).status === 0

/** One tmux server of its own (its socket in the test's directory), so the test never touches a person's sessions. */
export const terminal = (socket: string) => {
  const tmux = (...args: Array<string>) => spawnSync("tmux", ["-S", socket, ...args], { encoding: "utf8" })
  const screen = () => tmux("capture-pane", "-p", "-J", "-S", "-200", "-t", "repl").stdout ?? ""
  return {
    start: (command: string, cwd: string) =>
      Effect.sync(() => tmux("new-session", "-d", "-s", "repl", "-x", "160", "-y", "50", "-c", cwd, command)),
    /** Types `keys` (tmux key names: `Enter`, `C-c`) into the terminal. */
    keys: (...keys: Array<string>) => Effect.sync(() => tmux("send-keys", "-t", "repl", ...keys)),
    type: (text: string) => Effect.sync(() => tmux("send-keys", "-t", "repl", "-l", text)),
    screen: Effect.sync(screen),
    /** Waits (at most 30 s of wall time) until the screen shows what `check` wants; fails with the screen if not. */
    waitFor: (what: string, check: (screen: string) => boolean) =>
      Effect.gen(function* () {
        for (let i = 0; i < 300; i++) {
          if (check(screen())) return
          yield* Effect.sleep("100 millis")
        }
        return yield* Effect.die(new Error(`the terminal never showed ${what}:\n${screen()}`))
      }),
    kill: Effect.sync(() => tmux("kill-server"))
  }
}

/** A terminal with its socket in `dir`; with the scope, its server is killed, then `dir` removed. */
export const terminalIn = (dir: string) =>
  Effect.gen(function* () {
    const tty = terminal(join(dir, "tmux.sock"))
    yield* Effect.addFinalizer(() =>
      Effect.andThen(
        tty.kill,
        Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
      )
    )
    return tty
  })
