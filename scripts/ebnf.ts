/**
 * Reads EBNF productions from two places, the doc comments of `grammar/parser.ts` and the
 * hand-written reference `grammar/vnet.ebnf`, and lists where they disagree. The parser's
 * comments are the source of truth for the syntax; the reference adds the lexical rules.
 */
import type { TokenType } from "chevrotain";

/** One `name = body ;` production with its whitespace normalised. */
export interface Production {
  readonly name: string;
  readonly body: string;
}

/** The production as one canonical line, used both for comparison and for generated/grammar.ebnf. */
export function formatProduction(production: Production): string {
  return `${production.name} = ${production.body} ;`;
}

/**
 * Splits EBNF text into productions. `(* comments *)` are dropped; quoted terminals ("..." and
 * '...') and `? special sequences ?` may contain any character, so `;` ends a production only
 * outside them.
 */
export function parseEbnf(text: string): Production[] {
  const productions: Production[] = [];
  let current = "";
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (text.startsWith("(*", i)) {
      const end = text.indexOf("*)", i + 2);
      if (end < 0) throw new Error(`unterminated EBNF comment at offset ${i}`);
      current += " ";
      i = end + 2;
    } else if (ch === '"' || ch === "'" || ch === "?") {
      const end = text.indexOf(ch, i + 1);
      if (end < 0) throw new Error(`unterminated ${ch} in EBNF at offset ${i}`);
      current += text.slice(i, end + 1);
      i = end + 1;
    } else if (ch === ";") {
      productions.push(splitProduction(current));
      current = "";
      i++;
    } else {
      current += ch;
      i++;
    }
  }
  if (current.trim()) throw new Error(`EBNF text after the last production is not terminated by ";": ${current.trim()}`);
  return productions;
}

function splitProduction(text: string): Production {
  const match = /^\s*([A-Za-z_]\w*)\s*=([\s\S]*)$/.exec(text);
  if (!match) throw new Error(`not an EBNF production: ${text.trim()}`);
  return { name: match[1]!, body: normaliseWhitespace(match[2]!) };
}

/** Collapses whitespace outside quotes, so layout never counts as drift. */
function normaliseWhitespace(body: string): string {
  let out = "";
  let i = 0;
  while (i < body.length) {
    const ch = body[i]!;
    if (ch === '"' || ch === "'" || ch === "?") {
      const end = body.indexOf(ch, i + 1);
      out += body.slice(i, end + 1);
      i = end + 1;
    } else if (/\s/.test(ch)) {
      if (out && !out.endsWith(" ")) out += " ";
      i++;
    } else {
      out += ch;
      i++;
    }
  }
  return out.trim();
}

/** A chevrotain rule as written in the parser source: the rule name and its doc-comment production. */
export interface DocumentedRule {
  readonly rule: string;
  readonly production?: Production;
}

/**
 * Finds every `name = this.RULE("name", ...)` in the parser source with the doc comment right
 * above it. Reading the source rather than the running parser is the point: chevrotain keeps no
 * comments, and the comments are what drift.
 */
export function extractParserProductions(parserSource: string): DocumentedRule[] {
  const rules: DocumentedRule[] = [];
  const rulePattern = /(?:\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*)?(\w+)\s*=\s*this\.RULE\(\s*"(\w+)"/g;
  for (const match of parserSource.matchAll(rulePattern)) {
    const doc = match[1];
    const rule = match[3]!;
    if (doc === undefined) {
      rules.push({ rule });
      continue;
    }
    const text = doc
      .split("\n")
      .map((line) => line.replace(/^\s*\*\s?/, ""))
      .join("\n");
    const end = text.indexOf(";");
    rules.push(end < 0 ? { rule } : { rule, production: parseEbnf(text.slice(0, end + 1))[0]! });
  }
  return rules;
}

/** Nonterminals a production body names (identifiers outside quotes and special sequences). */
function referencedNames(body: string): string[] {
  return [...body.replace(/"[^"]*"|'[^']*'|\?[^?]*\?/g, " ").matchAll(/[A-Za-z_]\w*/g)].map((m) => m[0]);
}

/** Quoted terminals a production body uses. */
function terminals(body: string): string[] {
  return [...body.matchAll(/"([^"]*)"|'([^']*)'/g)].map((m) => m[1] ?? m[2]!);
}

/**
 * The literal text a token matches when its pattern is a fixed string (`->`, `\{`, `import`),
 * or undefined for real regular expressions (names, numbers, strings, comments).
 */
export function fixedTokenText(token: TokenType): string | undefined {
  const pattern = token.PATTERN;
  if (!(pattern instanceof RegExp)) return typeof pattern === "string" ? pattern : undefined;
  if (!/^(?:\\.|[^\\.*+?()[\]{}|^$])+$/.test(pattern.source)) return undefined;
  return pattern.source.replace(/\\(.)/g, "$1");
}

export interface GrammarSources {
  /** Text of grammar/parser.ts. */
  readonly parserSource: string;
  /** Text of grammar/vnet.ebnf. */
  readonly referenceEbnf: string;
  /** Rule names in the order the parser defines them (`getGAstProductions()` keys). */
  readonly ruleNames: readonly string[];
  /** The keyword tokens of grammar/tokens.ts. */
  readonly keywords: readonly TokenType[];
  /** Every token of grammar/tokens.ts. */
  readonly tokens: readonly TokenType[];
}

/**
 * Every disagreement between the parser, its doc comments and grammar/vnet.ebnf, as readable
 * lines; empty when they agree. Checked: each rule has a production named after it, in the same
 * order; the reference repeats those productions verbatim (up to whitespace) and in that order;
 * its `keyword` production lists exactly the keyword tokens; every fixed-text token appears in it;
 * every nonterminal it uses is defined; every terminal of the syntax is a real token.
 */
export function grammarDrift(sources: GrammarSources): string[] {
  const problems: string[] = [];
  const documented = extractParserProductions(sources.parserSource);
  const documentedNames = documented.map((d) => d.rule);
  if (documentedNames.join(" ") !== sources.ruleNames.join(" ")) {
    problems.push(
      `grammar/parser.ts: RULE definitions found in the source (${documentedNames.join(", ")}) differ from the parser's rules (${sources.ruleNames.join(", ")})`,
    );
  }
  const fromParser: Production[] = [];
  for (const { rule, production } of documented) {
    if (!production) problems.push(`grammar/parser.ts: rule \`${rule}\` has no EBNF doc comment`);
    else if (production.name !== rule) problems.push(`grammar/parser.ts: the doc comment of rule \`${rule}\` defines \`${production.name}\``);
    else fromParser.push(production);
  }

  let reference: Production[];
  try {
    reference = parseEbnf(sources.referenceEbnf);
  } catch (error) {
    return [...problems, `grammar/vnet.ebnf: ${(error as Error).message}`];
  }
  const ruleSet = new Set(sources.ruleNames);
  const syntactic = reference.filter((p) => ruleSet.has(p.name));
  const expected = fromParser.map(formatProduction);
  const actual = syntactic.map(formatProduction);
  for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
    if (expected[i] !== actual[i]) {
      problems.push(
        `grammar/vnet.ebnf production ${i + 1} differs from grammar/parser.ts:\n  parser:    ${expected[i] ?? "(none)"}\n  vnet.ebnf: ${actual[i] ?? "(none)"}`,
      );
    }
  }

  const defined = new Map<string, number>();
  for (const p of reference) defined.set(p.name, (defined.get(p.name) ?? 0) + 1);
  for (const [name, count] of defined) if (count > 1) problems.push(`grammar/vnet.ebnf: \`${name}\` is defined ${count} times`);
  for (const p of reference) {
    for (const name of referencedNames(p.body)) {
      if (!defined.has(name)) problems.push(`grammar/vnet.ebnf: \`${p.name}\` uses \`${name}\`, which no production defines`);
    }
  }

  const keywordTexts = sources.keywords.map((k) => fixedTokenText(k)!);
  const keywordProduction = reference.find((p) => p.name === "keyword");
  if (!keywordProduction) problems.push("grammar/vnet.ebnf: no `keyword` production");
  else {
    const listed = terminals(keywordProduction.body);
    if ([...listed].sort().join(" ") !== [...keywordTexts].sort().join(" ")) {
      problems.push(`grammar/vnet.ebnf: \`keyword\` lists ${listed.join(" ")}; grammar/tokens.ts has ${keywordTexts.join(" ")}`);
    }
  }

  const allTerminals = new Set(reference.flatMap((p) => terminals(p.body)));
  const tokenTexts = new Set<string>();
  for (const token of sources.tokens) {
    const text = fixedTokenText(token);
    if (text === undefined) continue;
    tokenTexts.add(text);
    if (!allTerminals.has(text)) problems.push(`grammar/vnet.ebnf: token ${token.name} ("${text}") appears in no production`);
  }
  for (const p of syntactic) {
    for (const text of terminals(p.body)) {
      if (!tokenTexts.has(text)) problems.push(`grammar/vnet.ebnf: \`${p.name}\` uses "${text}", which is not a token of grammar/tokens.ts`);
    }
  }
  return problems;
}
