import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "agent-spec",
    include: ["test/**/*.test.ts"],
    isolate: false
  }
})
