import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "cli",
    include: ["test/**/*.test.ts"],
    isolate: false,
    // Every test here starts the command as a child process: on a loaded machine one start alone can take seconds.
    testTimeout: 60_000
  }
})
