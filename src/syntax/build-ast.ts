/**
 * CST -> AST. Tolerates the partial trees chevrotain's error recovery produces: a missing token
 * becomes an empty identifier or an `Error` expression placed where the token should have been.
 */
import type { CstElement, CstNode, IToken } from "chevrotain";
import type { Range } from "../diagnostics/diagnostic.js";
import type * as A from "./ast.js";

type Children = Record<string, CstElement[] | undefined>;

function isToken(element: CstElement): element is IToken {
  return (element as IToken).image !== undefined;
}

function validOffset(n: number | undefined): n is number {
  return typeof n === "number" && Number.isFinite(n);
}

function tokenRange(token: IToken): Range | undefined {
  if (token.isInsertedInRecovery || !validOffset(token.startOffset)) return undefined;
  return { start: token.startOffset, end: (validOffset(token.endOffset) ? token.endOffset : token.startOffset) + 1 };
}

function nodeRange(node: CstNode, fallback: Range): Range {
  const loc = node.location;
  if (loc && validOffset(loc.startOffset)) {
    const end = validOffset(loc.endOffset) ? loc.endOffset + 1 : loc.startOffset;
    return { start: loc.startOffset, end: Math.max(end, loc.startOffset) };
  }
  return fallback;
}

function tokens(children: Children, name: string): IToken[] {
  return (children[name] ?? []).filter(isToken) as IToken[];
}

function nodes(children: Children, name: string): CstNode[] {
  return (children[name] ?? []).filter((e) => !isToken(e)) as CstNode[];
}

function firstNode(children: Children, name: string): CstNode | undefined {
  return nodes(children, name)[0];
}

/** Every element of a node's children, in source order. */
function ordered(children: Children): { name: string; element: CstElement; offset: number }[] {
  const all: { name: string; element: CstElement; offset: number }[] = [];
  for (const [name, elements] of Object.entries(children)) {
    for (const element of elements ?? []) {
      const offset = isToken(element) ? element.startOffset : (element.location?.startOffset ?? NaN);
      all.push({ name, element, offset: validOffset(offset) ? offset : Number.MAX_SAFE_INTEGER });
    }
  }
  return all.sort((a, b) => a.offset - b.offset);
}

function ident(token: IToken | undefined, fallback: Range): A.Ident {
  if (!token) return { kind: "Ident", name: "", range: { start: fallback.end, end: fallback.end } };
  const range = tokenRange(token) ?? { start: fallback.end, end: fallback.end };
  return { kind: "Ident", name: token.isInsertedInRecovery ? "" : token.image, range };
}

function errorExpr(at: Range): A.ErrorExpr {
  return { kind: "Error", range: { start: at.end, end: at.end } };
}

/** Decodes a string literal's escapes (\" \\ \n \t; others keep the escaped character). */
export function decodeString(raw: string): string {
  const body = raw.startsWith('"') ? raw.slice(1, raw.endsWith('"') && raw.length > 1 ? -1 : undefined) : raw;
  return body.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c === "t" ? "\t" : c));
}

function stringLit(token: IToken | undefined, fallback: Range): A.StringLit {
  if (!token || !tokenRange(token)) return { kind: "String", value: "", raw: '""', range: { start: fallback.end, end: fallback.end } };
  return { kind: "String", value: decodeString(token.image), raw: token.image, range: tokenRange(token)! };
}

export function buildFile(cst: CstNode, comments: A.Comment[], textLength: number): A.SpecFile {
  const range = { start: 0, end: textLength };
  const items: A.TopLevel[] = [];
  for (const { name, element } of ordered(cst.children)) {
    if (isToken(element)) continue;
    if (name === "importDecl") items.push(buildImport(element, range));
    else if (name === "blockDecl") items.push(buildBlock(element, range));
    else if (name === "networkDecl") items.push(buildNetwork(element, range));
    else if (name === "binding") items.push(buildBinding(element, range));
  }
  return { kind: "File", items, comments, range };
}

function buildImport(node: CstNode, parent: Range): A.ImportDecl {
  const range = nodeRange(node, parent);
  const c = node.children as Children;
  return {
    kind: "Import",
    names: tokens(c, "Identifier")
      .filter((t) => !t.isInsertedInRecovery)
      .map((t) => ident(t, range)),
    path: stringLit(tokens(c, "StringLiteral")[0], range),
    range,
  };
}

function buildBlock(node: CstNode, parent: Range): A.BlockDecl {
  const range = nodeRange(node, parent);
  const c = node.children as Children;
  return {
    kind: "Block",
    name: ident(tokens(c, "Identifier")[0], range),
    params: nodes(c, "param").map((p) => buildParam(p, range)),
    body: buildBody(firstNode(c, "body"), range),
    range,
  };
}

function buildParam(node: CstNode, parent: Range): A.Param {
  const range = nodeRange(node, parent);
  const c = node.children as Children;
  const value = firstNode(c, "expression");
  return {
    kind: "Param",
    name: ident(tokens(c, "Identifier")[0], range),
    ...(value ? { defaultValue: buildExpression(value, range) } : {}),
    range,
  };
}

function buildNetwork(node: CstNode, parent: Range): A.NetworkDecl {
  const range = nodeRange(node, parent);
  const c = node.children as Children;
  return { kind: "Network", name: ident(tokens(c, "Identifier")[0], range), body: buildBody(firstNode(c, "body"), range), range };
}

function buildBody(node: CstNode | undefined, parent: Range): A.Statement[] {
  if (!node) return [];
  const range = nodeRange(node, parent);
  return nodes(node.children as Children, "statement").flatMap((s) => {
    const built = buildStatement(s, range);
    return built ? [built] : [];
  });
}

function buildStatement(node: CstNode, parent: Range): A.Statement | undefined {
  const c = node.children as Children;
  const range = nodeRange(node, parent);
  const input = firstNode(c, "inputDecl");
  if (input) {
    const ic = input.children as Children;
    const r = nodeRange(input, range);
    const value = firstNode(ic, "expression");
    return { kind: "Input", name: ident(tokens(ic, "Identifier")[0], r), ...(value ? { value: buildExpression(value, r) } : {}), range: r };
  }
  const stream = firstNode(c, "streamDecl");
  if (stream) {
    const sc = stream.children as Children;
    const r = nodeRange(stream, range);
    return { kind: "Stream", name: ident(tokens(sc, "Identifier")[0], r), value: buildExpressionOr(firstNode(sc, "expression"), r), range: r };
  }
  const output = firstNode(c, "outputDecl");
  if (output) {
    const r = nodeRange(output, range);
    return { kind: "Output", values: nodes(output.children as Children, "expression").map((e) => buildExpression(e, r)), range: r };
  }
  const inflate = firstNode(c, "inflateDecl");
  if (inflate) return buildInflate(inflate, range);
  const binding = firstNode(c, "binding");
  if (binding) return buildBinding(binding, range);
  const section = firstNode(c, "section");
  if (section) return buildSection(section, range);
  return undefined;
}

function buildInflate(node: CstNode, parent: Range): A.InflateDecl {
  const range = nodeRange(node, parent);
  const c = node.children as Children;
  const entries: (A.Binding | A.InflationRule)[] = [];
  for (const { name, element } of ordered(c)) {
    if (isToken(element)) continue;
    if (name === "binding") entries.push(buildBinding(element, range));
    else if (name === "rule") {
      const rc = element.children as Children;
      const r = nodeRange(element, range);
      entries.push({
        kind: "Rule",
        pattern: stringLit(tokens(rc, "StringLiteral")[0], r),
        bindings: nodes(rc, "binding").map((b) => buildBinding(b, r)),
        range: r,
      });
    }
  }
  return { kind: "Inflate", source: ident(tokens(c, "Identifier")[0], range), entries, range };
}

function buildBinding(node: CstNode, parent: Range): A.Binding {
  const range = nodeRange(node, parent);
  const c = node.children as Children;
  const names = tokens(c, "Identifier").map((t) => ident(t, range));
  return { kind: "Binding", names: names.length ? names : [ident(undefined, range)], value: buildExpressionOr(firstNode(c, "expression"), range), range };
}

function buildSection(node: CstNode, parent: Range): A.Section {
  const range = nodeRange(node, parent);
  const c = node.children as Children;
  const entries: (A.Binding | A.Section)[] = [];
  for (const { name, element } of ordered(c)) {
    if (isToken(element)) continue;
    if (name === "binding") entries.push(buildBinding(element, range));
    else if (name === "section") entries.push(buildSection(element, range));
  }
  return { kind: "Section", name: ident(tokens(c, "Identifier")[0], range), entries, range };
}

function buildExpressionOr(node: CstNode | undefined, parent: Range): A.Expr {
  return node ? buildExpression(node, parent) : errorExpr(parent);
}

function buildExpression(node: CstNode, parent: Range): A.Expr {
  const c = node.children as Children;
  const range = nodeRange(node, parent);
  const conditional = firstNode(c, "conditional");
  if (conditional) {
    const cc = conditional.children as Children;
    const r = nodeRange(conditional, range);
    return {
      kind: "If",
      condition: buildExpressionOr(firstNode(cc, "condition"), r),
      whenTrue: buildExpressionOr(firstNode(cc, "whenTrue"), r),
      whenFalse: buildExpressionOr(firstNode(cc, "whenFalse"), r),
      range: r,
    };
  }
  const chain = firstNode(c, "chain");
  return chain ? buildChain(chain, range) : errorExpr(range);
}

function buildChain(node: CstNode, parent: Range): A.Expr {
  const c = node.children as Children;
  const range = nodeRange(node, parent);
  const headNode = firstNode(c, "operation");
  const head = headNode ? buildOperation(headNode, range) : errorExpr(range);
  const stages = nodes(c, "stage").map((s) => buildStage(s, range));
  if (stages.length === 0) return head;
  return { kind: "Chain", head, stages, range };
}

function buildPipeline(node: CstNode | undefined, parent: Range): A.Stage[] {
  if (!node) return [];
  const range = nodeRange(node, parent);
  return nodes(node.children as Children, "stage").map((s) => buildStage(s, range));
}

function buildStage(node: CstNode, parent: Range): A.Stage {
  const c = node.children as Children;
  const range = nodeRange(node, parent);
  const aliasToken = tokens(c, "Identifier")[0];
  const alias = aliasToken && !aliasToken.isInsertedInRecovery ? { alias: ident(aliasToken, range) } : {};
  const forNode = firstNode(c, "forStage");
  if (forNode) {
    const fc = forNode.children as Children;
    const r = nodeRange(forNode, range);
    const from = firstNode(fc, "from");
    const to = firstNode(fc, "to");
    return {
      kind: "ForStage",
      variable: ident(tokens(fc, "Identifier")[0], r),
      from: from ? buildSum(from, r) : errorExpr(r),
      to: to ? buildSum(to, r) : errorExpr(r),
      body: buildPipeline(firstNode(fc, "pipeline"), r),
      ...alias,
      range,
    };
  }
  const call = firstNode(c, "callStage");
  const cc = (call?.children ?? {}) as Children;
  const r = call ? nodeRange(call, range) : range;
  const hasParens = tokens(cc, "LParen").length > 0;
  const body = firstNode(cc, "pipeline");
  return {
    kind: "CallStage",
    callee: ident(tokens(cc, "Identifier")[0], r),
    ...(hasParens ? { args: buildArguments(firstNode(cc, "arguments"), r) } : {}),
    ...(body ? { body: buildPipeline(body, r) } : {}),
    ...alias,
    range,
  };
}

function buildArguments(node: CstNode | undefined, parent: Range): A.Argument[] {
  if (!node) return [];
  const range = nodeRange(node, parent);
  return nodes(node.children as Children, "argument").map((a) => {
    const ac = a.children as Children;
    const r = nodeRange(a, range);
    const nameToken = tokens(ac, "Identifier")[0];
    return {
      kind: "Argument",
      ...(nameToken && !nameToken.isInsertedInRecovery ? { name: ident(nameToken, r) } : {}),
      value: buildExpressionOr(firstNode(ac, "expression"), r),
      range: r,
    };
  });
}

/**
 * How tightly each binary operator binds, within the grammar rule that holds it: `and` over `or`
 * (operation), `* / %` over `+ -` (sum). Comparisons (term), `not`, unary minus and `**` (unary)
 * are their own rules. All of them associate to the left.
 */
const BINARY_TOKEN_OPS: Record<string, { op: A.BinaryOperator; binds: number }> = {
  Or: { op: "or", binds: 1 },
  And: { op: "and", binds: 2 },
  EqEq: { op: "==", binds: 1 },
  NotEq: { op: "!=", binds: 1 },
  Less: { op: "<", binds: 1 },
  LessEq: { op: "<=", binds: 1 },
  Greater: { op: ">", binds: 1 },
  GreaterEq: { op: ">=", binds: 1 },
  Plus: { op: "+", binds: 1 },
  Minus: { op: "-", binds: 1 },
  Star: { op: "*", binds: 2 },
  Slash: { op: "/", binds: 2 },
  Percent: { op: "%", binds: 2 },
};

/**
 * A level of operands joined by operators (operation: terms; sum: unaries), as a left-associative
 * tree with each operator's binding strength: `a + b * c - d` is `(a + (b * c)) - d`.
 */
function buildLevel(node: CstNode, parent: Range, operandRule: string, buildOperand: (n: CstNode, r: Range) => A.Expr): A.Expr {
  const range = nodeRange(node, parent);
  const c = node.children as Children;
  const operandNodes = c[operandRule] ?? [];
  // Most levels hold one operand and no operator: skip the ordering work (a hot path).
  if (Object.keys(c).length === 1 && operandNodes.length === 1) return buildOperand(operandNodes[0] as CstNode, range);
  // Operands and operator tokens interleave in source order; a missing operator (recovery) reads as `+`.
  const operands: A.Expr[] = [];
  const operators: { op: A.BinaryOperator; binds: number }[] = [];
  let pending: { op: A.BinaryOperator; binds: number } | undefined;
  for (const { name, element } of ordered(c)) {
    if (isToken(element)) {
      pending = BINARY_TOKEN_OPS[element.tokenType.name] ?? pending;
      continue;
    }
    if (name !== operandRule) continue;
    if (operands.length > 0) operators.push(pending ?? { op: "+", binds: 1 });
    operands.push(buildOperand(element, range));
    pending = undefined;
  }
  if (operands.length === 0) return errorExpr(range);
  // Precedence climbing; it recurses once per binding strength, not per operand.
  let next = 0;
  const climb = (minBinds: number): A.Expr => {
    let left = operands[next++]!;
    while (next - 1 < operators.length && operators[next - 1]!.binds >= minBinds) {
      const { op, binds } = operators[next - 1]!;
      const right = climb(binds + 1);
      left = { kind: "Binary", op, left, right, range: { start: left.range.start, end: right.range.end } };
    }
    return left;
  };
  return climb(0);
}

/** `or` and `and` over terms. */
function buildOperation(node: CstNode, parent: Range): A.Expr {
  return buildLevel(node, parent, "term", buildTerm);
}

/** `not term`, or a sum compared with another (comparisons do not chain). */
function buildTerm(node: CstNode, parent: Range): A.Expr {
  const range = nodeRange(node, parent);
  const c = node.children as Children;
  if (c.Not) {
    const inner = firstNode(c, "term");
    return { kind: "Unary", op: "not", operand: inner ? buildTerm(inner, range) : errorExpr(range), range };
  }
  const sums = nodes(c, "sum");
  const left = sums[0] ? buildSum(sums[0], range) : errorExpr(range);
  const comparison = ordered(c).find((e) => isToken(e.element) && BINARY_TOKEN_OPS[(e.element as IToken).tokenType.name]);
  if (!comparison || !sums[1]) return left;
  const right = buildSum(sums[1], range);
  return {
    kind: "Binary",
    op: BINARY_TOKEN_OPS[(comparison.element as IToken).tokenType.name]!.op,
    left,
    right,
    range: { start: left.range.start, end: right.range.end },
  };
}

/** Arithmetic over unaries: `* / %` before `+ -`. */
function buildSum(node: CstNode, parent: Range): A.Expr {
  return buildLevel(node, parent, "unary", buildUnary);
}

/** `-x`, or a primary with an optional right-associative `** exponent` (`-2 ** 2` is `-(2 ** 2)`). */
function buildUnary(node: CstNode, parent: Range): A.Expr {
  const range = nodeRange(node, parent);
  const c = node.children as Children;
  if (c.Minus) {
    const inner = firstNode(c, "unary");
    return { kind: "Unary", op: "-", operand: inner ? buildUnary(inner, range) : errorExpr(range), range };
  }
  const primary = firstNode(c, "primary");
  const left = primary ? buildPrimary(primary, range) : errorExpr(range);
  const exponent = firstNode(c, "unary");
  if (!exponent) return left;
  return { kind: "Binary", op: "**", left, right: buildUnary(exponent, range), range };
}

/** The suffixes of a primary: calls, indexing and members, applied left to right. */
function buildSuffixes(base: A.Expr, c: Children, range: Range): A.Expr {
  if (!c.callOpen && !c.LBracket && !c.Dot) return base;
  let result = base;
  const start = base.range.start;
  // Suffixes: walk tokens in order; each "(" pairs with an arguments node, each "[" with an expression.
  const argNodes = nodes(c, "arguments");
  const indexNodes = nodes(c, "index");
  const members = tokens(c, "member");
  const closers = [...tokens(c, "callClose"), ...tokens(c, "RBracket"), ...members]
    .filter((t) => validOffset(t.endOffset))
    .sort((a, b) => a.startOffset - b.startOffset);
  // The first closer after an opener ends that suffix (binary search: suffix runs stay linear).
  const endOf = (afterOffset: number) => {
    let lo = 0;
    let hi = closers.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (closers[mid]!.startOffset > afterOffset) hi = mid;
      else lo = mid + 1;
    }
    const next = closers[lo];
    return next ? next.endOffset! + 1 : range.end;
  };
  const openers = [...tokens(c, "callOpen"), ...tokens(c, "LBracket"), ...tokens(c, "Dot")].sort((a, b) => a.startOffset - b.startOffset);
  let argIndex = 0;
  let indexIndex = 0;
  let memberIndex = 0;
  for (const token of openers) {
    const end = endOf(token.startOffset);
    const r = { start, end };
    if (token.tokenType.name === "LParen") {
      result = { kind: "Call", callee: result, args: buildArguments(argNodes[argIndex++], r), range: r };
    } else if (token.tokenType.name === "LBracket") {
      const idx = indexNodes[indexIndex++];
      result = { kind: "Index", object: result, index: idx ? buildExpression(idx, r) : errorExpr(r), range: r };
    } else {
      const member = ident(members[memberIndex++], r);
      result = { kind: "Member", object: result, member, range: { start, end: Math.max(member.range.end, start) } };
    }
  }
  return result;
}

/** A value (number, string, boolean, name, list, parenthesised expression) and its suffixes. */
function buildPrimary(node: CstNode, parent: Range): A.Expr {
  const range = nodeRange(node, parent);
  const c = node.children as Children;
  return buildSuffixes(buildValue(c, range), c, range);
}

function buildValue(c: Children, range: Range): A.Expr {
  const num = tokens(c, "NumberLiteral")[0];
  if (num && tokenRange(num)) return { kind: "Number", value: Number(num.image), raw: num.image, range: tokenRange(num)! };
  const str = tokens(c, "StringLiteral")[0];
  if (str && tokenRange(str)) return stringLit(str, range);
  const t = tokens(c, "True")[0];
  if (t && tokenRange(t)) return { kind: "Bool", value: true, range: tokenRange(t)! };
  const f = tokens(c, "False")[0];
  if (f && tokenRange(f)) return { kind: "Bool", value: false, range: tokenRange(f)! };
  const id = tokens(c, "Identifier")[0];
  if (id && tokenRange(id)) return { kind: "Name", name: id.image, range: tokenRange(id)! };
  const list = firstNode(c, "list");
  if (list) {
    const r = nodeRange(list, range);
    return { kind: "List", items: nodes(list.children as Children, "expression").map((e) => buildExpression(e, r)), range: r };
  }
  const inner = firstNode(c, "expression");
  if (!inner) return errorExpr(range);
  // The parentheses themselves, not the suffixes after them: `(a).channels`.
  const open = tokens(c, "LParen")[0];
  const close = tokens(c, "RParen")[0];
  const innerRange = nodeRange(inner, range);
  const parenRange = {
    start: open && tokenRange(open) ? open.startOffset : innerRange.start,
    end: close && tokenRange(close) ? close.endOffset! + 1 : innerRange.end,
  };
  return { kind: "Paren", inner: buildExpression(inner, parenRange), range: parenRange };
}
