/** A small TypeScript highlighter, line by line: enough for a readable review, not a parser. */

export type TokenKind = "comment" | "string" | "keyword" | "number" | "type" | "function" | "plain";

export interface Token {
  kind: TokenKind;
  text: string;
}

const KEYWORDS = new Set([
  "as",
  "async",
  "await",
  "break",
  "case",
  "catch",
  "const",
  "continue",
  "else",
  "export",
  "extends",
  "false",
  "for",
  "from",
  "function",
  "if",
  "import",
  "interface",
  "let",
  "new",
  "null",
  "of",
  "return",
  "throw",
  "true",
  "try",
  "type",
  "undefined",
  "while",
]);

const BUILTIN_TYPES = new Set(["boolean", "number", "string", "unknown", "void", "never", "any"]);

// One alternative per token kind; the first group that matches wins.
const TOKEN =
  /(\/\/.*$|\/\*.*?\*\/)|("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`)|(\b\d[\d_]*(?:\.\d+)?\b)|([A-Za-z_$][\w$]*)/g;

export function highlightLine(line: string): Token[] {
  const tokens: Token[] = [];
  let last = 0;
  for (const match of line.matchAll(TOKEN)) {
    const index = match.index ?? 0;
    if (index > last) tokens.push({ kind: "plain", text: line.slice(last, index) });
    const [text, comment, str, num, word] = match;
    let kind: TokenKind = "plain";
    if (comment) kind = "comment";
    else if (str) kind = "string";
    else if (num) kind = "number";
    else if (word) {
      if (KEYWORDS.has(word)) kind = "keyword";
      else if (BUILTIN_TYPES.has(word) || /^[A-Z]/.test(word)) kind = "type";
      else if (
        line[index + word.length] === "(" ||
        line.slice(index + word.length).startsWith("<T>(")
      )
        kind = "function";
    }
    tokens.push({ kind, text });
    last = index + text.length;
  }
  if (last < line.length) tokens.push({ kind: "plain", text: line.slice(last) });
  return tokens;
}
