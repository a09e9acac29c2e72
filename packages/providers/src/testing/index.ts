/**
 * `@troupe/providers/testing`: test kits for code that talks to models, kept out of the production entry point.
 *
 * Fake provider servers on 127.0.0.1 that speak the real OpenAI, Anthropic and Gemini wire formats (with fault
 * injection), a scripted `LanguageModel` for agent logic, and a seeded random source for reproducible tests.
 */
export * as FakeAnthropic from "./FakeAnthropic.ts"
export * as FakeGemini from "./FakeGemini.ts"
export * as FakeOpenAi from "./FakeOpenAi.ts"
export * as FakeServer from "./FakeServer.ts"
export * as ModelProbe from "./ModelProbe.ts"
export * as ScriptedLanguageModel from "./ScriptedLanguageModel.ts"
export * as SeededRandom from "./SeededRandom.ts"
