// Zapier: a catch hook takes any JSON object (or an array of them, one
// run each) and publishes no schema beyond that; this is all there is to
// check.
"use strict";

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

exports.check = (payload) => {
  const items = Array.isArray(payload) ? payload : [payload];
  if (items.length === 0) return ["an empty array starts no Zap"];
  return items.flatMap((item, i) => (isObject(item) ? [] : [`[${i}]: not a JSON object`]));
};
