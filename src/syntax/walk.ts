/** Generic AST walks shared by the scope provider, the static rules and the language server. */
import type * as A from "./ast.js";

/** `target.push(...items)` without spreading: a list of a million items is not a million arguments. */
function pushAll<T>(target: T[], items: readonly T[]): void {
  for (const item of items) target.push(item);
}

/**
 * Calls `visit` once for every stage (operator/block application) in an expression. Chains inside
 * arguments are reached by `forEachExpr`, so stage bodies are walked here without their arguments:
 * each stage is visited once however deeply chains nest.
 */
export function forEachStage(expr: A.Expr | undefined, visit: (stage: A.Stage) => void): void {
  if (!expr) return;
  forEachExpr(expr, (e) => {
    if (e.kind !== "Chain") return;
    const stack: A.Stage[] = [...e.stages];
    while (stack.length > 0) {
      const stage = stack.pop()!;
      visit(stage);
      pushAll(stack, stage.kind === "ForStage" ? stage.body : (stage.body ?? []));
    }
  });
}

/** Calls `visit` for every expression node, iteratively (deep left-nested arithmetic is fine). */
export function forEachExpr(root: A.Expr, visit: (e: A.Expr) => void): void {
  const stack: A.Expr[] = [root];
  while (stack.length > 0) {
    const e = stack.pop()!;
    visit(e);
    switch (e.kind) {
      case "List":
        pushAll(stack, e.items);
        break;
      case "Call":
        stack.push(e.callee);
        for (const a of e.args) stack.push(a.value);
        break;
      case "Index":
        stack.push(e.object, e.index);
        break;
      case "Member":
        stack.push(e.object);
        break;
      case "Unary":
        stack.push(e.operand);
        break;
      case "Binary":
        stack.push(e.left, e.right);
        break;
      case "If":
        stack.push(e.condition, e.whenTrue, e.whenFalse);
        break;
      case "Chain":
        stack.push(e.head);
        for (const s of e.stages) pushStageExprs(s, stack);
        break;
      case "Paren":
        stack.push(e.inner);
        break;
      default:
        break;
    }
  }
}

function pushStageExprs(stage: A.Stage, stack: A.Expr[]): void {
  if (stage.kind === "ForStage") {
    stack.push(stage.from, stage.to);
    for (const s of stage.body) pushStageExprs(s, stack);
  } else {
    for (const a of stage.args ?? []) stack.push(a.value);
    for (const s of stage.body ?? []) pushStageExprs(s, stack);
  }
}

/** Every expression directly held by a statement list (bindings, outputs, sections, params). */
export function statementExprs(statements: readonly A.Statement[]): A.Expr[] {
  const out: A.Expr[] = [];
  const section = (s: A.Section) => {
    for (const e of s.entries) {
      if (e.kind === "Binding") out.push(e.value);
      else section(e);
    }
  };
  for (const s of statements) {
    switch (s.kind) {
      case "Input":
        if (s.value) out.push(s.value);
        break;
      case "Stream":
      case "Binding":
        out.push(s.value);
        break;
      case "Output":
        pushAll(out, s.values);
        break;
      case "Section":
        section(s);
        break;
      case "Inflate":
        for (const e of s.entries) {
          if (e.kind === "Binding") out.push(e.value);
          else for (const b of e.bindings) out.push(b.value);
        }
        break;
    }
  }
  return out;
}

export function blockExprs(block: A.BlockDecl): A.Expr[] {
  return [...block.params.flatMap((p) => (p.defaultValue ? [p.defaultValue] : [])), ...statementExprs(block.body)];
}

/**
 * Like `forEachExpr`, also passing the loop stages each expression sits in (outermost first). A
 * loop's bounds sit outside it; its body's stages and their arguments inside.
 */
export function forEachExprInLoops(root: A.Expr, visit: (e: A.Expr, loops: readonly A.ForStage[]) => void, loops: readonly A.ForStage[] = []): void {
  const stack: { e: A.Expr; loops: readonly A.ForStage[] }[] = [{ e: root, loops }];
  const pushStage = (stage: A.Stage, around: readonly A.ForStage[]) => {
    if (stage.kind === "ForStage") {
      stack.push({ e: stage.from, loops: around }, { e: stage.to, loops: around });
      const inside = [...around, stage];
      for (const s of stage.body) pushStage(s, inside);
    } else {
      for (const a of stage.args ?? []) stack.push({ e: a.value, loops: around });
      for (const s of stage.body ?? []) pushStage(s, around);
    }
  };
  while (stack.length > 0) {
    const { e, loops: around } = stack.pop()!;
    visit(e, around);
    switch (e.kind) {
      case "List":
        for (const item of e.items) stack.push({ e: item, loops: around });
        break;
      case "Call":
        stack.push({ e: e.callee, loops: around });
        for (const a of e.args) stack.push({ e: a.value, loops: around });
        break;
      case "Index":
        stack.push({ e: e.object, loops: around }, { e: e.index, loops: around });
        break;
      case "Member":
        stack.push({ e: e.object, loops: around });
        break;
      case "Unary":
        stack.push({ e: e.operand, loops: around });
        break;
      case "Binary":
        stack.push({ e: e.left, loops: around }, { e: e.right, loops: around });
        break;
      case "If":
        stack.push({ e: e.condition, loops: around }, { e: e.whenTrue, loops: around }, { e: e.whenFalse, loops: around });
        break;
      case "Chain":
        stack.push({ e: e.head, loops: around });
        for (const s of e.stages) pushStage(s, around);
        break;
      case "Paren":
        stack.push({ e: e.inner, loops: around });
        break;
      default:
        break;
    }
  }
}

/** Names a file applies as stages (`-> basic(64)`) or inflates, anywhere in its blocks and networks. */
export function stageCalleeNames(ast: A.SpecFile): Set<string> {
  const names = new Set<string>();
  const collect = (e: A.Expr) =>
    forEachStage(e, (stage) => {
      if (stage.kind === "CallStage") names.add(stage.callee.name);
    });
  for (const item of ast.items) {
    if (item.kind === "Block") blockExprs(item).forEach(collect);
    else if (item.kind === "Network") {
      statementExprs(item.body).forEach(collect);
      for (const s of item.body) if (s.kind === "Inflate") names.add(s.source.name);
    }
  }
  return names;
}
