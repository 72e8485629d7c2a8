// The reference side of the tokenizer parity tests: js-tiktoken (tiktoken's encodings in JavaScript).
// Usage: node reference.mjs requests.json responses.json
// Each request is one of
//   { "op": "encode", "encoding": "gpt2", "text": "...", "allowedSpecial": [..]|"all", "disallowedSpecial": [..]|"all" }
//   { "op": "split",  "encoding": "gpt2", "text": "..." }      -> the pre-tokens of the encoding's pattern
//   { "op": "decode", "encoding": "gpt2", "ids": [..] }
//   { "op": "ranks",  "encoding": "cl100k_base", "path": "..." } -> writes the ranks as a .tiktoken file
// and its response is { "tokens": [..] } | { "pieces": [..] } | { "text": ".." } | { "pattern": "..", "special": {..} } | { "error": ".." }.
import { readFileSync, writeFileSync } from "node:fs";
import { getEncoding } from "js-tiktoken";

const [requestsPath, responsesPath] = process.argv.slice(2);
const requests = JSON.parse(readFileSync(requestsPath, "utf8"));
const encodings = new Map();
const encoding = (name) => {
  if (!encodings.has(name)) encodings.set(name, getEncoding(name));
  return encodings.get(name);
};

const responses = requests.map((request) => {
  const enc = encoding(request.encoding);
  try {
    switch (request.op) {
      case "encode":
        return { tokens: enc.encode(request.text, request.allowedSpecial ?? [], request.disallowedSpecial ?? "all") };
      case "split":
        return { pieces: [...request.text.matchAll(new RegExp(enc.patStr, "ug"))].map((m) => m[0]) };
      case "decode":
        return { text: enc.decode(request.ids) };
      case "ranks": {
        // textMap holds rank -> bytes; write them in tiktoken's file format, in rank order.
        const lines = [...enc.textMap.entries()]
          .sort((a, b) => a[0] - b[0])
          .map(([rank, bytes]) => `${Buffer.from(bytes).toString("base64")} ${rank}`);
        writeFileSync(request.path, lines.join("\n") + "\n");
        return { pattern: enc.patStr, special: enc.specialTokens };
      }
      default:
        return { error: `unknown op ${request.op}` };
    }
  } catch (e) {
    return { error: String(e.message ?? e) };
  }
});
writeFileSync(responsesPath, JSON.stringify(responses));
