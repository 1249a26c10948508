/**
 * The .vnet grammar as a chevrotain CstParser. Pure: rules build a concrete syntax tree and carry
 * no semantic actions. Each rule states its EBNF production; `grammar/vnet.ebnf` collects them.
 */
import { CstParser, type IParserErrorMessageProvider } from "chevrotain";
import * as T from "./tokens.js";

export class VnetParser extends CstParser {
  constructor(errorMessageProvider?: IParserErrorMessageProvider) {
    // Nodes carry start and end offsets: the AST's ranges are offsets, and lines and columns are
    // computed from them in one place (src/diagnostics/location.ts).
    super(T.allTokens, {
      recoveryEnabled: true,
      nodeLocationTracking: "onlyOffset",
      maxLookahead: 3,
      ...(errorMessageProvider ? { errorMessageProvider } : {}),
    });
    this.performSelfAnalysis();
  }

  /** file = { importDecl | blockDecl | networkDecl | binding } ; */
  file = this.RULE("file", () => {
    this.MANY(() => {
      this.OR([
        { ALT: () => this.SUBRULE(this.importDecl) },
        { ALT: () => this.SUBRULE(this.blockDecl) },
        { ALT: () => this.SUBRULE(this.networkDecl) },
        { ALT: () => this.SUBRULE(this.binding) },
      ]);
    });
  });

  /** importDecl = "import" "{" Identifier { "," Identifier } [","] "}" "from" String ; */
  importDecl = this.RULE("importDecl", () => {
    this.CONSUME(T.Import);
    this.CONSUME(T.LCurly);
    this.CONSUME(T.Identifier);
    this.MANY({
      GATE: () => this.LA(2).tokenType === T.Identifier,
      DEF: () => {
        this.CONSUME(T.Comma);
        this.CONSUME2(T.Identifier);
      },
    });
    this.OPTION(() => this.CONSUME2(T.Comma));
    this.CONSUME(T.RCurly);
    this.CONSUME(T.From);
    this.CONSUME(T.StringLiteral);
  });

  /** blockDecl = "block" Identifier "(" [ param { "," param } ] ")" body ; */
  blockDecl = this.RULE("blockDecl", () => {
    this.CONSUME(T.Block);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.param) });
    this.CONSUME(T.RParen);
    this.SUBRULE(this.body);
  });

  /** param = Identifier [ "=" expression ] ; */
  param = this.RULE("param", () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.Equals);
      this.SUBRULE(this.expression);
    });
  });

  /** networkDecl = "network" Identifier body ; */
  networkDecl = this.RULE("networkDecl", () => {
    this.CONSUME(T.Network);
    this.CONSUME(T.Identifier);
    this.SUBRULE(this.body);
  });

  /** body = "{" { statement } "}" ; */
  body = this.RULE("body", () => {
    this.CONSUME(T.LCurly);
    this.MANY(() => this.SUBRULE(this.statement));
    this.CONSUME(T.RCurly);
  });

  /** statement = inputDecl | streamDecl | outputDecl | inflateDecl | binding | section ; */
  statement = this.RULE("statement", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.inputDecl) },
      { ALT: () => this.SUBRULE(this.streamDecl) },
      { ALT: () => this.SUBRULE(this.outputDecl) },
      { ALT: () => this.SUBRULE(this.inflateDecl) },
      { ALT: () => this.SUBRULE(this.binding) },
      { ALT: () => this.SUBRULE(this.section) },
    ]);
  });

  /** inputDecl = "input" Identifier [ "=" expression ] ; */
  inputDecl = this.RULE("inputDecl", () => {
    this.CONSUME(T.Input);
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.Equals);
      this.SUBRULE(this.expression);
    });
  });

  /** streamDecl = "stream" Identifier "=" expression ; */
  streamDecl = this.RULE("streamDecl", () => {
    this.CONSUME(T.Stream);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expression);
  });

  /** outputDecl = "output" expression { "," expression } ; */
  outputDecl = this.RULE("outputDecl", () => {
    this.CONSUME(T.Output);
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expression) });
  });

  /** inflateDecl = "inflate" Identifier "{" { ( binding | rule ) [ "," ] } "}" ; */
  inflateDecl = this.RULE("inflateDecl", () => {
    this.CONSUME(T.Inflate);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.LCurly);
    this.MANY(() => {
      this.OR([{ ALT: () => this.SUBRULE(this.binding) }, { ALT: () => this.SUBRULE(this.rule) }]);
      this.OPTION(() => this.CONSUME(T.Comma));
    });
    this.CONSUME(T.RCurly);
  });

  /** rule = String "{" { binding [ "," ] } "}" ; */
  rule = this.RULE("rule", () => {
    this.CONSUME(T.StringLiteral);
    this.CONSUME(T.LCurly);
    this.MANY(() => {
      this.SUBRULE(this.binding);
      this.OPTION(() => this.CONSUME(T.Comma));
    });
    this.CONSUME(T.RCurly);
  });

  /** binding = Identifier { "," Identifier } "=" expression ; */
  binding = this.RULE("binding", () => {
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.CONSUME(T.Identifier) });
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expression);
  });

  /** section = Identifier "{" { ( binding | section ) [ "," ] } "}" ; */
  section = this.RULE("section", () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.LCurly);
    this.MANY(() => {
      this.OR([{ ALT: () => this.SUBRULE(this.binding) }, { ALT: () => this.SUBRULE(this.section) }]);
      this.OPTION(() => this.CONSUME(T.Comma));
    });
    this.CONSUME(T.RCurly);
  });

  /** expression = conditional | chain ; */
  expression = this.RULE("expression", () => {
    this.OR([{ ALT: () => this.SUBRULE(this.conditional) }, { ALT: () => this.SUBRULE(this.chain) }]);
  });

  /** conditional = "if" expression "then" expression "else" expression ; */
  conditional = this.RULE("conditional", () => {
    this.CONSUME(T.If);
    this.SUBRULE(this.expression, { LABEL: "condition" });
    this.CONSUME(T.Then);
    this.SUBRULE2(this.expression, { LABEL: "whenTrue" });
    this.CONSUME(T.Else);
    this.SUBRULE3(this.expression, { LABEL: "whenFalse" });
  });

  /** chain = operation { "->" stage } ; */
  chain = this.RULE("chain", () => {
    this.SUBRULE(this.operation);
    this.MANY(() => {
      this.CONSUME(T.Arrow);
      this.SUBRULE(this.stage);
    });
  });

  /** pipeline = stage { "->" stage } ; */
  pipeline = this.RULE("pipeline", () => {
    this.SUBRULE(this.stage);
    this.MANY(() => {
      this.CONSUME(T.Arrow);
      this.SUBRULE2(this.stage);
    });
  });

  /** stage = ( forStage | callStage ) [ "as" Identifier ] ; */
  stage = this.RULE("stage", () => {
    this.OR([{ ALT: () => this.SUBRULE(this.forStage) }, { ALT: () => this.SUBRULE(this.callStage) }]);
    this.OPTION(() => {
      this.CONSUME(T.As);
      this.CONSUME(T.Identifier);
    });
  });

  /** forStage = "for" Identifier "in" sum ".." sum "{" pipeline "}" ; */
  forStage = this.RULE("forStage", () => {
    this.CONSUME(T.For);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.In);
    this.SUBRULE(this.sum, { LABEL: "from" });
    this.CONSUME(T.DotDot);
    this.SUBRULE2(this.sum, { LABEL: "to" });
    this.CONSUME(T.LCurly);
    this.SUBRULE(this.pipeline);
    this.CONSUME(T.RCurly);
  });

  /** callStage = Identifier [ "(" arguments ")" ] [ "{" pipeline "}" ] ; */
  callStage = this.RULE("callStage", () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.LParen);
      this.SUBRULE(this.arguments);
      this.CONSUME(T.RParen);
    });
    this.OPTION2(() => {
      this.CONSUME(T.LCurly);
      this.SUBRULE(this.pipeline);
      this.CONSUME(T.RCurly);
    });
  });

  /** arguments = [ argument { "," argument } [ "," ] ] ; */
  arguments = this.RULE("arguments", () => {
    this.OPTION(() => {
      this.SUBRULE(this.argument);
      this.MANY({
        GATE: () => this.LA(2).tokenType !== T.RParen,
        DEF: () => {
          this.CONSUME(T.Comma);
          this.SUBRULE2(this.argument);
        },
      });
      this.OPTION2(() => this.CONSUME2(T.Comma));
    });
  });

  /** argument = [ Identifier "=" ] expression ; */
  argument = this.RULE("argument", () => {
    this.OPTION({
      GATE: () => this.LA(2).tokenType === T.Equals,
      DEF: () => {
        this.CONSUME(T.Identifier);
        this.CONSUME(T.Equals);
      },
    });
    this.SUBRULE(this.expression);
  });

  /** operation = term { ( "or" | "and" ) term } ; */
  operation = this.RULE("operation", () => {
    this.SUBRULE(this.term);
    this.MANY(() => {
      this.OR([{ ALT: () => this.CONSUME(T.Or) }, { ALT: () => this.CONSUME(T.And) }]);
      this.SUBRULE2(this.term);
    });
  });

  /** term = "not" term | sum [ ( "==" | "!=" | "<" | "<=" | ">" | ">=" ) sum ] ; */
  term = this.RULE("term", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Not);
          this.SUBRULE(this.term);
        },
      },
      {
        ALT: () => {
          this.SUBRULE(this.sum);
          this.OPTION(() => {
            this.OR2([
              { ALT: () => this.CONSUME(T.EqEq) },
              { ALT: () => this.CONSUME(T.NotEq) },
              { ALT: () => this.CONSUME(T.LessEq) },
              { ALT: () => this.CONSUME(T.GreaterEq) },
              { ALT: () => this.CONSUME(T.Less) },
              { ALT: () => this.CONSUME(T.Greater) },
            ]);
            this.SUBRULE2(this.sum);
          });
        },
      },
    ]);
  });

  /** sum = unary { ( "+" | "-" | "*" | "/" | "%" ) unary } ; */
  sum = this.RULE("sum", () => {
    this.SUBRULE(this.unary);
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.Plus) },
        { ALT: () => this.CONSUME(T.Minus) },
        { ALT: () => this.CONSUME(T.Star) },
        { ALT: () => this.CONSUME(T.Slash) },
        { ALT: () => this.CONSUME(T.Percent) },
      ]);
      this.SUBRULE2(this.unary);
    });
  });

  /** unary = "-" unary | primary [ "**" unary ] ; */
  unary = this.RULE("unary", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Minus);
          this.SUBRULE(this.unary);
        },
      },
      {
        ALT: () => {
          this.SUBRULE(this.primary);
          this.OPTION(() => {
            this.CONSUME(T.StarStar);
            this.SUBRULE2(this.unary);
          });
        },
      },
    ]);
  });

  /** primary = ( Number | String | "true" | "false" | Identifier | list | "(" expression ")" ) { "(" arguments ")" | "[" expression "]" | "." Identifier } ; */
  primary = this.RULE("primary", () => {
    this.OR([
      { ALT: () => this.CONSUME(T.NumberLiteral) },
      { ALT: () => this.CONSUME(T.StringLiteral) },
      { ALT: () => this.CONSUME(T.True) },
      { ALT: () => this.CONSUME(T.False) },
      { ALT: () => this.CONSUME(T.Identifier) },
      { ALT: () => this.SUBRULE(this.list) },
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.SUBRULE(this.expression);
          this.CONSUME(T.RParen);
        },
      },
    ]);
    // Suffixes, labelled apart from the value they follow: a call, an index, a member.
    this.MANY(() => {
      this.OR2([
        {
          ALT: () => {
            this.CONSUME2(T.LParen, { LABEL: "callOpen" });
            this.SUBRULE(this.arguments);
            this.CONSUME2(T.RParen, { LABEL: "callClose" });
          },
        },
        {
          ALT: () => {
            this.CONSUME(T.LBracket);
            this.SUBRULE2(this.expression, { LABEL: "index" });
            this.CONSUME(T.RBracket);
          },
        },
        {
          ALT: () => {
            this.CONSUME(T.Dot);
            this.CONSUME2(T.Identifier, { LABEL: "member" });
          },
        },
      ]);
    });
  });

  /** list = "[" [ expression { "," expression } [ "," ] ] "]" ; */
  list = this.RULE("list", () => {
    this.CONSUME(T.LBracket);
    this.OPTION(() => {
      this.SUBRULE(this.expression);
      this.MANY({
        GATE: () => this.LA(2).tokenType !== T.RBracket,
        DEF: () => {
          this.CONSUME(T.Comma);
          this.SUBRULE2(this.expression);
        },
      });
      this.OPTION2(() => this.CONSUME2(T.Comma));
    });
    this.CONSUME(T.RBracket);
  });
}
