/**
 * The files `troupe init` scaffolds: an agent spec that `troupe validate` accepts, the JSON Schema editors check it
 * with, the environment variables Troupe reads, and a `.gitignore` keeping the state directory and keys out of git.
 */

/** One file to scaffold: its path relative to the target directory, and its text. */
export interface Template {
  readonly path: string
  readonly text: string
}

/** The agent spec: a small assistant confined to its workspace, asking before anything irreversible. */
export const agentSpec = `# yaml-language-server: $schema=./agent.schema.json
# Check it with: troupe validate agents/assistant.yaml
# Run it with:   troupe run agents/assistant.yaml --goal "Summarise README.md into NOTES.md"
name: assistant
description: Answers questions and does small file tasks in its workspace
persona: Careful assistant that looks before it changes anything
instructions: |
  Read the files involved before you change any of them, make the smallest change that does the task,
  and say what you changed. Work only inside the workspace.
goals:
  - Finish the task in as few steps as possible
model: { provider: openai, model: gpt-5-mini }
tools:
  - fs_read
  - fs_list
  - fs_write
  - memory_recall
  - memory_remember
approvals:
  default: auto
  irreversible: ask
constraints:
  - Never print secrets or credentials
memory: { enabled: true, recall: 8 }
limits: { maxSteps: 20, maxCostUsd: 0.5, timeout: 10m, stepTimeout: 2m }
`

/** The configuration: Troupe reads it from the environment, so this is a template to copy and load. */
export const environment = `# Troupe reads its configuration from the environment. Copy this file to .env, fill in what you use,
# and load it into your shell before running troupe:   set -a; . ./.env; set +a
# Keep .env out of version control (the .gitignore written beside it does).

# One provider is enough. A local OpenAI-compatible server (llama.cpp, vLLM, LM Studio) needs no key:
#   OPENAI_BASE_URL=http://127.0.0.1:8080/v1
OPENAI_API_KEY=
# OPENAI_BASE_URL=
# ANTHROPIC_API_KEY=
# GEMINI_API_KEY=
# OLLAMA_HOST=http://127.0.0.1:11434

# The model of troupe -p (model, or provider/model) and the time limit of every model call.
# TROUPE_MODEL=openai/gpt-5-mini
# TROUPE_TIMEOUT=2m

# The state directory: audit trails, pending approvals and long-term memory.
TROUPE_HOME=.troupe
`

/** What git should not see: the state directory and the filled-in environment. */
export const gitignore = `.troupe/
.env
`

/** Every file `troupe init` writes, in the order it reports them; the JSON Schema's text is given by the caller. */
export const all = (schemaText: string): ReadonlyArray<Template> => [
  { path: "agents/assistant.yaml", text: agentSpec },
  { path: "agents/agent.schema.json", text: schemaText },
  { path: ".env.example", text: environment },
  { path: ".gitignore", text: gitignore }
]
