// Says where a text stops being JSON without quoting any of it: V8's SyntaxError messages copy
// the text around the fault, which may be a password or a token.

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPE = /["\\/bfnrt]|u[0-9A-Fa-f]{4}/y;

export interface JsonErrorOptions {
  // Also accept the bare Infinity/-Infinity/NaN values the agent's RapidJSON writer emits.
  readonly bareNumbers?: boolean;
}

// "invalid JSON at byte 22 of 40" or "JSON ended early, after 40 bytes"; never the bytes.
export function describeJsonError(text: string, options: JsonErrorOptions = {}): string {
  const size = Buffer.byteLength(text, 'utf8');
  const index = jsonErrorIndex(text, options);
  if (index === undefined) return `invalid JSON (${size} bytes)`;
  if (index >= text.length) return `JSON ended early, after ${size} bytes`;
  return `invalid JSON at byte ${Buffer.byteLength(text.slice(0, index), 'utf8')} of ${size}`;
}

// Index of the first character at which `text` stops being one JSON value (text.length when it
// ends early), or undefined when it is valid. Iterative: nesting depth costs no stack.
export function jsonErrorIndex(text: string, options: JsonErrorOptions = {}): number | undefined {
  const closers: string[] = [];
  let i = 0;
  const space = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  // On success `i` is past the string; on failure at the offending character.
  const string = (): boolean => {
    if (text[i] !== '"') return false;
    for (i++; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code === 0x22) {
        i++;
        return true;
      }
      if (code < 0x20) return false;
      if (code === 0x5c) {
        ESCAPE.lastIndex = i + 1;
        if (!ESCAPE.test(text)) {
          i += 1;
          return false;
        }
        i = ESCAPE.lastIndex - 1;
      }
    }
    return false;
  };
  const key = (): boolean => {
    space();
    if (!string()) return false;
    space();
    if (text[i] !== ':') return false;
    i++;
    return true;
  };
  const literal = (): boolean => {
    const words = options.bareNumbers ? ['true', 'false', 'null', 'Infinity', '-Infinity', 'NaN'] : ['true', 'false', 'null'];
    const word = words.find((candidate) => text.startsWith(candidate, i));
    if (word !== undefined) {
      i += word.length;
      return true;
    }
    NUMBER.lastIndex = i;
    if (!NUMBER.test(text)) return false;
    i = NUMBER.lastIndex;
    return true;
  };

  for (;;) {
    // A value is expected here.
    space();
    const c = text[i];
    if (c === '{' || c === '[') {
      i++;
      space();
      if (text[i] === (c === '{' ? '}' : ']')) {
        i++;
      } else {
        closers.push(c === '{' ? '}' : ']');
        if (c === '{' && !key()) return i;
        continue;
      }
    } else if (c === '"') {
      if (!string()) return i;
    } else if (!literal()) {
      return i;
    }
    // After a value: a separator, the end of a container, or the end of the text.
    for (;;) {
      space();
      const closer = closers.at(-1);
      if (closer === undefined) return i < text.length ? i : undefined;
      if (text[i] === closer) {
        i++;
        closers.pop();
        continue;
      }
      if (text[i] !== ',') return i;
      i++;
      if (closer === '}' && !key()) return i;
      break;
    }
  }
}
