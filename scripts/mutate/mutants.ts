/**
 * Mutant generation: walks one source file's syntax tree (as parsed by the native TypeScript 7 compiler) and
 * proposes small, syntactically valid changes with the usual mutation operators.
 *
 * Only value-level code is mutated: the walk never enters imports, exports-from, type nodes, type aliases,
 * interfaces, ambient declarations or JSDoc, and comments and strings are never touched because mutations
 * replace whole tokens or expressions. Mutations that would obviously be no-ops (`if (true)` forced to true,
 * a literal replaced by itself) are not proposed; type-invalid ones are left to the type check.
 */
import type {
  BinaryExpression,
  ConditionalExpression,
  Expression,
  IfStatement,
  Node,
  PrefixUnaryExpression,
  ReturnStatement,
  SourceFile
} from "typescript/unstable/ast"
import {
  isBinaryExpression,
  isCallExpression,
  isConditionalExpression,
  isExpressionStatement,
  isForStatement,
  isIfStatement,
  isNoSubstitutionTemplateLiteral,
  isNumericLiteral,
  isParenthesizedExpression,
  isPostfixUnaryExpression,
  isPrefixUnaryExpression,
  isReturnStatement,
  isStringLiteral,
  isTemplateExpression,
  isTypeNode,
  isYieldExpression,
  NodeFlags,
  SyntaxKind
} from "typescript/unstable/ast"

/** One proposed change: replace `[start, end)` of `file` by `replacement`. */
export interface Mutant {
  /** Path relative to the repository root, with forward slashes. */
  readonly file: string
  readonly start: number
  readonly end: number
  readonly replacement: string
  /** 1-based line of `start`. */
  readonly line: number
  /** Operator family, e.g. `relational`, `statement`, `if-true`. */
  readonly operator: string
  /** The enclosing expression or statement before and after the change, on one line, for the report. */
  readonly before: string
  readonly after: string
}

/** Applies a mutant to the original text of its file. */
export const apply = (text: string, m: Mutant): string => text.slice(0, m.start) + m.replacement + text.slice(m.end)

const binarySwaps: Partial<Record<SyntaxKind, ReadonlyArray<[string, string]>>> = {
  [SyntaxKind.LessThanToken]: [
    ["<=", "relational"],
    [">", "relational"]
  ],
  [SyntaxKind.LessThanEqualsToken]: [
    ["<", "relational"],
    [">", "relational"]
  ],
  [SyntaxKind.GreaterThanToken]: [
    [">=", "relational"],
    ["<", "relational"]
  ],
  [SyntaxKind.GreaterThanEqualsToken]: [
    [">", "relational"],
    ["<", "relational"]
  ],
  [SyntaxKind.EqualsEqualsEqualsToken]: [["!==", "equality"]],
  [SyntaxKind.ExclamationEqualsEqualsToken]: [["===", "equality"]],
  [SyntaxKind.EqualsEqualsToken]: [["!=", "equality"]],
  [SyntaxKind.ExclamationEqualsToken]: [["==", "equality"]],
  [SyntaxKind.AmpersandAmpersandToken]: [["||", "logical"]],
  [SyntaxKind.BarBarToken]: [["&&", "logical"]],
  [SyntaxKind.QuestionQuestionToken]: [["&&", "logical"]],
  [SyntaxKind.PlusToken]: [["-", "arithmetic"]],
  [SyntaxKind.MinusToken]: [["+", "arithmetic"]],
  [SyntaxKind.AsteriskToken]: [["/", "arithmetic"]],
  [SyntaxKind.SlashToken]: [["*", "arithmetic"]],
  [SyntaxKind.PercentToken]: [["*", "arithmetic"]],
  [SyntaxKind.PlusEqualsToken]: [["-=", "arithmetic"]],
  [SyntaxKind.MinusEqualsToken]: [["+=", "arithmetic"]],
  [SyntaxKind.AsteriskEqualsToken]: [["/=", "arithmetic"]],
  [SyntaxKind.SlashEqualsToken]: [["*=", "arithmetic"]],
  [SyntaxKind.AmpersandAmpersandEqualsToken]: [["||=", "logical"]],
  [SyntaxKind.BarBarEqualsToken]: [["&&=", "logical"]],
  [SyntaxKind.QuestionQuestionEqualsToken]: [["&&=", "logical"]]
}

const booleanOperators = new Set<SyntaxKind>([
  SyntaxKind.LessThanToken,
  SyntaxKind.LessThanEqualsToken,
  SyntaxKind.GreaterThanToken,
  SyntaxKind.GreaterThanEqualsToken,
  SyntaxKind.EqualsEqualsEqualsToken,
  SyntaxKind.ExclamationEqualsEqualsToken,
  SyntaxKind.EqualsEqualsToken,
  SyntaxKind.ExclamationEqualsToken,
  SyntaxKind.InstanceOfKeyword,
  SyntaxKind.InKeyword
])

/** Subtrees that hold no value-level code of this module (or that a mutant could only break syntactically). */
const skipped = (node: Node): boolean =>
  isTypeNode(node) ||
  (node.flags & NodeFlags.Ambient) !== 0 ||
  (node.kind >= SyntaxKind.FirstJSDocNode && node.kind <= SyntaxKind.LastJSDocNode) ||
  node.kind === SyntaxKind.ImportDeclaration ||
  node.kind === SyntaxKind.ImportEqualsDeclaration ||
  node.kind === SyntaxKind.ExportDeclaration ||
  node.kind === SyntaxKind.InterfaceDeclaration ||
  node.kind === SyntaxKind.TypeAliasDeclaration ||
  node.kind === SyntaxKind.ModuleDeclaration ||
  node.kind === SyntaxKind.Decorator

const isStringy = (e: Expression): boolean =>
  isStringLiteral(e) || isNoSubstitutionTemplateLiteral(e) || isTemplateExpression(e)

const unparenthesize = (e: Expression): Expression => (isParenthesizedExpression(e) ? unparenthesize(e.expression) : e)

/** True when the expression is evidently boolean, so that negating it keeps its type. */
const isBooleanish = (e: Expression): boolean => {
  const inner = unparenthesize(e)
  if (inner.kind === SyntaxKind.TrueKeyword || inner.kind === SyntaxKind.FalseKeyword) return true
  if (isPrefixUnaryExpression(inner)) return inner.operator === SyntaxKind.ExclamationToken
  if (isBinaryExpression(inner)) {
    const op = inner.operatorToken.kind
    if (booleanOperators.has(op)) return true
    if (op === SyntaxKind.AmpersandAmpersandToken || op === SyntaxKind.BarBarToken)
      return isBooleanish(inner.left) && isBooleanish(inner.right)
  }
  if (isCallExpression(inner)) {
    const callee = inner.expression.getText(inner.getSourceFile())
    return (
      /(^|\.)(is|has|can|should)[A-Z]\w*$/.test(callee) ||
      /(^|\.)(includes|some|every|startsWith|endsWith)$/.test(callee)
    )
  }
  return false
}

const flat = (s: string): string => s.replace(/\s+/g, " ").trim()

/** The context text around `[start, end)` before and after the change, on one line and at most ~`limit` chars. */
const display = (
  text: string,
  cStart: number,
  cEnd: number,
  start: number,
  end: number,
  replacement: string,
  limit = 100
): [string, string] => {
  let from = cStart
  let to = cEnd
  if (flat(text.slice(from, to)).length > limit) {
    // Too long to show whole: a window around the change, cut at line ends.
    const margin = Math.max(20, (limit - (end - start)) >> 1)
    from = Math.max(cStart, start - margin)
    to = Math.min(cEnd, end + margin)
    const lineStart = text.lastIndexOf("\n", start - 1) + 1
    const lineEnd = text.indexOf("\n", end)
    if (from < lineStart && lineStart < start) from = lineStart
    if (lineEnd !== -1 && to > lineEnd && lineEnd >= end) to = lineEnd
  }
  const pre = from > cStart ? "…" : ""
  const post = to < cEnd ? "…" : ""
  const before = `${pre}${flat(text.slice(from, to))}${post}`
  const after = `${pre}${flat(text.slice(from, start) + replacement + text.slice(end, to))}${post}`
  return [before, after === "" ? "(removed)" : after]
}

/** Every mutant of one file, in source order. `file` is the path reported (relative to the root). */
export const generate = (sf: SourceFile, file: string): ReadonlyArray<Mutant> => {
  const text = sf.text
  const lineStarts: Array<number> = [0]
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1)
  const lineOf = (pos: number): number => {
    let lo = 0
    let hi = lineStarts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (lineStarts[mid]! <= pos) lo = mid
      else hi = mid - 1
    }
    return lo + 1
  }
  const out: Array<Mutant> = []
  const seen = new Set<string>()
  /** Records replacing `[start, end)` by `replacement`, shown within the context node `context`. */
  const add = (operator: string, start: number, end: number, replacement: string, context: Node) => {
    if (text.slice(start, end) === replacement) return
    const key = `${start}:${end}:${replacement}`
    if (seen.has(key)) return
    seen.add(key)
    const [before, after] = display(text, context.getStart(sf), context.end, start, end, replacement)
    out.push({
      file,
      start,
      end,
      replacement,
      line: lineOf(start),
      operator,
      before,
      after
    })
  }
  const whole = (operator: string, node: Node, replacement: string, context: Node = node) =>
    add(operator, node.getStart(sf), node.end, replacement, context)

  const binary = (node: BinaryExpression) => {
    const op = node.operatorToken
    const swaps = binarySwaps[op.kind]
    if (swaps === undefined) return
    // `"a" + b` is concatenation: `-` would be a type error, not an interesting mutant.
    if (
      (op.kind === SyntaxKind.PlusToken || op.kind === SyntaxKind.PlusEqualsToken) &&
      (isStringy(node.left) || isStringy(node.right))
    )
      return
    for (const [replacement, operator] of swaps) add(operator, op.getStart(sf), op.end, replacement, node)
  }

  const prefix = (node: PrefixUnaryExpression) => {
    if (node.operator === SyntaxKind.ExclamationToken) whole("negation", node, `(${node.operand.getText(sf)})`)
    else if (node.operator === SyntaxKind.MinusToken && !isNumericLiteral(node.operand))
      whole("unary", node, node.operand.getText(sf))
    else if (node.operator === SyntaxKind.PlusPlusToken || node.operator === SyntaxKind.MinusMinusToken) {
      const start = node.getStart(sf)
      add("update", start, start + 2, node.operator === SyntaxKind.PlusPlusToken ? "--" : "++", node)
    }
  }

  // One mutant per literal: the boundary (±1) for small counts and indices, zero for sizes and durations.
  const numeric = (node: Node) => {
    const value = Number(node.getText(sf).replace(/_/g, ""))
    if (!Number.isFinite(value)) return
    const replacement =
      value === 0 ? "1" : value === 1 ? "0" : Number.isInteger(value) && value <= 16 ? String(value + 1) : "0"
    whole("number", node, replacement, node.parent ?? node)
  }

  const conditional = (node: IfStatement | ConditionalExpression, kind: "if" | "ternary") => {
    const condition = isIfStatement(node) ? node.expression : node.condition
    const inner = unparenthesize(condition)
    if (inner.kind !== SyntaxKind.TrueKeyword) whole(`${kind}-true`, condition, "true", condition)
    if (inner.kind !== SyntaxKind.FalseKeyword) whole(`${kind}-false`, condition, "false", condition)
  }

  const returned = (node: ReturnStatement) => {
    const e = node.expression
    if (e === undefined) return
    const inner = unparenthesize(e)
    if (isBooleanish(e)) whole("return-negate", e, `!(${e.getText(sf)})`, node)
    else if (isStringy(inner)) {
      if (inner.getText(sf) !== '""' && inner.getText(sf) !== "``") whole("return-empty", e, '""', node)
    } else if (inner.kind !== SyntaxKind.UndefinedKeyword && inner.getText(sf) !== "undefined")
      whole("return-undefined", e, "undefined", node)
  }

  const statement = (node: Node) => {
    if (!isExpressionStatement(node)) return
    const e = unparenthesize(node.expression)
    const removable =
      isCallExpression(e) ||
      (isYieldExpression(e) && e.asteriskToken !== undefined) ||
      e.kind === SyntaxKind.AwaitExpression
    if (!removable) return
    // A statement that is the whole body of an `if`/loop without braces keeps an empty statement.
    const parentKind = node.parent.kind
    const inList =
      parentKind === SyntaxKind.Block ||
      parentKind === SyntaxKind.SourceFile ||
      parentKind === SyntaxKind.CaseClause ||
      parentKind === SyntaxKind.DefaultClause ||
      parentKind === SyntaxKind.ModuleBlock
    whole("statement", node, inList ? "" : ";")
  }

  // Mutating a loop's incrementor (`i++` → `i--`) only ever hangs the loop: killed, at the cost of a whole timeout.
  const isIncrementor = (node: Node): boolean => {
    const parent = node.parent as Node | undefined
    return (
      parent !== undefined &&
      isForStatement(parent) &&
      parent.incrementor?.pos === node.pos &&
      parent.incrementor.end === node.end
    )
  }

  const visit = (node: Node): void => {
    if (skipped(node) || isIncrementor(node)) return
    if (isBinaryExpression(node)) binary(node)
    else if (isPrefixUnaryExpression(node)) prefix(node)
    else if (isPostfixUnaryExpression(node)) {
      const end = node.end
      add("update", end - 2, end, node.operator === SyntaxKind.PlusPlusToken ? "--" : "++", node)
    } else if (node.kind === SyntaxKind.TrueKeyword) whole("boolean", node, "false", node.parent ?? node)
    else if (node.kind === SyntaxKind.FalseKeyword) whole("boolean", node, "true", node.parent ?? node)
    else if (isNumericLiteral(node)) numeric(node)
    else if (isIfStatement(node)) conditional(node, "if")
    else if (isConditionalExpression(node)) conditional(node, "ternary")
    else if (isReturnStatement(node)) returned(node)
    else statement(node)
    node.forEachChild(visit)
  }
  visit(sf)
  return out.sort((a, b) => a.start - b.start || a.end - b.end || a.replacement.localeCompare(b.replacement))
}
