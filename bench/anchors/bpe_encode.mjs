// Anchor of the bpe-encode benchmark: js-tiktoken's GPT-2 encoding of a text file, in MB/s.
// Usage: node bench/anchors/bpe_encode.mjs FILE [REPEATS]
// js-tiktoken is the package pinned for the parity tests (npm ci --prefix tests/tokenizer-parity).
// Prints the token count, then the best throughput (UTF-8 megabytes per second) as its last line.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const require = createRequire(join(root, "tests", "tokenizer-parity", "package.json"));
const { getEncoding } = require("js-tiktoken");

const [file, repeatsArg] = process.argv.slice(2);
const text = readFileSync(file, "utf8");
const megabytes = Buffer.byteLength(text, "utf8") / 1e6;
const repeats = Number(repeatsArg ?? 3);

const encoding = getEncoding("gpt2");
let tokens = encoding.encode(text).length; // warm-up
let best = Infinity;
for (let i = 0; i < repeats; i++) {
  const start = process.hrtime.bigint();
  tokens = encoding.encode(text).length;
  best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
}
const version = JSON.parse(readFileSync(join(root, "tests", "tokenizer-parity", "node_modules", "js-tiktoken", "package.json"), "utf8")).version;
console.log(`js-tiktoken ${version}: ${tokens} tokens, best ${best.toFixed(3)} s over ${repeats} runs`);
console.log((megabytes / best).toFixed(3));
