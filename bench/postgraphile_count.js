// Preloaded into PostGraphile by bench/pg.py (`node -r`): counts every query node-postgres
// sends, by text, and writes the counts to $BENCH_COUNT_FILE on SIGUSR2 (then clears them).
"use strict";
const fs = require("fs");
const path = require("path");
const pg = require(path.join(__dirname, ".node", "node_modules", "pg"));

const counts = {};
// Keys by text, remembered (as bench/pg_count.py does): counting must not cost what it counts.
const keys = new Map();
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (config, ...rest) {
  const text = typeof config === "string" ? config : (config && config.text) || "";
  let key = keys.get(text);
  if (key === undefined) {
    key = text.split(/\s+/).join(" ").trim().slice(0, 80);
    if (keys.size < 256) keys.set(text, key);
  }
  counts[key] = (counts[key] || 0) + 1;
  return query.call(this, config, ...rest);
};
process.on("SIGUSR2", () => {
  fs.writeFileSync(process.env.BENCH_COUNT_FILE, JSON.stringify(counts));
  for (const key of Object.keys(counts)) delete counts[key];
});
